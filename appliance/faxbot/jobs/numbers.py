"""Fax numbers: E.164, validated for real with phonenumbers."""

from __future__ import annotations

import functools

from faxbot.jobs.errors import InvalidNumber

E164_HINT = "an E.164 number such as +12025550143"


def valid_number(raw: str | None) -> str:
    """`raw` as an E.164 number, or InvalidNumber naming the problem."""
    if not raw:
        raise InvalidNumber(f"missing field `to`: {E164_HINT}", {"field": "to"})
    text = raw.strip()
    if _e164(text) is None:
        raise InvalidNumber(f"`to` must be {E164_HINT}", {"field": "to", "value": text[:32]})
    return text


@functools.lru_cache(maxsize=4096)
def _e164(text: str) -> str | None:
    """`text` if it is a valid number written in E.164, else None. Cached: checking a number
    with phonenumbers takes ~20 us, and a fax appliance sends to the same numbers again and
    again (a clinic's pharmacies, a firm's courts)."""
    import phonenumbers  # its metadata loads on the first fax, not at start

    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if formatted != text or not phonenumbers.is_valid_number(number):
        return None
    return formatted
