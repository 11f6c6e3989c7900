"""Phaxio's fax object in the product's words: its status as a StatusUpdate, a received fax as a
ReceivedFax. docs/transports.md has the status table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from faxbot.plugins.contract import FaxStatus, ReceivedFax, StatusUpdate

JOB_TAG = "faxbot_job"  # the tag that carries the job id: `tag[faxbot_job]` on send

# Phaxio's fax statuses. One recipient per fax, so `partialsuccess` (some recipients of a
# batch reached, some not) never describes a whole delivery: it is a failure.
STATUSES: Mapping[str, FaxStatus] = {
    "queued": FaxStatus.IN_PROGRESS,
    "pendingbatch": FaxStatus.IN_PROGRESS,
    "inprogress": FaxStatus.IN_PROGRESS,
    "success": FaxStatus.SUCCESS,
    "failure": FaxStatus.FAILED,
    "partialsuccess": FaxStatus.FAILED,
}


class MalformedFax(ValueError):
    """Phaxio's answer is not the fax object its docs describe."""


def fax_id(fax: Mapping[str, Any]) -> str:
    value = fax.get("id")
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value) == "":
        raise MalformedFax("a fax object without an id")
    return str(value)


def status_update(fax: Mapping[str, Any]) -> StatusUpdate:
    """Where a sent fax is, from its fax object. An unknown status is still in progress: the
    job's send timeout fails it if Phaxio never says more."""
    status = STATUSES.get(str(fax.get("status")), FaxStatus.IN_PROGRESS)
    pages = fax.get("num_pages")
    pages = pages if isinstance(pages, int) and not isinstance(pages, bool) else None
    if status is not FaxStatus.FAILED:
        return StatusUpdate(status, pages=pages)
    return StatusUpdate(status, pages=pages, error=failure_message(fax))


def failure_message(fax: Mapping[str, Any]) -> str:
    """Phaxio's own words for a failure: error type and message, e.g.
    `lineError: The line was busy`."""
    kind = fax.get("error_type") or "failure"
    message = fax.get("error_message") or fax.get("message") or ""
    if fax.get("status") == "partialsuccess":
        message = f"not every recipient was reached; {message}".rstrip("; ")
    return f"Phaxio {kind}: {message}" if message else f"Phaxio {kind}"


def job_id(fax: Mapping[str, Any]) -> str | None:
    tags = fax.get("tags")
    if isinstance(tags, Mapping):
        value = tags.get(JOB_TAG)
        return str(value) if value else None
    return None


def received_fax(fax: Mapping[str, Any], document: bytes | None) -> ReceivedFax:
    pages = fax.get("num_pages")
    return ReceivedFax(
        provider_sid=fax_id(fax),
        sender=_number(fax.get("from_number")),
        recipient=_number(fax.get("to_number")),
        pages=pages if isinstance(pages, int) and not isinstance(pages, bool) else None,
        received_at=timestamp(fax.get("completed_at") or fax.get("created_at")),
        document=document,
    )


def timestamp(value: object) -> float:
    """Epoch seconds of an RFC 3339 time (Phaxio's `created_at`, `completed_at`)."""
    if not isinstance(value, str):
        raise MalformedFax("a fax object without its time")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise MalformedFax(f"not an RFC 3339 time: {value!r}") from None


def _number(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_fax(encoded: str) -> dict[str, Any]:
    """A callback's `fax` field: the fax object, JSON-encoded."""
    try:
        fax = json.loads(encoded)
    except json.JSONDecodeError:
        raise MalformedFax("the callback's fax field is not JSON") from None
    if not isinstance(fax, dict):
        raise MalformedFax("the callback's fax field is not an object")
    return fax
