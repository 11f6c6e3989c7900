"""The moto server of the tests (tests/s3_server.py) keeps answering however many requests it
logs: its log line per request once filled an unread pipe after ~600 requests, and every
request after that waited for good (the replicas' test stalled in `storage.put`)."""

from __future__ import annotations

import httpx

REQUESTS = 1000  # a 64 KiB pipe holds ~580 of moto's request lines


def test_the_moto_server_answers_past_a_pipes_worth_of_log_lines(
    s3_server: str, s3_bucket: str
) -> None:
    with httpx.Client(base_url=s3_server, timeout=10) as client:
        for n in range(REQUESTS):
            answer = client.head(f"/{s3_bucket}")
            assert answer.status_code == 200, (n, answer.status_code)
