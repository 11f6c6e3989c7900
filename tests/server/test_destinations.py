"""The destination policy through a real `faxbot serve`: the default refuses premium-rate and
other costly kinds of number and the international networks, with 422 `destination_refused`
naming the rule, before anything is stored; a configured policy allows only what it lists;
`faxbot config explain` shows the effective policy."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import FAXBOT, Appliance, build, one_page_pdf

pytestmark = pytest.mark.slow
US = "+12025550143"  # fixed_line_or_mobile, US: every example's number
GB = "+442079460958"  # fixed_line, GB
US_PREMIUM = "+19005550100"  # premium_rate, US
GB_PERSONAL = "+447012345678"  # personal_number, GB
GB_PREMIUM = "+448712345678"  # premium_rate, GB
SATELLITE = "+881612345678"  # mobile, the international network +881 (Iridium)
JAMAICA = "+18765550100"  # mobile, JM: +1 like the US


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[Appliance]:
    running = build(tmp_path, delay=0)
    with running.running():
        yield running


def refused(client: httpx.Client, to: str) -> dict[str, Any]:
    response = client.post("/fax", data={"to": to}, files={"file": one_page_pdf()})
    assert response.status_code == 422, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == "destination_refused"
    assert body["details"]["field"] == "to"
    return body


def accepted(client: httpx.Client, to: str) -> None:
    response = client.post("/fax", data={"to": to}, files={"file": one_page_pdf()})
    assert response.status_code == 202, response.text


def test_the_default_refuses_costly_numbers_and_stores_nothing(appliance: Appliance) -> None:
    with appliance.client() as client:
        for number, kind in ((US_PREMIUM, "premium_rate"), (GB_PREMIUM, "premium_rate")):
            body = refused(client, number)
            assert body["details"]["rule"] == "number_type"
            assert body["details"]["number_type"] == kind
            assert "premium_rate numbers" in body["error"]
        personal = refused(client, GB_PERSONAL)["details"]
        assert (personal["rule"], personal["number_type"]) == ("number_type", "personal_number")
        satellite = refused(client, SATELLITE)
        assert satellite["details"]["rule"] == "country"
        assert satellite["details"]["calling_code"] == "+881"
        assert "international network +881" in satellite["error"]

        assert client.get("/fax").json()["items"] == []
        documents = appliance.data_dir / "documents"
        assert not documents.exists() or list(documents.iterdir()) == []

        for number in (US, GB, JAMAICA):
            accepted(client, number)
        assert len(client.get("/fax").json()["items"]) == 3


@pytest.fixture
def narrow(tmp_path: Path) -> Iterator[Appliance]:
    extra = (
        "appliance:\n  destinations:\n    countries: [US, '+881']\n"
        "    number_types: [fixed_line_or_mobile, mobile, premium_rate]\n"
    )
    running = build(tmp_path, delay=0, extra=extra)
    with running.running():
        yield running


def test_a_configured_policy_allows_only_what_it_lists(narrow: Appliance) -> None:
    with narrow.client() as client:
        for number in (GB, JAMAICA):
            details = refused(client, number)["details"]
            assert details["rule"] == "country"
        assert refused(client, JAMAICA)["details"]["region"] == "JM"
        for number in (US, US_PREMIUM, SATELLITE):  # premium_rate and +881 are allowed here
            accepted(client, number)


def test_explain_shows_the_effective_policy(narrow: Appliance) -> None:
    shown = subprocess.run(
        [FAXBOT, "config", "explain", "appliance.destinations"],
        cwd=narrow.root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "effective policy:" in shown
    assert "sends to: only +881, US" in shown
    assert "number types allowed: mobile, fixed_line_or_mobile, premium_rate" in shown
    assert "number types refused: fixed_line, toll_free, shared_cost" in shown
    assert "90-test.yaml" in shown  # where it was set


def test_explain_shows_the_default_policy(tmp_path: Path) -> None:
    root = build(tmp_path).root
    shown = subprocess.run(
        [FAXBOT, "config", "explain", "appliance.destinations.number_types"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "sends to: every country and region (not the international networks +800" in shown
    assert "number types refused: premium_rate, shared_cost, personal_number, pager" in shown
    assert "default" in shown
