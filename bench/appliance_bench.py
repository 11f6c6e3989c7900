"""The appliance against a bare Litestar app on the same server, measured in one run.

Prints GET /fax/{id} requests/s and p99 at 32 connections, POST /fax (one-page PDF, durable)
requests/s, cold start to ready, and idle RSS, each with its ratio to the bare app. Load comes
from wrk (C, so the client takes little CPU from the server); the script installs Debian's
wrk if it is missing. Run: .venv/bin/python bench/appliance_bench.py [--seconds 10]

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


def per_request(
    before: tuple[float, float], after: tuple[float, float], requests: float
) -> tuple[float, float]:
    """User and system CPU milliseconds per request between two `cpu_seconds` readings."""
    return (
        (after[0] - before[0]) * 1000 / requests,
        (after[1] - before[1]) * 1000 / requests,
    )


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    wrk_bin = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="faxbot-bench-") as tmp:
        root = Path(tmp)
        token = prepare_appliance(root)
        ours_port, bare_port = free_port(), free_port()
        ours, _ = start(
            [FAXBOT, "serve", "--port", str(ours_port), "--log-level", "warning"], root, ours_port
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
            bare_get = wrk(
                wrk_bin, f"http://127.0.0.1:{bare_port}/fax/{job['id']}", args.seconds, {}
            )
            ours_get = wrk(
                wrk_bin, f"http://127.0.0.1:{ours_port}/fax/{job['id']}", args.seconds, auth
            )
            before = cpu_seconds(bare.pid)
            bare_post = wrk(
                wrk_bin,
                f"http://127.0.0.1:{bare_port}/fax",
                args.seconds,
                {},
                post_script(root, None),
            )
            bare_cpu = per_request(before, cpu_seconds(bare.pid), bare_post[0] * args.seconds)
            before = cpu_seconds(ours.pid)
            ours_post = wrk(
                wrk_bin,
                f"http://127.0.0.1:{ours_port}/fax",
                args.seconds,
                {},
                post_script(root, token),
            )
            ours_cpu = per_request(before, cpu_seconds(ours.pid), ours_post[0] * args.seconds)
        finally:
            for process in (ours, bare):
                process.terminate()
                process.wait(20)
        ours_cold, bare_cold = cold_starts(
            root,
            [FAXBOT, "serve", "--port", str(ours_port), "--log-level", "warning"],
            ours_port,
            [sys.executable, str(REPO / "bench" / "bare_app.py"), str(bare_port)],
            bare_port,
        )
    rows = [
        ("GET /fax/{id} requests/s (32 conn)", ours_get[0], bare_get[0], ">= 0.50"),
        ("GET /fax/{id} p99 ms", ours_get[1], bare_get[1], ""),
        ("POST /fax requests/s (1-page PDF)", ours_post[0], bare_post[0], ">= 0.30"),
        ("POST /fax p99 ms", ours_post[1], bare_post[1], ""),
        ("POST /fax CPU ms per request", sum(ours_cpu), sum(bare_cpu), "(all processes)"),
        ("  of it in the kernel", ours_cpu[1], bare_cpu[1], ""),
        (f"cold start to ready, s (median of {COLD_STARTS})", ours_cold, bare_cold, "<= 1.5"),
        ("idle RSS, MB", ours_rss, bare_rss, "ours < 80 MB"),
    ]
    print(f"{'measure':<38}{'appliance':>12}{'bare':>12}{'ratio':>9}  target")
    for name, ours_value, bare_value, target in rows:
        ratio = ours_value / bare_value if bare_value else float("nan")
        print(f"{name:<38}{ours_value:>12.2f}{bare_value:>12.2f}{ratio:>9.2f}  {target}")
    print(
        json.dumps(
            {
                "get": ours_get,
                "bare_get": bare_get,
                "post": ours_post,
                "bare_post": bare_post,
                "post_cpu_ms": [ours_cpu, bare_cpu],
                "cold": [ours_cold, bare_cold],
                "rss_mb": [ours_rss, bare_rss],
            }
        )
    )


if __name__ == "__main__":
    main()
