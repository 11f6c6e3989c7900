"""Sinch's Fax object read into the contract's values: status mapping, errors, received faxes.
Fields Sinch leaves out are None; a value of the wrong type is ignored, never trusted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from faxbot.plugins.contract import FaxStatus, ReceivedFax, StatusUpdate

JOB_LABEL = "faxbot_job"  # the label that carries the job id on every fax we send

# Sinch's fax statuses. QUEUED is Sinch's queue, not ours: the fax is already handed over.
STATUSES: Mapping[str, FaxStatus] = {
    "QUEUED": FaxStatus.IN_PROGRESS,
    "IN_PROGRESS": FaxStatus.IN_PROGRESS,
    "COMPLETED": FaxStatus.SUCCESS,
    "FAILURE": FaxStatus.FAILED,
}


def status_update(fax: Mapping[str, Any]) -> StatusUpdate:
    """Where a sent fax is. A status Sinch adds later reads as still in progress: the job keeps
    being followed until a known final status or the appliance's send timeout."""
    status = STATUSES.get(str(fax.get("status")), FaxStatus.IN_PROGRESS)
    error = failure_message(fax) if status is FaxStatus.FAILED else None
    return StatusUpdate(status=status, pages=_int(fax.get("numberOfPages")), error=error)


def failure_message(fax: Mapping[str, Any]) -> str:
    """`errorType errorCode: errorMessage`, as Sinch gave them."""
    kind = fax.get("errorType") or "FAILURE"
    code = fax.get("errorCode")
    message = fax.get("errorMessage") or "the fax failed"
    return f"Sinch {kind}" + (f" {code}" if code is not None else "") + f": {message}"


def job_label(fax: Mapping[str, Any]) -> str | None:
    labels = fax.get("labels")
    if isinstance(labels, Mapping):
        value = labels.get(JOB_LABEL)
        return value if isinstance(value, str) else None
    return None


def received_fax(fax: Mapping[str, Any], document: bytes | None = None) -> ReceivedFax:
    return ReceivedFax(
        provider_sid=str(fax["id"]),
        sender=_str(fax.get("from")),
        recipient=_str(fax.get("to")),
        pages=_int(fax.get("numberOfPages")),
        received_at=epoch(fax.get("completedTime") or fax.get("createTime")),
        document=document,
    )


def epoch(value: object) -> float:
    """Seconds since the epoch of one of Sinch's UTC timestamps (0 when missing or unreadable)."""
    if not isinstance(value, str):
        return 0.0
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return 0.0
    if moment.tzinfo is None:  # Sinch's times are UTC unless they say otherwise
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
