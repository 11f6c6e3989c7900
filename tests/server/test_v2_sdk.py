"""The published Faxbot v2 Python SDK (`faxbot==1.1.0` from PyPI) against a real `faxbot
serve` on loopback. Its import name is the appliance's, so `scripts/setup --tests` installs it
into .venv-v2sdk (pinned by requirements/v2-sdk.txt) and it runs here in a subprocess of that
environment's Python."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.server.conftest import Appliance, one_page_pdf

pytestmark = pytest.mark.slow
V2_PYTHON = REPO / ".venv-v2sdk" / "bin" / "python"
TO = "+12025550143"

# What a v2 user's program does: every call of the SDK that has a v3 counterpart. Each call's
# result, or the message of the exception it raised, is printed as JSON.
SCRIPT = """
import json, os, sys
from faxbot import FaxbotClient

client = FaxbotClient(os.environ["FAXBOT_URL"], api_key=os.environ["FAXBOT_API_KEY"])
pdf, text, not_text = sys.argv[1:4]

def attempt(call):
    try:
        return {"ok": call()}
    except Exception as exc:
        return {"raised": str(exc)}

sent_pdf = client.send_fax("+12025550143", pdf)
results = {
    "health": attempt(client.check_health),
    "sent_pdf": sent_pdf,
    "sent_text": attempt(lambda: client.send_fax("+12025550143", text)),
    "status": attempt(lambda: client.get_status(sent_pdf["id"])),
    "missing": attempt(lambda: client.get_status("0123")),
    "bad_number": attempt(lambda: client.send_fax("+1555", pdf)),
    "not_text": attempt(lambda: client.send_fax("+12025550143", not_text)),
    "plugins": attempt(client.plugins.list_plugins),
    "plugin_config": attempt(lambda: client.plugins.get_plugin_config("test")),
}
print(json.dumps(results))
"""


def run_v2(appliance: Appliance, folder: Path) -> dict[str, Any]:
    if not V2_PYTHON.is_file():
        pytest.fail(
            f"the Faxbot v2 SDK is not installed ({V2_PYTHON} is missing): "
            "run scripts/setup --tests, which installs it from requirements/v2-sdk.txt"
        )
    pdf, text, not_text = folder / "doc.pdf", folder / "note.txt", folder / "image.txt"
    pdf.write_bytes(one_page_pdf())
    text.write_text("Hello from a Faxbot v2 client.\n")
    not_text.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    result = subprocess.run(
        [str(V2_PYTHON), "-I", "-c", SCRIPT, str(pdf), str(text), str(not_text)],
        cwd=folder,
        env={
            "PATH": os.environ.get("PATH", ""),
            "FAXBOT_URL": appliance.url,
            "FAXBOT_API_KEY": appliance.tokens["admin"],
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def test_the_published_v2_sdk_works_against_the_appliance(
    appliance: Appliance, tmp_path: Path
) -> None:
    results = run_v2(appliance, tmp_path)
    assert results["health"] == {"ok": True}  # GET /health, the legacy route
    sent_pdf, sent_text = results["sent_pdf"], results["sent_text"]["ok"]
    assert sent_pdf["status"] == sent_text["status"] == "queued"
    assert results["status"]["ok"]["id"] == sent_pdf["id"]
    for job in (sent_pdf, sent_text):
        assert appliance.wait_for(job["id"])["status"] == "SUCCESS"
    assert results["missing"] == {"raised": "Fax job not found (404): Job ID 0123 does not exist."}
    # the v2 SDK shows `detail`: our reason, not its generic "Invalid fax request parameters."
    assert results["bad_number"] == {
        "raised": "Bad Request (400): `to` must be an E.164 number such as +12025550143"
    }
    not_text = results["not_text"]["raised"]
    assert not_text.startswith("Unsupported Media Type (415): the document is a PNG image")
    assert [plugin["id"] for plugin in results["plugins"]["ok"]] == ["local", "test"]
    assert results["plugin_config"]["ok"]["id"] == "test"
