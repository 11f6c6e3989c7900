"""GET /metrics through a real `faxbot serve`: the Prometheus text after sends, webhooks and a
received fax (the series there, their values moving), no number, id, sid or key anywhere in
it, and its protection (401 without a key, 403 without metrics:read)."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.server.conftest import Appliance, build, one_page_pdf
from tests.server.more_keys import Key, add_keys
from tests.server.receiving import OUR_NUMBER, SENDER, post, received, receiving, status
from tests.server.test_webhooks import send

NUMBERS = ("+12025550143", "+12025550144", "+12025550145")


def scrape(appliance: Appliance) -> tuple[str, dict[tuple[str, frozenset[tuple[str, str]]], float]]:
    with appliance.client("scraper") as client:
        answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }
    return answer.text, samples


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_the_series_move_and_name_no_number_or_id(tmp_path: Path) -> None:
    appliance = receiving(tmp_path, delay=0.2)
    add_keys(appliance, {"scraper": Key(("metrics:read",))})
    with appliance.running():
        jobs = [send(appliance, to=number) for number in NUMBERS]
        ended = [appliance.wait_for(str(job["id"])) for job in jobs]
        assert {job["status"] for job in ended} == {"SUCCESS"}
        before, first = scrape(appliance)

        sid = str(ended[0]["provider_sid"])
        assert post(appliance, [status(sid, "SUCCESS", "event-late")]).status_code == 200
        assert post(appliance, [status(sid, "SUCCESS", "e")], secret="forged").status_code == 401
        fax = received("rx-metrics-1", b"%PDF-1.4 received", to=OUR_NUMBER, sender=SENDER)
        assert post(appliance, [fax]).json()["events"] == {"received": 1}
        assert post(appliance, [fax]).json()["events"] == {"received_duplicate": 1}
        with appliance.client("all") as reader:
            (inbound,) = reader.get("/inbound").json()["items"]
        after, second = scrape(appliance)

    # requests by route template, method and status: three sends, the polls of /fax/{job_id}
    assert (
        value(first, "faxbot_http_requests_total", route="/fax", method="POST", status="202") == 3
    )
    polled = {"route": "/fax/{job_id}", "method": "GET", "status": "200"}
    assert value(first, "faxbot_http_requests_total", **polled) >= 3
    latency = {"route": "/fax", "method": "POST"}
    assert value(first, "faxbot_http_request_duration_seconds_count", **latency) == 3
    assert value(first, "faxbot_http_request_duration_seconds_sum", **latency) > 0
    # the jobs gauge, read from the database: all three done
    assert value(first, "faxbot_jobs", phase="done") == 3
    # hand-overs timed, no provider error
    assert value(first, "faxbot_hand_over_duration_seconds_count", plugin="test") == 3
    for step in ("send", "status", "find_sent"):
        assert value(first, "faxbot_provider_errors_total", plugin="test", step=step) == 0
    # the dispatcher's sweep ran at least once at start, and so did the retention sweep
    assert value(first, "faxbot_sweep_duration_seconds_count", sweep="dispatch") >= 1
    assert value(first, "faxbot_sweep_duration_seconds_count", sweep="retention") >= 1

    # webhooks: one rejected, three accepted; the received fax counted once
    assert value(first, "faxbot_inbound_faxes_total", plugin="test") == 0
    assert value(second, "faxbot_webhook_requests_total", plugin="test", outcome="rejected") == 1
    assert value(second, "faxbot_webhook_requests_total", plugin="test", outcome="accepted") == 3
    assert value(second, "faxbot_webhook_events_total", plugin="test", result="received") == 1
    duplicates = value(
        second, "faxbot_webhook_events_total", plugin="test", result="received_duplicate"
    )
    assert duplicates == 1
    assert value(second, "faxbot_inbound_faxes_total", plugin="test") == 1
    late = sum(
        v
        for (name, labels), v in second.items()
        if name == "faxbot_webhook_events_total" and ("plugin", "test") in labels
    )
    assert late == 3  # the late status report, the fax and its duplicate
    # the first scrape itself is counted by the second
    assert (
        value(second, "faxbot_http_requests_total", route="/metrics", method="GET", status="200")
        == 1
    )

    secrets = [
        *NUMBERS,
        *(n.lstrip("+") for n in (*NUMBERS, OUR_NUMBER, SENDER)),
        OUR_NUMBER,
        SENDER,
        *(str(job["id"]) for job in ended),
        *(str(job["provider_sid"]) for job in ended),
        "rx-metrics-1",
        str(inbound["id"]),
        *appliance.tokens.values(),
    ]
    for text in (before, after):
        for secret in secrets:
            assert secret not in text, secret


def test_metrics_need_a_key_with_their_scope(tmp_path: Path) -> None:
    appliance = receiving(tmp_path)
    add_keys(appliance, {"scraper": Key(("metrics:read",))})
    with appliance.running():
        with appliance.client("") as nobody:
            unauthenticated = nobody.get("/metrics")
        assert unauthenticated.status_code == 401
        assert "faxbot_" not in unauthenticated.text
        with appliance.client("admin") as admin:  # every other scope, not this one
            refused = admin.get("/metrics")
        assert refused.status_code == 403
        assert refused.json()["code"] == "missing_scope"
        assert refused.json()["details"]["required_scope"] == "metrics:read"
        with appliance.client("scraper") as scraper:
            assert scraper.get("/metrics").status_code == 200


def test_a_failing_hand_over_counts_a_provider_error(tmp_path: Path) -> None:
    """The transport takes the fax but its answer is lost (OutcomeUnknown, a TransportError):
    one provider error at the send step, none at the others; the job still ends SUCCESS (the
    provider is asked with find_sent)."""
    unknown = "+12025550177"
    appliance = build(tmp_path, delay=0, extra=f"      outcome_unknown_numbers: ['{unknown}']\n")
    add_keys(appliance, {"scraper": Key(("metrics:read",))})
    with appliance.running():
        with appliance.client() as client:
            answer = client.post(
                "/fax", data={"to": unknown}, files={"file": ("d.pdf", one_page_pdf())}
            )
        assert answer.status_code == 202, answer.text
        assert appliance.wait_for(answer.json()["id"], timeout=60)["status"] == "SUCCESS"
        text, samples = scrape(appliance)
    errors = {"plugin": "test", "step": "send"}
    assert value(samples, "faxbot_provider_errors_total", **errors) == 1
    for step in ("status", "find_sent"):
        assert value(samples, "faxbot_provider_errors_total", plugin="test", step=step) == 0
    assert unknown[2:] not in text
