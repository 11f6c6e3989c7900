"""The appliance against a bare Litestar app on the same server, measured in one run.

Prints GET /fax/{id} requests/s and p99 at 32 connections, POST /fax (one-page PDF, durable)
requests/s, cold start to ready, and idle RSS, each with its ratio to the bare app. Load comes
from wrk (C, so the client takes little CPU from the server); the script installs Debian's
wrk if it is missing. The two servers take turns, in rounds, each burst starting once both are
idle (the appliance's dispatcher has finished the previous burst's jobs), and a ratio is the
median of the rounds' ratios: this machine's speed drifts by tens of percent within a minute,
and turns keep both servers on the same stretch of it.
Run: .venv/bin/python bench/appliance_bench.py [--seconds 10] [--rounds 3]

Targets: GET >= 50% of bare throughput, POST >= 30% of bare throughput, cold start <= 1.5x
bare, idle RSS < 80 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
FAXBOT = str(Path(sys.executable).with_name("faxbot"))
CONNECTIONS = 32
COLD_STARTS = 5  # cold start is the median of this many starts of each server


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def one_page_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Faxbot benchmark page")
    return bytes(pdf.output())


def prepare_appliance(root: Path) -> str:
    from faxbot.keys import new_key

    config = root / "config.d"
    shutil.copytree(REPO / "config.d", config)
    key = new_key("bench", ["fax:send", "fax:read"])
    (config / "90-bench.yaml").write_text(
        f"api_keys:\n  - id: bench\n    sha256: {key.entry['sha256']}\n"
        "    scopes: [fax:send, fax:read]\n"
        "providers:\n  outbound:\n    settings:\n      delay_seconds: 0.2\n"
    )
    subprocess.run([FAXBOT, "config", "compile"], cwd=root, check=True, capture_output=True)
    return key.token


def start(command: list[str], cwd: Path, port: int) -> tuple[subprocess.Popen[bytes], float]:
    """Start a server; returns it and the seconds from spawn to /health/ready answering 200."""
    log = (cwd / f"server-{port}.log").open("wb")
    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return process, time.perf_counter() - began
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.perf_counter() - began > 30:
            raise SystemExit(f"server did not start: {command}")
        time.sleep(0.005)


def cold_starts(
    root: Path, ours: list[str], ours_port: int, bare: list[str], bare_port: int
) -> tuple[float, float]:
    """Median seconds to ready of each server, started alternately, each time on a new
    database (the appliance migrates it), so both see the same machine state."""
    ours_times: list[float] = []
    bare_times: list[float] = []
    for _ in range(COLD_STARTS):
        for command, port, times in ((ours, ours_port, ours_times), (bare, bare_port, bare_times)):
            shutil.rmtree(root / "data", ignore_errors=True)
            process, seconds = start(command, root, port)
            times.append(seconds)
            process.terminate()
            process.wait(20)
    return statistics.median(ours_times), statistics.median(bare_times)


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (the appliance's local storage runs a file worker)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = (task / "children").read_text().split()
            queue.extend(int(child) for child in children)
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of the process and its children, MB."""
    total = 0
    for member in process_tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds the process and its children (all threads) have used."""
    ticks = os.sysconf("SC_CLK_TCK")
    user = system = 0
    for member in process_tree(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        user, system = user + int(fields[11]), system + int(fields[12])
    return user / ticks, system / ticks


def wrk(
    wrk_bin: str, url: str, seconds: int, headers: dict[str, str], script: Path | None = None
) -> tuple[float, float]:
    """requests/s and p99 latency (ms)."""
    command = [wrk_bin, "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(\w+)", output).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non2xx:
        raise SystemExit(f"{non2xx.group(1)} failed requests against {url}:\n{output}")
    return rps, p99


def post_script(root: Path, token: str | None) -> Path:
    boundary = "faxbotbench"
    pdf = one_page_pdf()
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="to"\r\n\r\n+12025550143\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + pdf
        + f"\r\n--{boundary}--\r\n".encode()
    )
    lua_body = "".join(f"\\{b:03d}" for b in body)
    headers = f'wrk.headers["Content-Type"] = "multipart/form-data; boundary={boundary}"\n'
    if token:
        headers += f'wrk.headers["X-API-Key"] = "{token}"\n'
    script = root / f"post-{'auth' if token else 'bare'}.lua"
    script.write_text(f'wrk.method = "POST"\n{headers}wrk.body = "{lua_body}"\n')
    return script


@dataclass
class Paired:
    """Rounds of load on the bare app and on the appliance, taking turns."""

    bare: list[tuple[float, float]] = field(default_factory=list)  # (requests/s, p99 ms)
    ours: list[tuple[float, float]] = field(default_factory=list)
    bare_cpu: tuple[float, float] = (0.0, 0.0)  # user, kernel ms per request
    ours_cpu: tuple[float, float] = (0.0, 0.0)

    @property
    def ratios(self) -> list[float]:
        return [o[0] / b[0] for o, b in zip(self.ours, self.bare, strict=True)]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def ours_rps(self) -> float:
        return statistics.median(r for r, _ in self.ours)

    @property
    def bare_rps(self) -> float:
        return statistics.median(r for r, _ in self.bare)

    @property
    def ours_p99(self) -> float:
        return statistics.median(p for _, p in self.ours)

    @property
    def bare_p99(self) -> float:
        return statistics.median(p for _, p in self.bare)


Side = tuple["subprocess.Popen[bytes]", int, str, dict[str, str], Path | None]


def settle(pid: int, limit: float = 60.0) -> None:
    """Wait until the process tree is idle (under 5% of a core over 0.5 s): the appliance's
    dispatcher finishes the jobs of a burst before the next burst, on either server, starts."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = sum(cpu_seconds(pid))
        time.sleep(0.5)
        if sum(cpu_seconds(pid)) - before < 0.025:
            return


def paired(wrk_bin: str, args: argparse.Namespace, bare: Side, ours: Side) -> Paired:
    """`args.rounds` rounds of `args.seconds` s of load on each server, bare first in each
    round. CPU per request is summed over all rounds, for the process and its children, and
    includes what the appliance spends after a burst to finish dispatching its jobs."""
    result = Paired()
    cpu: dict[str, list[float]] = {"bare": [0.0, 0.0, 0.0], "ours": [0.0, 0.0, 0.0]}
    for _ in range(args.rounds):
        for label, (process, port, path, headers, script) in (("bare", bare), ("ours", ours)):
            settle(process.pid)
            before = cpu_seconds(process.pid)
            rps, p99 = wrk(wrk_bin, f"http://127.0.0.1:{port}{path}", args.seconds, headers, script)
            settle(process.pid)  # the CPU counted includes finishing the burst's jobs
            after = cpu_seconds(process.pid)
            totals = cpu[label]
            totals[0] += after[0] - before[0]
            totals[1] += after[1] - before[1]
            totals[2] += rps * args.seconds
            getattr(result, label).append((rps, p99))
    for label in ("bare", "ours"):
        user, kernel, requests = cpu[label]
        setattr(result, f"{label}_cpu", (user * 1000 / requests, kernel * 1000 / requests))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="seconds of load per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per measure")
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=["debug", "info", "warning", "error"],
        help="the appliance's log level (info logs four lines per fax; the bare app logs none)",
    )
    args = parser.parse_args()
    wrk_bin = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="faxbot-bench-") as tmp:
        root = Path(tmp)
        token = prepare_appliance(root)
        ours_port, bare_port = free_port(), free_port()
        ours, _ = start(
            [FAXBOT, "serve", "--port", str(ours_port), "--log-level", args.log_level],
            root,
            ours_port,
        )
        bare, _ = start(
            [sys.executable, str(REPO / "bench" / "bare_app.py"), str(bare_port)], root, bare_port
        )
        try:
            time.sleep(1)
            ours_rss, bare_rss = rss_mb(ours.pid), rss_mb(bare.pid)
            auth = {"X-API-Key": token}
            pdf = one_page_pdf()
            job = httpx.post(
                f"http://127.0.0.1:{ours_port}/fax",
                headers=auth,
                data={"to": "+12025550143"},
                files={"file": ("p.pdf", pdf)},
            ).json()
            while httpx.get(f"http://127.0.0.1:{ours_port}/fax/{job['id']}", headers=auth).json()[
                "status"
            ] not in ("SUCCESS", "FAILED"):
                time.sleep(0.1)
            get_url = f"/fax/{job['id']}"
            gets = paired(
                wrk_bin, args, (bare, bare_port, get_url, {}, None),
                (ours, ours_port, get_url, auth, None),
            )  # fmt: skip
            posts = paired(
                wrk_bin, args, (bare, bare_port, "/fax", {}, post_script(root, None)),
                (ours, ours_port, "/fax", {}, post_script(root, token)),
            )  # fmt: skip
        finally:
            for process in (ours, bare):
                process.terminate()
                process.wait(20)
        ours_cold, bare_cold = cold_starts(
            root,
            [FAXBOT, "serve", "--port", str(ours_port), "--log-level", args.log_level],
            ours_port,
            [sys.executable, str(REPO / "bench" / "bare_app.py"), str(bare_port)],
            bare_port,
        )
    rows = [
        ("GET /fax/{id} requests/s (32 conn)", gets.ours_rps, gets.bare_rps, ">= 0.50"),
        ("GET /fax/{id} p99 ms", gets.ours_p99, gets.bare_p99, ""),
        ("POST /fax requests/s (1-page PDF)", posts.ours_rps, posts.bare_rps, ">= 0.30"),
        ("POST /fax p99 ms", posts.ours_p99, posts.bare_p99, ""),
        (
            "POST /fax CPU ms per request",
            sum(posts.ours_cpu),
            sum(posts.bare_cpu),
            "(all processes)",
        ),
        ("  of it in the kernel", posts.ours_cpu[1], posts.bare_cpu[1], ""),
        (f"cold start to ready, s (median of {COLD_STARTS})", ours_cold, bare_cold, "<= 1.5"),
        ("idle RSS, MB", ours_rss, bare_rss, "ours < 80 MB"),
    ]
    print(
        f"requests/s are medians of {args.rounds} rounds of {args.seconds} s, the two servers "
        "taking turns; the ratios are medians of the rounds' ratios"
    )
    print(f"{'measure':<38}{'appliance':>12}{'bare':>12}{'ratio':>9}  target")
    ratios = {
        "GET /fax/{id} requests/s (32 conn)": gets,
        "POST /fax requests/s (1-page PDF)": posts,
    }
    for name, ours_value, bare_value, target in rows:
        load = ratios.get(name)
        ratio = load.ratio if load else ours_value / bare_value if bare_value else float("nan")
        print(f"{name:<38}{ours_value:>12.2f}{bare_value:>12.2f}{ratio:>9.2f}  {target}")
        if load:
            print(f"{'  ratio in each round':<62}{' '.join(f'{r:.2f}' for r in load.ratios)}")
    print(
        json.dumps(
            {
                "get": asdict(gets),
                "post": asdict(posts),
                "cold": [ours_cold, bare_cold],
                "rss_mb": [ours_rss, bare_rss],
            }
        )
    )


if __name__ == "__main__":
    main()
