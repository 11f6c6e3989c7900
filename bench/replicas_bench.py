"""POST /fax and GET /fax/{id} throughput with one and with two `faxbot serve` replicas on one
PostgreSQL, as ratios to one replica, measured in one run.

A throwaway PostgreSQL cluster (the tests' fixture code) holds one database; the replicas
share it and one config (the embedded config.d, the database URL by reference, one key).
Load comes from wrk (C, its own processes; Debian's wrk is installed if missing): two wrk
processes of 16 connections each, both at replica A for one replica, one at each replica for
two, so the load generator is the same in both. The two set-ups take turns in rounds (B is
started for its turn and stopped after it); each burst starts once every replica is idle (its
dispatcher has finished the previous burst's jobs). Requests/s are medians of the rounds
(the sum over both wrk processes), a ratio is the median of the rounds' ratios. Every answer
that is not 2xx is printed with its status and the start of its body, and counted.

This machine has 2 cores. Two replicas, PostgreSQL and wrk share them, so the figures say what
a second replica costs and gives on one small machine, not how replicas scale on their own
hosts; the load average is printed with each round (other work on the machine shows there).

Without job leases (migration 0004 absent), every replica's dispatcher sweeps and tries every
due job: the compare-and-set on a job's phase still lets only one hand it over, but the
second replica's tries are wasted work; the output says which case was measured.

Run: .venv/bin/python bench/replicas_bench.py [--seconds 10] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from appliance_bench import (
    FAXBOT,
    REPO,
    ensure_wrk,
    free_port,
    one_page_pdf,
    post_script,
    settle,
    start,
)
from faxbot.keys import new_key

WRK_PROCESSES = 2
CONNECTIONS = 16  # per wrk process
MIGRATIONS = REPO / "appliance" / "faxbot" / "store" / "migrations" / "versions"


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (the tests' fixture code) and a database on it."""
    sys.path.insert(0, str(REPO))  # tests/ is not installed
    from tests.postgres_server import new_database, running_postgres

    with running_postgres() as server, new_database(server) as url:
        yield url.replace("+psycopg", "")


def prepare(root: Path) -> str:
    """config.d (the embedded default, a bench key, the database by reference) in root."""
    config = root / "config.d"
    shutil.copytree(REPO / "config.d", config)
    key = new_key("bench", ["fax:send", "fax:read"])
    (config / "90-bench.yaml").write_text(
        f"api_keys:\n  - id: bench\n    sha256: {key.entry['sha256']}\n"
        "    scopes: [fax:send, fax:read]\n"
        "appliance:\n  database_url: ${env:FAXBOT_DATABASE_URL}\n"
        "providers:\n  outbound:\n    settings:\n      delay_seconds: 0.2\n"
    )
    subprocess.run([FAXBOT, "config", "compile"], cwd=root, check=True, capture_output=True)
    return key.token


def wrk_command(wrk_bin: str, url: str, seconds: int, token: str, script: Path | None) -> list[str]:
    command = [wrk_bin, "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency",
               "-H", f"X-API-Key: {token}"]  # fmt: skip
    if script is not None:
        command += ["-s", str(script)]
    return [*command, url]


def parse(output: str) -> tuple[float, float, int]:
    """requests/s, p99 ms, non-2xx responses of one wrk run."""
    import re

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(\w+)", output).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rps, p99, int(errors.group(1)) if errors else 0


# Appended to each wrk script: every answer that is not 2xx is written out (status and the
# start of its body), so a failure is named, not only counted.
REPORT_FAILURES = """
response = function(status, headers, body)
  if status >= 300 then
    local text = string.gsub(string.sub(body, 1, 160), "\\n", " ")
    io.write("failed " .. status .. " " .. text .. "\\n")
  end
end
"""


def with_failures_reported(script: Path | None, root: Path, name: str) -> Path:
    text = script.read_text() if script is not None else ""
    path = root / f"{name}.lua"
    path.write_text(text + REPORT_FAILURES)
    return path


FAILURES: collections.Counter[str] = collections.Counter()  # "status body" -> count


def burst(commands: list[list[str]]) -> tuple[float, float]:
    """The wrk processes at once: their summed requests/s and the worst p99 (failed answers
    are counted in FAILURES)."""
    running = [subprocess.Popen(c, stdout=subprocess.PIPE, text=True) for c in commands]
    outputs = [p.communicate()[0] for p in running]
    for output in outputs:
        FAILURES.update(line[7:] for line in output.splitlines() if line.startswith("failed "))
    results = [parse(output) for output in outputs]
    return sum(r[0] for r in results), max(r[1] for r in results)


@dataclass
class Rounds:
    one: list[tuple[float, float]] = field(default_factory=list)  # (requests/s, p99 ms)
    two: list[tuple[float, float]] = field(default_factory=list)

    def ratios(self) -> list[float]:
        return [t[0] / o[0] for o, t in zip(self.one, self.two, strict=True)]

    def line(self, label: str) -> str:
        one = statistics.median(r for r, _ in self.one)
        two = statistics.median(r for r, _ in self.two)
        p99s = [statistics.median(p for _, p in side) for side in (self.one, self.two)]
        ratios = " ".join(f"{r:.2f}" for r in self.ratios())
        return (
            f"{label:<28}{one:>9.0f}{two:>9.0f}{statistics.median(self.ratios()):>7.2f}"
            f"  p99 {p99s[0]:.0f} / {p99s[1]:.0f} ms   rounds: {ratios}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="seconds of load per burst")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 2, 1
    wrk_bin = ensure_wrk()
    gets, posts = Rounds(), Rounds()
    loads: list[str] = []
    with tempfile.TemporaryDirectory(prefix="faxbot-replicas-bench-") as tmp, \
            postgres_database() as url:  # fmt: skip
        os.environ["FAXBOT_DATABASE_URL"] = url
        roots = [Path(tmp) / "a", Path(tmp) / "b"]
        tokens = []
        for root in roots:
            root.mkdir()
            tokens.append(prepare(root))
        ports = [free_port(), free_port()]
        commands = [[FAXBOT, "serve", "--port", str(p), "--log-level", "warning"] for p in ports]
        a, _ = start(commands[0], roots[0], ports[0])
        b: subprocess.Popen[bytes] | None = None
        try:
            job = httpx.post(
                f"http://127.0.0.1:{ports[0]}/fax",
                headers={"X-API-Key": tokens[0]},
                data={"to": "+12025550143"},
                files={"file": ("p.pdf", one_page_pdf())},
            ).json()
            posting = [post_script(root, token) for root, token in zip(roots, tokens, strict=True)]
            scripts = {
                (use, t): with_failures_reported(posting[t] if use else None, roots[t], f"{use}")
                for use in (False, True)
                for t in (0, 1)
            }
            for _ in range(args.rounds):
                for replicas, rounds in ((1, "one"), (2, "two")):
                    if replicas == 2:
                        b, _ = start(commands[1], roots[1], ports[1])
                    targets = [0, 0] if replicas == 1 else [0, 1]
                    running = [a] if b is None else [a, b]
                    loads.append(f"{replicas}: {os.getloadavg()[0]:.1f}")
                    for measure, path, use_script in ((gets, f"/fax/{job['id']}", False),
                                                      (posts, "/fax", True)):  # fmt: skip
                        for process in running:
                            settle(process.pid)
                        result = burst([
                            wrk_command(wrk_bin, f"http://127.0.0.1:{ports[t]}{path}",
                                        args.seconds, tokens[t],
                                        scripts[use_script, t])
                            for t in targets
                        ])  # fmt: skip
                        getattr(measure, rounds).append(result)
                    if b is not None:
                        for process in running:
                            settle(process.pid)
                        b.terminate()
                        b.wait(30)
                        b = None
        finally:
            for server in (a, b):
                if server is not None:
                    server.terminate()
                    server.wait(30)
    report(args, gets, posts, loads)


def report(args: argparse.Namespace, gets: Rounds, posts: Rounds, loads: list[str]) -> None:
    print(
        f"{WRK_PROCESSES} wrk processes x {CONNECTIONS} connections; {args.rounds} rounds of "
        f"{args.seconds} s per burst, the set-ups taking turns; requests/s are medians of the "
        "rounds, the ratio the median of the rounds' ratios (two replicas / one)"
    )
    print(f"{'measure':<28}{'1 replica':>9}{'2':>9}{'ratio':>7}")
    print(gets.line("GET /fax/{id} requests/s"))
    print(posts.line("POST /fax requests/s (PDF)"))
    print(f"load average (1 min) at each turn's start: {', '.join(loads)}; {os.cpu_count()} cores")
    failed = sum(FAILURES.values())
    print(
        f"answers not 2xx: {failed}" + "".join(f"\n  {n} x {what}" for what, n in FAILURES.items())
    )
    if any(MIGRATIONS.glob("0004_*.py")):
        print("job leases (migration 0004) present: each job is claimed by one replica")
    else:
        print(
            "NO job leases in this build (migration 0004 absent): both replicas' dispatchers "
            "sweep and try every due job (the phase compare-and-set lets one hand it over); "
            "the HTTP side's throughput is what is measured"
        )


if __name__ == "__main__":
    main()
