"""The cost of the metrics (faxbot/metrics.py) on the hot path: GET /fax/{id} throughput of the
appliance as `faxbot serve` runs it, against the same appliance whose request recorder does
nothing (patched at launch, so the product has no switch to turn its metrics off), measured
in one run with the two servers taking turns (bench/appliance_bench.py's method and helpers).
Prints requests/s and p99 of each and the ratio metrics / none (the median of the rounds'
ratios). The jobs gauge is read only when scraped, so it costs nothing here.
Run: .venv/bin/python bench/metrics_bench.py [--seconds 10] [--rounds 3]

Target: ratio >= 0.95 (the metrics cost under 5% of GET throughput).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx
from appliance_bench import (
    FAXBOT,
    ensure_wrk,
    free_port,
    one_page_pdf,
    paired,
    prepare_appliance,
    start,
)

# `faxbot serve` with a request recorder that records nothing: the baseline.
NONE = """
import sys
import faxbot.metrics as metrics
metrics.HttpRecorder.request = lambda self, route, method, status, seconds: None
from faxbot.cli.main import main
sys.argv = ["faxbot", "serve", "--port", sys.argv[1], "--log-level", "warning"]
main()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="seconds of load per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per measure")
    args = parser.parse_args()
    wrk_bin = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="faxbot-metrics-bench-") as tmp:
        ours_root, none_root = Path(tmp) / "metrics", Path(tmp) / "none"
        ours_root.mkdir()
        none_root.mkdir()
        ours_token, none_token = prepare_appliance(ours_root), prepare_appliance(none_root)
        ours_port, none_port = free_port(), free_port()
        ours, _ = start(
            [FAXBOT, "serve", "--port", str(ours_port), "--log-level", "warning"],
            ours_root,
            ours_port,
        )
        none, _ = start([sys.executable, "-c", NONE, str(none_port)], none_root, none_port)
        try:
            time.sleep(1)
            paths = []
            for port, token in ((ours_port, ours_token), (none_port, none_token)):
                job = httpx.post(
                    f"http://127.0.0.1:{port}/fax",
                    headers={"X-API-Key": token},
                    data={"to": "+12025550143"},
                    files={"file": ("p.pdf", one_page_pdf())},
                ).json()
                paths.append(f"/fax/{job['id']}")
            gets = paired(
                wrk_bin, args, (none, none_port, paths[1], {"X-API-Key": none_token}, None),
                (ours, ours_port, paths[0], {"X-API-Key": ours_token}, None),
            )  # fmt: skip
        finally:
            for process in (ours, none):
                process.terminate()
                process.wait(20)
    print(
        f"requests/s are medians of {args.rounds} rounds of {args.seconds} s, the two servers "
        "taking turns; the ratio is the median of the rounds' ratios"
    )
    print(f"{'measure':<36}{'metrics':>10}{'none':>10}{'ratio':>8}  target")
    print(
        f"{'GET /fax/{id} requests/s':<36}{gets.ours_rps:>10.0f}{gets.bare_rps:>10.0f}"
        f"{gets.ratio:>8.2f}  >= 0.95"
    )
    print(f"{'GET /fax/{id} p99 ms':<36}{gets.ours_p99:>10.1f}{gets.bare_p99:>10.1f}")


if __name__ == "__main__":
    main()
