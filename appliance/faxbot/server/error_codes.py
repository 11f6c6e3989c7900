"""Every `code` an error body can carry, with its HTTP status and what it means: the one table
the error handlers answer from, the spec's `ErrorCode` enum is generated from and
docs/appliance.md's error table is generated from (`faxbot codegen`). A code is stable:
programs branch on it. Clients must accept a code they do not know (a newer appliance may add
one); its status still says what kind of failure it is."""

from __future__ import annotations

from enum import StrEnum

from faxbot.documents.pages import MAX_PAGE_SIDE_PT, MAX_STRUCTURE_BYTES
from faxbot.documents.text import MAX_LINE_CHARS


class ErrorCode(StrEnum):
    """What went wrong, for programs to branch on; docs/appliance.md lists each code with its
    status and meaning. A newer appliance may add codes: accept one you do not know."""

    # Each member is `(code, HTTP status, meaning)`.

    status: int
    meaning: str

    def __new__(cls, value: str, status: int, meaning: str) -> ErrorCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.status = status
        member.meaning = meaning
        return member

    INVALID_REQUEST = (
        "invalid_request",
        400,
        "A field or parameter is missing or malformed; `details` names it.",
    )
    INVALID_NUMBER = (
        "invalid_number",
        400,
        "The fax number (`to`) is missing or not a valid E.164 number such as +12025550143.",
    )
    INVALID_CURSOR = (
        "invalid_cursor",
        400,
        "The `cursor` is not one this API returned, or was issued for other filters.",
    )
    MISSING_API_KEY = (
        "missing_api_key",
        401,
        "No API key in `X-API-Key` or `Authorization: Bearer`.",
    )
    INVALID_API_KEY = (
        "invalid_api_key",
        401,
        "The API key is unknown or expired.",
    )
    MISSING_SCOPE = (
        "missing_scope",
        403,
        "The API key lacks the scope this operation needs (`details.required_scope`).",
    )
    NOT_FOUND = (
        "not_found",
        404,
        "No such route: a wrong path, or an operation whose capability no enabled plugin "
        "offers (`GET /config` lists what is served).",
    )
    JOB_NOT_FOUND = ("job_not_found", 404, "No fax job has that id.")
    INBOUND_NOT_FOUND = (
        "inbound_not_found",
        404,
        "No received fax with that id that this key may read (another number's fax answers "
        "the same).",
    )
    DOCUMENT_DELETED = (
        "document_deleted",
        410,
        "The received fax's document was deleted under `appliance.retention`; its record remains.",
    )
    DOCUMENT_LINK_NOT_FOUND = (
        "document_link_not_found",
        404,
        "No document behind that link: it never existed, expired, or was used already.",
    )
    WEBHOOK_NOT_FOUND = (
        "webhook_not_found",
        404,
        "No running plugin with that id takes webhooks (capability `ingest_webhook`).",
    )
    WEBHOOK_REJECTED = (
        "webhook_rejected",
        401,
        "The plugin could not verify the webhook (signature or credentials); nothing was changed.",
    )
    WEBHOOK_TOO_LARGE = (
        "webhook_too_large",
        413,
        "The webhook body is larger than `appliance.limits.webhook_body_bytes`; refused "
        "before it was read whole.",
    )
    PLUGIN_NOT_FOUND = (
        "plugin_not_found",
        404,
        "No plugin with that id in this appliance's configuration (`details.known`).",
    )
    METHOD_NOT_ALLOWED = (
        "method_not_allowed",
        405,
        "The route does not take this method; configuration is changed through config.d, "
        "never through the API.",
    )
    DOCUMENT_TOO_LARGE = (
        "document_too_large",
        413,
        "The request or document is larger than `appliance.limits.upload_max_bytes`.",
    )
    UNSUPPORTED_DOCUMENT = (
        "unsupported_document",
        415,
        "The body is not multipart/form-data, or the document is neither a PDF nor UTF-8 text.",
    )
    TOO_MANY_PAGES = (
        "too_many_pages",
        422,
        "The document has more pages than `appliance.limits.max_pages`.",
    )
    UNREADABLE_DOCUMENT = (
        "unreadable_document",
        422,
        "The document cannot be read: a damaged or encrypted PDF, or an empty document.",
    )
    DOCUMENT_TOO_COMPLEX = (
        "document_too_complex",
        422,
        "The document would cost too much to lay out or send, whatever its page count: a text "
        f"line longer than {MAX_LINE_CHARS:,} characters, a PDF page larger than "
        f"{MAX_PAGE_SIDE_PT / 72:.0f} inches on a side, or a PDF whose object streams inflate "
        f"past {MAX_STRUCTURE_BYTES // 2**20} MiB.",
    )
    IDEMPOTENCY_KEY_REUSED = (
        "idempotency_key_reused",
        422,
        "The Idempotency-Key was used before for a different fax (another number or "
        "document); use a new key for a new fax.",
    )
    DESTINATION_REFUSED = (
        "destination_refused",
        422,
        "The destination policy (`appliance.destinations`) does not allow faxes to that "
        "number: `details.rule` is `country` (its country or network is not allowed) or "
        "`number_type` (a premium-rate, shared-cost or other refused kind of number; "
        "`details.number_type` says which). Nothing was stored.",
    )
    HEADERS_TOO_LARGE = (
        "headers_too_large",
        431,
        "The request line and headers are larger than `appliance.limits.http.max_header_bytes`, "
        "or there are more headers than `appliance.limits.http.max_headers`; the connection is "
        "closed.",
    )
    RATE_LIMITED = (
        "rate_limited",
        429,
        "Too many requests from this API key (`api_keys[].rate_limit`), or without a valid key "
        "from this address; wait the seconds the Retry-After header says.",
    )
    STORAGE_FULL = (
        "storage_full",
        507,
        "The disk holding the documents or the database is full: nothing of the request was "
        "kept; `/health/ready` is false until space is freed. Safe to retry later.",
    )
    RENDER_FAILED = (
        "render_failed",
        500,
        "The text document could not be drawn because its render worker stopped (it is "
        "replaced); nothing was queued: send it again.",
    )
    INTERNAL_ERROR = (
        "internal_error",
        500,
        "An unexpected error; the appliance log has it under the same request id.",
    )
    TRANSPORT_UNAVAILABLE = (
        "transport_unavailable",
        503,
        "No outbound transport is running (none configured, or the appliance is starting).",
    )
    AUDIT_UNAVAILABLE = (
        "audit_unavailable",
        503,
        "The audit log cannot record the request, so it is not served (hipaa profile).",
    )
    DATABASE_LOST = (
        "database_lost",
        503,
        "The database file was deleted or replaced while the appliance ran: writes are "
        "refused (and `/health/ready` is false) until it is restored and the appliance "
        "restarted.",
    )
    DATABASE_UNAVAILABLE = (
        "database_unavailable",
        503,
        "The database could not take the write (locked by another program, read-only, an I/O "
        "error, the server gone): nothing was queued, and `/health/ready` is false until a "
        "write succeeds again; retry after Retry-After seconds.",
    )
    TOO_MANY_CONNECTIONS = (
        "too_many_connections",
        503,
        "The appliance has `appliance.limits.http.max_connections` connections open, each with "
        "a request in progress; retry after Retry-After seconds. Answered as the connection "
        "opens, before the request is read: a client may see the connection closed instead.",
    )
    RENDERER_BUSY = (
        "renderer_busy",
        503,
        "Every text render worker is busy and the queue waiting for one is full "
        "(`appliance.limits.render_queue`); nothing was queued: retry after Retry-After.",
    )
    NOT_READY = (
        "not_ready",
        503,
        "The appliance cannot serve the request now, for no more specific reason (no route "
        "answers it in this release; `/health/ready` answers its own body).",
    )


# Litestar's own errors (an unknown route, a method a route does not take, a body over the
# limit, a parameter that fails validation) carry only a status: their code by status.
BY_STATUS: dict[int, ErrorCode] = {
    400: ErrorCode.INVALID_REQUEST,
    401: ErrorCode.MISSING_API_KEY,
    403: ErrorCode.MISSING_SCOPE,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.DOCUMENT_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_DOCUMENT,
    429: ErrorCode.RATE_LIMITED,
    503: ErrorCode.NOT_READY,
}


def code_for_status(status: int) -> ErrorCode:
    """The code of an error that carries only its status."""
    found = BY_STATUS.get(status)
    if found is not None:
        return found
    return ErrorCode.INTERNAL_ERROR if status >= 500 else ErrorCode.INVALID_REQUEST


__all__ = ["ErrorCode", "code_for_status"]
