"""The admin console in Debian's Chromium against a real appliance on loopback (issue 15's
"What must show"): sign-in and its refusals, the plugin cards with their read-only settings
and sources, a proposed change that `faxbot config check` accepts, inline validation and the
secret-reference rule, registry search, a job reaching SUCCESS, an inbound fax's PDF,
a diagnostics download with no secret and no phone number, axe-core on every page, and
screenshots of every page at 360, 768 and 1024 px."""

from __future__ import annotations

import json
import re
import subprocess
from importlib import metadata
from pathlib import Path

import httpx
from playwright.sync_api import expect

from tests.console.conftest import (
    TOKEN_SENTINEL,
    TOKEN_VARIABLE,
    WIDTHS,
    Console,
    copy_config,
    slug,
)
from tests.server.conftest import FAXBOT, Appliance, one_page_pdf
from tests.server.receiving import OUR_NUMBER, SECRET, SENDER, post, received

PAGES = ["Overview", "Plugins", "Propose a change", "Registry", "Jobs", "Inbound", "Diagnostics"]
# An E.164 number, with or without its '+', that is not a run of digits inside a hex id (a
# fingerprint or a job id may hold ten digits in a row: those the redactor rightly keeps).
PHONE = re.compile(r"(?<![0-9a-f])\+?[1-9]\d{9,14}(?![0-9a-f])")


def send(appliance: Appliance, to: str = "+12025550143") -> str:
    with appliance.client("console") as client:
        answer = client.post("/fax", data={"to": to}, files={"file": ("a.pdf", one_page_pdf())})
    assert answer.status_code == 202, answer.text
    job_id: str = answer.json()["id"]
    return job_id


def test_a_wrong_key_and_a_key_without_admin_read_are_refused(console: Console) -> None:
    console.open("/")
    key = console.page.get_by_label("API key")
    key.fill("not-a-key-" + "x" * 40)
    console.page.get_by_role("button", name="Sign in").click()
    expect(console.page.get_by_role("alert")).to_contain_text("refused this key")

    key.fill(console.appliance.tokens["reader"])  # fax:read only
    console.page.get_by_role("button", name="Sign in").click()
    expect(console.page.get_by_role("alert")).to_contain_text('"reader" has no admin:read')
    assert console.page.evaluate("sessionStorage.length") == 0
    assert console.appliance.tokens["reader"] not in console.page.url


def test_sign_in_keeps_the_key_in_session_storage_and_out_of_urls(console: Console) -> None:
    requests: list[str] = []
    console.page.on("request", lambda request: requests.append(request.url))
    console.sign_in()
    token = console.appliance.tokens["console"]
    assert console.page.evaluate("Object.values(sessionStorage)") == [token]
    console.go("Plugins")
    assert requests and not any(token in url for url in requests)
    console.page.reload()  # still signed in: the tab keeps its session storage
    console.page.get_by_role("heading", level=1, name="Plugins").wait_for()


def test_a_stored_key_the_appliance_refuses_leads_back_to_sign_in(console: Console) -> None:
    console.open("/")
    revoked = "revoked-" + "x" * 40
    console.page.evaluate(f"sessionStorage.setItem('faxbot.console.apiKey', '{revoked}')")
    console.open("/plugins")
    expect(console.page.get_by_label("API key")).to_be_visible()
    assert console.page.evaluate("sessionStorage.length") == 0


def test_every_page_passes_axe_and_is_photographed_at_three_widths(console: Console) -> None:
    send(console.appliance)
    console.open("/")
    assert console.axe() == [], "sign-in page"
    for width in WIDTHS:
        console.page.set_viewport_size({"width": width, "height": 900})
        console.screenshot("sign-in", width)
    console.page.set_viewport_size({"width": 1024, "height": 900})
    console.sign_in()
    for label in PAGES:
        console.go(label)
        console.page.wait_for_load_state("networkidle")
        expect(console.page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
        for width in WIDTHS:
            console.page.set_viewport_size({"width": width, "height": 900})
            violations = console.axe()
            assert violations == [], f"{label} at {width} px: {violations}"
            console.screenshot(slug(label), width)
            # Usable at every width: nothing wider than the window but what scrolls inside.
            overflow = console.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{label} at {width} px scrolls sideways by {overflow} px"
        console.page.set_viewport_size({"width": 1024, "height": 900})


def test_the_keyboard_reaches_the_pages_in_order_with_a_visible_focus(console: Console) -> None:
    console.sign_in()
    console.page.keyboard.press("Tab")
    focused = console.page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    seen = []
    outlines = []
    for _ in range(len(PAGES) + 2):  # sign out, then the page links
        console.page.keyboard.press("Tab")
        seen.append(console.page.evaluate("document.activeElement.textContent"))
        outlines.append(
            console.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        )
    assert [name for name in seen if name in PAGES] == PAGES
    assert "none" not in outlines, list(zip(seen, outlines, strict=True))


def test_the_test_plugin_card_shows_its_settings_read_only_with_sources(console: Console) -> None:
    console.sign_in()
    console.go("Plugins")
    card = console.page.locator("article[data-plugin='test']")
    expect(card.get_by_role("heading", name="Test transport")).to_be_visible()
    expect(card).to_contain_text(metadata.version("faxbot_plugin_test"))
    expect(card).to_contain_text("python")
    expect(card).to_contain_text("get_inbound_pdf")
    expect(card).to_contain_text("0 makes every fax finish")  # the manifest's ui.hints
    outbound = card.get_by_role("region", name="Test transport settings in the outbound slot")
    delay = outbound.get_by_label("delay_seconds")
    expect(delay).to_have_value("0.2")
    expect(delay).not_to_be_editable()
    token = outbound.get_by_label("api_token (secret reference)")
    # A secret setting shows as its reference, never as the value the appliance resolved.
    expect(token).to_have_value(f"${{env:{TOKEN_VARIABLE}}}")
    expect(token).not_to_be_editable()
    expect(outbound).to_contain_text("Secret: only its reference is shown")
    assert TOKEN_SENTINEL not in console.page.content()
    assert "********" not in console.page.content()
    sources = outbound.locator("table.sources")
    for key in ("settings.delay_seconds", "settings.api_token"):
        expect(sources.locator("tr", has_text=key)).to_contain_text("90-test.yaml:")


def test_a_proposed_change_is_a_fragment_that_config_check_accepts(
    console: Console, tmp_path: Path
) -> None:
    console.sign_in()
    console.open("/propose/test?slot=outbound")
    form = console.page.get_by_role("region", name=re.compile("Test transport settings"))
    reference = f"${{env:{TOKEN_VARIABLE}}}"
    expect(form.get_by_label("api_token (secret reference)")).to_have_value(reference)
    form.get_by_label("delay_seconds").fill("2.5")
    fragment_box = console.page.locator("[data-snippet='fragment']")
    expect(fragment_box).to_contain_text("delay_seconds: 2.5")
    fragment = fragment_box.inner_text()
    assert "api_token" not in fragment  # only what changed
    diff = console.page.locator("[data-snippet='diff']")
    expect(diff).to_contain_text("+      delay_seconds: 2.5")
    expect(diff).to_contain_text(f"       api_token: {reference}")  # unchanged context
    for shown in (fragment, diff.inner_text(), console.page.content()):
        assert TOKEN_SENTINEL not in shown and "********" not in shown
    commands = console.page.locator("[data-snippet='commands']").inner_text()
    assert "faxbot config plan" in commands and "git commit" in commands

    with console.page.expect_download() as download:
        console.page.get_by_role("button", name="Download fragment").click()
    assert download.value.suggested_filename == "99-console-outbound.yaml"
    downloaded = Path(download.value.path()).read_text(encoding="utf-8")
    assert downloaded == fragment + "\n" or downloaded.strip() == fragment.strip()

    config = copy_config(console.appliance, tmp_path)
    (config / "99-console-outbound.yaml").write_text(downloaded, encoding="utf-8")
    check = subprocess.run(
        [FAXBOT, "config", "check", "--dir", str(config)],
        capture_output=True,
        text=True,
        check=False,
        env={"FAXBOT_CONSOLE_TEST_TOKEN": "x", "PATH": "/usr/bin:/bin"},
    )
    assert check.returncode == 0, check.stdout + check.stderr
    key = "providers.outbound.settings.delay_seconds"
    explain = subprocess.run(
        [FAXBOT, "config", "explain", key, "--dir", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "99-console-outbound.yaml" in explain.stdout and "2.5" in explain.stdout


def test_an_invalid_value_is_shown_inline_and_gives_no_fragment(console: Console) -> None:
    console.sign_in()
    console.open("/propose/test?slot=outbound")
    form = console.page.get_by_role("region", name=re.compile("Test transport settings"))
    form.get_by_label("delay_seconds").fill("5000")  # the schema's maximum is 3600
    field = form.locator(".form-group", has=console.page.get_by_label("delay_seconds"))
    expect(field.locator(".error-detail")).to_contain_text("3600")
    expect(console.page.locator("[data-snippet='fragment']")).to_have_count(0)
    expect(console.page.get_by_text("Fix the problem shown above")).to_be_visible()

    form.get_by_label("delay_seconds").fill("1")
    numbers = form.locator("#propose-test-outbound_fail_numbers_0")
    numbers.fill("12345")
    expect(form.get_by_text("must be an E.164 number such as +15551234567")).to_be_visible()


def test_a_secret_field_takes_only_a_reference(console: Console) -> None:
    console.sign_in()
    console.open("/propose/test?slot=outbound")
    form = console.page.get_by_role("region", name=re.compile("Test transport settings"))
    token = form.get_by_label("api_token (secret reference)")
    token.fill("hunter2-a-literal-secret")
    expect(form.get_by_text("a secret setting takes only a reference")).to_be_visible()
    expect(console.page.locator("[data-snippet='fragment']")).to_have_count(0)
    token.fill("${env:FAXBOT_TEST_API_TOKEN}")
    expect(form.get_by_text("a secret setting takes only a reference")).to_have_count(0)
    expect(console.page.locator("[data-snippet='fragment']")).to_contain_text(
        "api_token: ${env:FAXBOT_TEST_API_TOKEN}"
    )
    diff = console.page.locator("[data-snippet='diff']")
    expect(diff).to_contain_text(f"-      api_token: ${{env:{TOKEN_VARIABLE}}}")
    expect(diff).to_contain_text("+      api_token: ${env:FAXBOT_TEST_API_TOKEN}")
    assert TOKEN_SENTINEL not in console.page.content()


def test_the_registry_is_searched_by_keyword_slot_and_capability(console: Console) -> None:
    console.sign_in()
    console.go("Registry")
    cards = console.page.locator("article[data-registry]")
    everything = cards.count()
    assert everything >= 4
    console.page.get_by_label("Keyword").fill("sinch")
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("data-registry", "sinch")
    console.page.get_by_label("Keyword").fill("")
    console.page.get_by_label("Slot").select_option("storage")
    expect(cards.filter(has_text="Local storage")).to_have_count(1)
    expect(cards.filter(has_text="Phaxio")).to_have_count(0)
    console.page.get_by_label("Slot").select_option("")
    console.page.get_by_label("Capability").select_option("ingest_webhook")
    expect(cards.filter(has_text="Local storage")).to_have_count(0)
    phaxio = cards.filter(has_text="Phaxio")
    phaxio.get_by_text("How to add this plugin").click()
    expect(phaxio).to_contain_text("faxbot_plugin_phaxio==1.0.0")
    assert console.page.get_by_role("button", name=re.compile("install", re.I)).count() == 0


def test_a_job_sent_through_the_api_is_seen_reaching_success(console: Console) -> None:
    job_id = send(console.appliance)
    console.sign_in()
    console.go("Jobs")
    console.page.get_by_label("Status").select_option("SUCCESS")
    row = console.page.locator(f"tr[data-job='{job_id}']")
    for _ in range(40):  # the test transport finishes 0.2 s after the hand-over
        if row.count() == 1:
            break
        console.page.wait_for_timeout(250)
        console.page.get_by_label("Status").select_option("")
        console.page.get_by_label("Status").select_option("SUCCESS")
    expect(row).to_contain_text("SUCCESS")
    console.page.get_by_label("Recipient (E.164)").fill("+12025550111")  # another number
    console.page.get_by_role("button", name="Filter").click()
    expect(row).to_have_count(0)
    console.page.get_by_label("Recipient (E.164)").fill("+12025550143")
    console.page.get_by_role("button", name="Filter").click()
    row.get_by_role("link").click()
    expect(console.page.locator("ol.timeline")).to_contain_text("SUCCESS")


def test_an_inbound_fax_is_previewed_and_downloaded_through_the_api(console: Console) -> None:
    answer = post(console.appliance, [received("console-inbound-1", one_page_pdf())])
    assert answer.status_code == 200, answer.text
    console.sign_in()
    console.go("Inbound")
    row = console.page.locator("tr[data-inbound]", has_text=SENDER)
    expect(row).to_have_count(1)
    row.get_by_role("link").click()
    frame = console.page.locator("iframe.pdf")
    expect(frame).to_have_attribute("src", re.compile(r"^blob:"))
    with console.page.expect_download() as download:
        console.page.get_by_role("link", name="Download the PDF").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    token = console.appliance.tokens["console"]
    assert token not in (frame.get_attribute("src") or "")


def test_the_diagnostics_download_holds_no_secret_and_no_phone_number(console: Console) -> None:
    send(console.appliance, to="+12025550199")  # fails, so a problem may be logged
    post(console.appliance, [received("console-inbound-2", one_page_pdf(), to=OUR_NUMBER)])
    httpx.post(f"{console.appliance.url}/webhooks/test", content=b"{}", timeout=10)  # refused
    console.sign_in()
    console.go("Diagnostics")
    with console.page.expect_download() as download:
        console.page.get_by_role("button", name="Download diagnostics (JSON)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["fingerprint"] and data["versions"]["faxbot"]
    for secret in (TOKEN_SENTINEL, SECRET, *console.appliance.tokens.values()):
        assert secret not in text
    assert PHONE.findall(text) == [], PHONE.findall(text)
    for number in ("+12025550199", OUR_NUMBER, SENDER):  # the numbers this test made it see
        assert number.lstrip("+") not in text and number[2:] not in text
