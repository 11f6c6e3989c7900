"""A send whose outcome the transport cannot tell (OutcomeUnknown: the provider took it, the
answer was lost) is looked up with find_sent, never sent blindly again, through a real
`faxbot serve`: the job ends SUCCESS with exactly one hand-over in the provider's ledger."""

from __future__ import annotations

from pathlib import Path

from tests.server.conftest import build, ledger, one_page_pdf

UNKNOWN = "+12025550177"


def test_an_unknown_outcome_is_resolved_by_find_sent_with_one_send(tmp_path: Path) -> None:
    appliance = build(tmp_path, delay=0.2, extra=f"      outcome_unknown_numbers: ['{UNKNOWN}']\n")
    with appliance.running():
        with appliance.client() as client:
            response = client.post(
                "/fax", data={"to": UNKNOWN}, files={"file": ("d.pdf", one_page_pdf())}
            )
            assert response.status_code == 202, response.text
            job_id = response.json()["id"]
        done = appliance.wait_for(job_id, timeout=60)
        assert done["status"] == "SUCCESS", done
        sends = [entry for entry in ledger(appliance.data_dir) if entry["job_id"] == job_id]
        assert len(sends) == 1
        assert done["provider_sid"] == sends[0]["provider_sid"]
    assert "send_outcome_unknown" in appliance.log.read_text()
