"""GET /inbound, /inbound/{id}, /inbound/{id}/pdf through a real `faxbot serve`: isolation by
number (api_keys[].inbound_numbers, inbound:read_all), the filters and the cursor."""

from __future__ import annotations

from pathlib import Path

from tests.server.receiving import OTHER_NUMBER, OUR_NUMBER, SENDER, post, received, receiving


def test_a_key_reads_only_the_faxes_of_its_numbers(tmp_path: Path) -> None:
    appliance = receiving(tmp_path)
    with appliance.running():
        events = [
            received("ours-1", b"%PDF-1.4 ours one", to=OUR_NUMBER, at=1_790_000_001.0),
            received("theirs-1", b"%PDF-1.4 theirs", to=OTHER_NUMBER, at=1_790_000_002.0),
            received("ours-2", b"%PDF-1.4 ours two", to=OUR_NUMBER, at=1_790_000_003.0),
        ]
        assert post(appliance, events).json()["events"] == {"received": 3}
        with appliance.client("desk") as desk, appliance.client("other") as other:
            mine = desk.get("/inbound").json()["items"]
            assert [f["provider_sid"] for f in mine] == ["ours-2", "ours-1"]  # newest first
            (theirs,) = other.get("/inbound").json()["items"]
            assert theirs["provider_sid"] == "theirs-1"
            # another number's fax is answered as one that does not exist
            missing = desk.get("/inbound/0123456789abcdef0123456789abcdef")
            for path in (f"/inbound/{theirs['id']}", f"/inbound/{theirs['id']}/pdf"):
                refused = desk.get(path)
                assert refused.status_code == 404
                assert refused.json()["code"] == missing.json()["code"] == "inbound_not_found"
                assert refused.json()["details"].keys() == missing.json()["details"].keys()
            assert other.get(f"/inbound/{theirs['id']}/pdf").content == b"%PDF-1.4 theirs"
        with appliance.client("all") as everyone:
            every = everyone.get("/inbound").json()["items"]
            assert len(every) == 3
        with appliance.client("admin") as admin:  # no numbers, no read_all: nothing
            assert admin.get("/inbound").json()["items"] == []
        with appliance.client("reader") as reader:  # no inbound scope
            assert reader.get("/inbound").status_code == 403


def test_filters_and_cursor(tmp_path: Path) -> None:
    appliance = receiving(tmp_path)
    with appliance.running():
        events = [
            received(
                f"rx-{n}",
                b"%PDF-1.4",
                sender=SENDER if n % 2 else "+16175550100",
                at=1_790_000_000.0 + n,
            )
            for n in range(7)
        ]
        post(appliance, events)
        with appliance.client("all") as client:
            seen: list[str] = []
            cursor = None
            while True:
                params: dict[str, str | int] = {"limit": 2, "from": SENDER}
                if cursor:
                    params["cursor"] = cursor
                page = client.get("/inbound", params=params).json()
                seen += [f["provider_sid"] for f in page["items"]]
                cursor = page["next_cursor"]
                if not cursor:
                    break
            assert seen == ["rx-5", "rx-3", "rx-1"]
            window = client.get(
                "/inbound",
                params={
                    "received_since": "2026-09-21T14:13:22Z",  # 1_790_000_002
                    "received_until": "2026-09-21T14:13:24Z",
                    "to": OUR_NUMBER,
                },
            ).json()["items"]
            assert [f["provider_sid"] for f in window] == ["rx-3", "rx-2"]
            other_filter = client.get("/inbound", params={"cursor": cursor or "x", "limit": 1})
            assert other_filter.status_code == 400
            assert client.get("/inbound", params={"to": "12345"}).status_code == 400
