"""Documents against a real `faxbot serve`: what text costs the rest of the appliance.

1. RSS: the server's resident memory (the process and its children, the render workers
   included) while and after four clients upload 9 MB of form feeds at once, as a ratio to
   its idle memory measured just before. Target: under 1.5x.
2. GET under mixed load: GET /fax/{id} requests/s (32 connections) while 8 more connections
   POST faxes, first all one-page PDFs (the baseline), then with every fifth POST a one-line
   text; the ratio is baseline / mixed, the median over rounds that take turns. Target: under
   1.5x slower.

Load comes from wrk (see bench/appliance_bench.py, whose helpers this reuses).
Run: .venv/bin/python bench/documents_bench.py [--seconds 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from appliance_bench import (
    FAXBOT,
    ensure_wrk,
    free_port,
    one_page_pdf,
    prepare_appliance,
    rss_mb,
    settle,
    start,
    wrk,
)

TO = "+12025550143"
BOUNDARY = "faxbotdocs"
FORM_FEEDS = b"\f" * 9_000_000
POST_CONNECTIONS = 8


def multipart(name: str, content_type: str, document: bytes) -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="to"\r\n\r\n{TO}\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + document
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def lua_string(data: bytes) -> str:
    return "".join(f"\\{b:03d}" for b in data)


def post_mix(root: Path, token: str, text_every: int) -> Path:
    """A wrk script POSTing PDFs, and a text every `text_every`-th request (0: never)."""
    pdf = lua_string(multipart("p.pdf", "application/pdf", one_page_pdf()))
    text = lua_string(multipart("t.txt", "text/plain", b"A one-line text fax from the bench\n"))
    script = root / f"mix-{text_every}.lua"
    script.write_text(
        f'wrk.method = "POST"\n'
        f'wrk.headers["Content-Type"] = "multipart/form-data; boundary={BOUNDARY}"\n'
        f'wrk.headers["X-API-Key"] = "{token}"\n'
        f'local pdf = "{pdf}"\nlocal text = "{text}"\nlocal sent = 0\n'
        "request = function()\n"
        "  sent = sent + 1\n"
        f"  if {text_every} > 0 and sent % {text_every} == 0 then\n"
        '    return wrk.format("POST", "/fax", nil, text)\n'
        "  end\n"
        '  return wrk.format("POST", "/fax", nil, pdf)\n'
        "end\n"
    )
    return script


def rss_while_form_feeds(url: str, token: str, pid: int) -> tuple[float, float, float]:
    """Idle RSS, the peak while four 9 MB texts of form feeds are uploaded at once, and RSS
    right after (MB)."""
    idle = rss_mb(pid)
    peak = [idle]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb(pid))
            time.sleep(0.02)

    def upload(_: int) -> int:
        with httpx.Client(headers={"X-API-Key": token}, timeout=120) as client:
            files = {"file": ("ff.txt", FORM_FEEDS, "text/plain")}
            answer = client.post(f"{url}/fax", data={"to": TO}, files=files)
            return answer.status_code

    sampler = threading.Thread(target=sample)
    sampler.start()
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(upload, range(4)))
    done.set()
    sampler.join()
    if statuses != [422] * 4:
        raise SystemExit(f"the form feeds were answered {statuses}, not 422")
    return idle, peak[0], rss_mb(pid)


def get_under_mix(
    wrk_bin: str, url: str, token: str, job_id: str, script: Path, seconds: int
) -> float:
    """GET /fax/{id} requests/s while `script` POSTs on more connections."""
    posting = subprocess.Popen(
        [wrk_bin, "-t1", f"-c{POST_CONNECTIONS}", f"-d{seconds + 1}s", "-s", str(script), url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        rps, _ = wrk(wrk_bin, f"{url}/fax/{job_id}", seconds, {"X-API-Key": token})
    finally:
        output, _ = posting.communicate(timeout=60)
    if "Non-2xx" in output:
        raise SystemExit(f"POSTs failed during the mix:\n{output}")
    return rps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    wrk_bin = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="faxbot-docbench-") as folder:
        root = Path(folder)
        token = prepare_appliance(root)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process, _ = start([FAXBOT, "serve", "--port", str(port)], root, port)
        try:
            with httpx.Client(headers={"X-API-Key": token}, timeout=30) as client:
                files = {"file": ("p.pdf", one_page_pdf(), "application/pdf")}
                job = client.post(f"{url}/fax", data={"to": TO}, files=files).json()
            settle(process.pid)
            idle, peak, after = rss_while_form_feeds(url, token, process.pid)
            print(
                f"RSS, 4 parallel 9 MB texts of form feeds: idle {idle:.0f} MB, peak "
                f"{peak:.0f} MB ({peak / idle:.2f}x), after {after:.0f} MB ({after / idle:.2f}x)"
                " (target: under 1.5x)"
            )
            pdf_only = post_mix(root, token, 0)
            with_text = post_mix(root, token, 5)
            ratios = []
            for round_number in range(1, args.rounds + 1):
                settle(process.pid)
                base = get_under_mix(wrk_bin, url, token, job["id"], pdf_only, args.seconds)
                settle(process.pid)
                mixed = get_under_mix(wrk_bin, url, token, job["id"], with_text, args.seconds)
                ratios.append(base / mixed)
                print(
                    f"round {round_number}: GET {base:.0f} req/s with PDF POSTs, {mixed:.0f} "
                    f"req/s with 20% text POSTs ({base / mixed:.2f}x slower)"
                )
            print(
                f"GET while 20% of POSTs are texts: {statistics.median(ratios):.2f}x slower than "
                "with PDFs only (median; target: under 1.5x)"
            )
            print(f"RSS at the end: {rss_mb(process.pid):.0f} MB")
        finally:
            process.terminate()
            process.wait(30)


if __name__ == "__main__":
    main()
