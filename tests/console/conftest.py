"""The console in a real browser: one appliance (test transport sending and receiving, the
built console at /admin) and one Debian Chromium per test module, driven by Playwright. Each
test gets a fresh browser context (its own session storage, downloads allowed)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faxbot.keys import new_key
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from tests.conftest import REPO
from tests.server.conftest import Appliance
from tests.server.receiving import receiving

CHROMIUM = Path("/usr/bin/chromium")
BUILT = REPO / "appliance" / "faxbot" / "server" / "console" / "index.html"
AXE = REPO / "console" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "build" / "screenshots"
# Flags that keep Chromium off the network (this machine's network is closed) and quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CONSOLE_SCOPES = [
    "admin:read",
    "plugins:read",
    "fax:send",
    "fax:read",
    "fax:read_all",
    "inbound:list",
    "inbound:read",
    "inbound:read_all",
]
# The test plugin's api_token setting references this variable; its value must never reach
# the browser, the diagnostics or a proposal.
TOKEN_VARIABLE = "FAXBOT_CONSOLE_TEST_TOKEN"
TOKEN_SENTINEL = "sentinel-console-secret-5d1f0c9a7e"
WIDTHS = (360, 768, 1024)


def _needs_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed: run `bash scripts/setup --tests`")
    if not BUILT.exists() or not AXE.exists():
        pytest.skip("the console is not built: run `bash scripts/setup --tests`")


@pytest.fixture(scope="module")
def console_appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    _needs_browser()
    root = tmp_path_factory.mktemp("console")
    key = new_key("console", CONSOLE_SCOPES)
    entry = (
        f"  - id: console\n    sha256: {key.entry['sha256']}\n"
        f"    scopes: [{', '.join(CONSOLE_SCOPES)}]\n"
    )
    appliance = receiving(
        root,
        key_extra=entry,
        outbound_extra=f"      api_token: ${{env:{TOKEN_VARIABLE}}}\n",
    )
    appliance.tokens["console"] = key.token
    appliance.start(env={TOKEN_VARIABLE: TOKEN_SENTINEL})
    try:
        yield appliance
    finally:
        appliance.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    _needs_browser()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


class Console:
    """A browser tab on the console, with what the tests do on it."""

    def __init__(self, page: Page, appliance: Appliance) -> None:
        self.page = page
        self.appliance = appliance
        self.csp_violations: list[str] = []
        page.on("console", self._on_console)

    def _on_console(self, message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.csp_violations.append(text)

    def open(self, route: str = "/") -> None:
        self.page.goto(f"{self.appliance.url}/admin{route}")

    def sign_in(self, key: str = "console") -> None:
        self.open("/")
        self.page.get_by_label("API key").fill(self.appliance.tokens[key])
        self.page.get_by_role("button", name="Sign in").click()
        self.page.get_by_role("navigation", name="Console pages").wait_for()

    def go(self, label: str) -> None:
        """Follow a link of the page navigation, as a user does (client-side routing)."""
        self.page.get_by_role("navigation", name="Console pages").get_by_role(
            "link", name=label, exact=True
        ).click()
        self.page.get_by_role("heading", level=1, name=label).wait_for()

    def axe(self) -> list[dict[str, object]]:
        """Serious and critical axe-core violations on the page as it is now. axe's source is
        evaluated through the DevTools protocol, which the page's CSP does not govern."""
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
        results: dict[str, list[dict[str, Any]]] = self.page.evaluate(
            "async () => await window.axe.run(document, {resultTypes: ['violations']})"
        )
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    def screenshot(self, name: str, width: int) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}-{width}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    created = browser.new_context(viewport={"width": 1024, "height": 900}, accept_downloads=True)
    try:
        yield created
    finally:
        created.close()


@pytest.fixture
def console(context: BrowserContext, console_appliance: Appliance) -> Iterator[Console]:
    tab = Console(context.new_page(), console_appliance)
    yield tab
    assert tab.csp_violations == [], tab.csp_violations


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def copy_config(appliance: Appliance, into: Path) -> Path:
    """A copy of the appliance's config.d, to drop a proposed fragment into."""
    target = into / "config.d"
    shutil.copytree(appliance.root / "config.d", target)
    return target


__all__ = ["TOKEN_SENTINEL", "WIDTHS", "Console", "copy_config", "slug"]
