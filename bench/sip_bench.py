"""The SIP plugin's documents: Ghostscript's conversion time per page (PDF -> fax TIFF, as the
plugin runs it), and how the API holds up while conversions run: GET /fax/{id} requests per
second from one keep-alive client against a real `faxbot serve` (outbound plugin `sip`,
pointed at the AMI fake), idle and then while 20 faxes are converted, as a ratio.

The ratio is measured for `max_conversions` 2 (the default: Ghostscript processes at once)
and 20 (all at once). Ghostscript runs in processes of its own, so the event loop only waits
for them; what slows GETs is the CPU they take from the appliance on a small machine.

    .venv/bin/python bench/sip_bench.py [--pages 10] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from faxbot_plugin_sip.documents import TiffOptions, pdf_to_tiff  # noqa: E402
from fpdf import FPDF  # noqa: E402

from tests.fakes.ami import AmiFake  # noqa: E402
from tests.server.test_sip_e2e import sip_appliance  # noqa: E402


def document(pages: int) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for number in range(pages):
        pdf.add_page()
        for line in range(50):
            pdf.cell(
                text=f"Page {number + 1}, line {line + 1}: the quick brown fox jumps",
                new_x="LMARGIN",
                new_y="NEXT",
            )
    return bytes(pdf.output())


def seconds_per_page(pdf: bytes, pages: int, rounds: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.pdf", Path(folder) / "out.tif"
        source.write_bytes(pdf)
        times = []
        for _ in range(rounds):
            began = time.perf_counter()
            asyncio.run(pdf_to_tiff(source, target, TiffOptions()))
            times.append(time.perf_counter() - began)
            target.unlink()
    return statistics.median(times) / pages


class Getter(threading.Thread):
    """GET /fax/{id} in a loop; the time of each answer."""

    def __init__(self, url: str, token: str, job_id: str) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=url, headers={"X-API-Key": token}, timeout=30)
        self.job_id = job_id
        self.done: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.client.get(f"/fax/{self.job_id}").raise_for_status()
            self.done.append(time.perf_counter())

    def rate(self, start: float, end: float) -> float:
        return sum(1 for t in self.done if start <= t < end) / (end - start)


def ratio_while_converting(
    pdf: bytes, max_conversions: int, faxes: int
) -> tuple[float, float, float]:
    """(idle GET/s, GET/s while converting, seconds the conversions took)."""
    with AmiFake() as fake, tempfile.TemporaryDirectory() as folder:
        fake.hold = True  # calls stay up (2 s, then they time out): conversions cost the most
        appliance, env = sip_appliance(
            Path(folder),
            fake,
            f"      max_conversions: {max_conversions}\n      max_concurrent_calls: 100\n",
        )
        appliance.start(env=env)
        try:
            client = appliance.client()
            files = {"file": ("a.pdf", pdf, "application/pdf")}
            first = client.post("/fax", data={"to": "+12025550100"}, files=files).json()["id"]
            while client.get(f"/fax/{first}").json()["status"] != "in_progress":
                time.sleep(0.05)
            getter = Getter(appliance.url, appliance.tokens["admin"], first)
            getter.start()
            time.sleep(3)
            idle = getter.rate(time.perf_counter() - 2.5, time.perf_counter())
            began = time.perf_counter()
            jobs = [
                client.post("/fax", data={"to": f"+1202555{1000 + i}"}, files=files).json()["id"]
                for i in range(faxes)
            ]
            while any(client.get(f"/fax/{j}").json()["status"] != "in_progress" for j in jobs):
                time.sleep(0.1)
            ended = time.perf_counter()
            getter.stop.set()
            getter.join(30)
            return idle, getter.rate(began, ended), ended - began
        finally:
            appliance.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--faxes", type=int, default=20)
    args = parser.parse_args()
    pdf = document(args.pages)
    per_page = seconds_per_page(pdf, args.pages, args.rounds)
    print(
        f"Ghostscript PDF -> fax TIFF (204x196, letter): {per_page * 1000:.1f} ms per page "
        f"(median of {args.rounds} runs of a {args.pages}-page document)"
    )
    print(
        f"{'max_conversions':<18}{'idle GET/s':>12}{'GET/s converting':>18}{'ratio':>8}"
        f"{'conversions took':>18}"
    )
    for limit in (2, args.faxes):
        idle, busy, took = ratio_while_converting(pdf, limit, args.faxes)
        print(f"{limit:<18}{idle:>12.0f}{busy:>18.0f}{busy / idle:>8.2f}{took:>16.1f} s")


if __name__ == "__main__":
    main()
