"""The cursors of the store's newest-first lists (jobs, received faxes): where the last page
ended (its last row's time and id) and a digest of the filters it was asked with, as opaque
URL-safe text. A page that continued another query's cursor would skip or repeat rows, so a
cursor is refused with other filters."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json


class BadCursor(ValueError):
    """Not a cursor this API returned, or one issued for other filters."""


def filters_digest(*values: object) -> str:
    """What a cursor remembers of the filters (JSON values) it was issued for."""
    return hashlib.sha256(json.dumps(list(values)).encode()).hexdigest()[:16]


def encode(at: float, row_id: str, digest: str) -> str:
    raw = json.dumps([at, row_id, digest]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(
    cursor: str, digest: str, filter_names: str, *, digest_if_absent: str | None = None
) -> tuple[float, str]:
    """The time and id `cursor` continues after. BadCursor when it is not one this API
    returned, or was issued for filters other than those of `digest` (`filter_names` says
    which to send again). `digest_if_absent`: what a cursor without a digest (an earlier
    release's) was issued for; None refuses such a cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, row_id, *rest = json.loads(raw)
        if len(rest) > 1 or (not rest and digest_if_absent is None):
            raise ValueError(rest)
        issued_for = str(rest[0]) if rest else digest_if_absent
        after = float(at), str(row_id)
    except (ValueError, TypeError, binascii.Error):
        raise BadCursor("not a cursor this API returned") from None
    if issued_for != digest:
        raise BadCursor(
            f"this cursor was issued for other filters: send the same {filter_names} as the "
            "request that returned it"
        )
    return after
