"""What can go wrong with a request for a fax job, in the domain's words. Each error carries
the request field it is about, when there is one; the server maps the types to statuses."""

from __future__ import annotations

from typing import Any


class JobError(Exception):
    """A request the job service refuses; `details` are safe to show to the caller."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


class InvalidRequest(JobError):
    """A field is missing or malformed."""


class InvalidNumber(InvalidRequest):
    """The fax number is missing or not a valid E.164 number."""


class InvalidCursor(InvalidRequest):
    """The cursor is not one the API returned, or was issued for other filters."""


class DocumentRejected(JobError):
    """The document was read but cannot be sent."""


class UnreadableDocument(DocumentRejected):
    """The document cannot be read: damaged, encrypted, empty."""


class TooManyPages(DocumentRejected):
    """The document has more pages than the appliance accepts for one fax."""


class DestinationRefused(JobError):
    """The appliance's destination policy does not allow faxes to that number (its country or
    its kind of number); `details.rule` names the rule."""


class DocumentTooComplex(DocumentRejected):
    """The document would cost too much to lay out or send: a text line too long, a PDF page
    too large."""


class RendererBusy(JobError):
    """Every text renderer is busy and the queue waiting for one is full; retry later."""

    retry_after_seconds = 1


class RenderFailed(JobError):
    """The text could not be drawn through no fault of its own (its renderer stopped)."""


class UnsupportedDocument(JobError):
    """The document is neither a PDF nor text."""


class IdempotencyConflict(JobError):
    """The Idempotency-Key was used before for a different fax."""


class JobNotFound(JobError):
    """No job has that id."""


class NotSending(JobError):
    """This appliance has no outbound transport running (none configured, or starting)."""


class StorageFull(JobError):
    """The disk (or quota) holding the documents or the database is full: nothing was kept."""


class DatabaseUnavailable(JobError):
    """The database refused a write for a reason of its own (locked, read-only, I/O error, the
    server gone), not because of the request: nothing was kept; retry shortly."""

    retry_after_seconds = 5


class DatabaseLost(JobError):
    """The database file was deleted or replaced while the appliance ran: writes are refused
    until it is restarted on the right database."""


class NotReceiving(JobError):
    """No inbound transport is running (none configured, or the appliance is starting)."""
