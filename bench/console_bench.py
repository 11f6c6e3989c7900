"""The admin console's first load: the bytes a browser transfers for /admin/ and the files its
index.html names (gzip, as the appliance serves them), and the time to interactive on
loopback: from navigation start to the sign-in form's key field being usable, in Debian's
Chromium (a new browser context per load, so nothing is cached), median of the loads.
Baseline measured in the same run: the same browser loading a static HTML sign-in form with
no JavaScript from a bare Python HTTP server on loopback; the ratio is console / static.
Run: .venv/bin/python bench/console_bench.py [--loads 10]  (after `bash scripts/setup --tests`)

Target: initial JS < 300 KB gzip.
"""

from __future__ import annotations

import argparse
import http.server
import re
import statistics
import tempfile
import threading
from pathlib import Path

import httpx
from appliance_bench import FAXBOT, free_port, prepare_appliance, start
from playwright.sync_api import Browser, sync_playwright

BUDGET_JS = 300 * 1024
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STATIC_FORM = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>'
    b'<body><main><h1>Sign in</h1><form><label for="api-key">API key</label>'
    b'<input id="api-key" type="password"><button>Sign in</button></form></main></body></html>'
)
INITIAL = re.compile(r'<(?:script[^>]*\bsrc|link[^>]*\bhref)="(/admin/[^"]+)"')


def transfer(base: str) -> list[tuple[str, int, int]]:
    """(path, bytes on the wire, bytes decoded) of /admin/ and each file its HTML names."""
    rows = []
    with httpx.Client(base_url=base, headers={"Accept-Encoding": "gzip"}) as client:
        index = client.get("/admin/")
        index.raise_for_status()
        rows.append(("/admin/", index.num_bytes_downloaded, len(index.content)))
        for path in INITIAL.findall(index.text):
            answer = client.get(path)
            answer.raise_for_status()
            rows.append((path, answer.num_bytes_downloaded, len(answer.content)))
    return rows


def time_to_interactive(browser: Browser, url: str) -> float:
    """Milliseconds from navigation start to #api-key being visible and enabled."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url, wait_until="commit")
        field = page.locator("#api-key")
        field.wait_for(state="visible")
        page.wait_for_function("!document.querySelector('#api-key').disabled")
        elapsed: float = page.evaluate("performance.now()")
        return elapsed
    finally:
        context.close()


class _StaticForm(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(STATIC_FORM)))
        self.end_headers()
        self.wfile.write(STATIC_FORM)

    def log_message(self, format: str, *args: object) -> None:  # the stdlib's name
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loads", type=int, default=10, help="page loads per side")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="faxbot-console-bench-") as tmp:
        root = Path(tmp)
        prepare_appliance(root)
        port = free_port()
        server, _ = start(
            [FAXBOT, "serve", "--port", str(port), "--log-level", "warning"], root, port
        )
        static = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StaticForm)
        threading.Thread(target=static.serve_forever, daemon=True).start()
        try:
            base = f"http://127.0.0.1:{port}"
            rows = transfer(base)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                console_ms: list[float] = []
                static_ms: list[float] = []
                static_url = f"http://127.0.0.1:{static.server_address[1]}/"
                time_to_interactive(browser, f"{base}/admin/")  # warm the browser process
                for _ in range(args.loads):  # the two take turns
                    console_ms.append(time_to_interactive(browser, f"{base}/admin/"))
                    static_ms.append(time_to_interactive(browser, static_url))
                browser.close()
        finally:
            static.shutdown()
            server.terminate()
            server.wait(10)
    print(f"{'file':<44} {'wire (gzip)':>12} {'decoded':>10}")
    for path, wire, decoded in rows:
        print(f"{path:<44} {wire:>12,} {decoded:>10,}")
    total_wire = sum(wire for _, wire, _ in rows)
    js_wire = sum(wire for path, wire, _ in rows if path.endswith(".js"))
    print(f"{'first load, total':<44} {total_wire:>12,} {sum(d for _, _, d in rows):>10,}")
    verdict = "OK" if js_wire < BUDGET_JS else "OVER BUDGET"
    print(f"initial JS (gzip): {js_wire / 1024:.1f} KB of {BUDGET_JS // 1024} KB budget: {verdict}")
    console, bare = statistics.median(console_ms), statistics.median(static_ms)
    print(f"time to interactive, median of {args.loads} (ms): console {console:.0f}, ", end="")
    print(f"static form {bare:.0f}, ratio console/static {console / bare:.2f}")


if __name__ == "__main__":
    main()
