"""Every `code` a GET /diagnostics warning can carry, with what it means: a closed set the
spec's `WarningCode` enum and docs/appliance.md's warnings table are generated from
(`faxbot codegen`). A warning is about how the appliance is configured, not an error: it
runs, but someone should look."""

from __future__ import annotations

from enum import StrEnum

EXPIRY_WARNING_DAYS = 14  # an API key that stops working within this many days is warned of


class WarningCode(StrEnum):
    """Why GET /diagnostics warns; docs/appliance.md lists each code and its meaning."""

    # Each member is `(code, meaning)`.

    meaning: str

    def __new__(cls, value: str, meaning: str) -> WarningCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    DEV_PROFILE = (
        "dev_profile",
        "The appliance runs the dev profile: http allowed, no audit log or storage encryption "
        "required. Not for real patient data.",
    )
    NO_AUDIT_LOG = (
        "no_audit_log",
        "`appliance.audit_log` is off: sends, reads and downloads are not recorded.",
    )
    NO_RETENTION = (
        "no_retention",
        "A document retention period is not set (`subject`: the setting, "
        "`appliance.retention.outbound_document_days` or `inbound_document_days`): those "
        "fax documents are kept until deleted by hand.",
    )
    API_KEY_EXPIRING = (
        "api_key_expiring",
        f"An API key (`subject`: its id) stops working within {EXPIRY_WARNING_DAYS} days; the "
        "message gives the date. Issue a new key in config.d before then.",
    )
    API_KEY_EXPIRED = (
        "api_key_expired",
        "An API key (`subject`: its id) has expired and is refused; remove it from config.d.",
    )
