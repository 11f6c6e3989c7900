"""The destination policy (toll-fraud protection): which countries and which kinds of number
the appliance sends faxes to. Shared by the compiler (which checks `appliance.destinations`)
and the job service (which refuses a fax before anything is stored). Number types are
phonenumbers' own, in lowercase; phonenumbers is imported on first use, not at start."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

EVERY_COUNTRY = "*"
# Every type phonenumbers knows, in its own words; a config naming another is an error.
NUMBER_TYPES = (
    "fixed_line",
    "mobile",
    "fixed_line_or_mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "unknown",
)
NON_GEOGRAPHIC = "001"  # phonenumbers' region of the networks of no country (+800, +881, ...)

Rule = Literal["country", "number_type"]


@dataclass(frozen=True)
class Refusal:
    """Why the policy refuses a number: the rule, and what the number is under it."""

    rule: Rule
    region: str  # ISO 3166 region, or "001" for an international network
    calling_code: str  # such as "+44"
    number_type: str

    @property
    def message(self) -> str:
        if self.rule == "country":
            where = (
                f"the international network {self.calling_code}"
                if self.region == NON_GEOGRAPHIC
                else f"{self.region} ({self.calling_code})"
            )
            return (
                f"the destination policy does not allow faxes to {where}; "
                "appliance.destinations.countries lists what it allows"
            )
        return (
            f"the destination policy does not allow {self.number_type} numbers; "
            "appliance.destinations.number_types lists what it allows"
        )


@dataclass(frozen=True)
class DestinationPolicy:
    """`countries`: "*" (every country and region, not the international networks), ISO 3166
    regions such as "US", or calling codes such as "+44" (all the regions sharing it, and the
    only way to allow an international network such as +881). `number_types`: allowed types."""

    countries: frozenset[str]
    number_types: frozenset[str]

    @classmethod
    def of(cls, countries: Iterable[str], number_types: Iterable[str]) -> DestinationPolicy:
        return cls(frozenset(countries), frozenset(number_types))

    def refusal(self, e164: str) -> Refusal | None:
        """Why the policy refuses `e164` (a valid E.164 number), or None when it allows it."""
        region, calling_code, number_type = classify(e164)
        allowed = (
            calling_code in self.countries
            or region in self.countries
            or (EVERY_COUNTRY in self.countries and region != NON_GEOGRAPHIC)
        )
        if not allowed:
            return Refusal("country", region, calling_code, number_type)
        if number_type not in self.number_types:
            return Refusal("number_type", region, calling_code, number_type)
        return None

    def describe(self) -> list[str]:
        """The effective policy in words, a line each (for `faxbot config explain`)."""
        countries = sorted(self.countries - {EVERY_COUNTRY})
        if EVERY_COUNTRY in self.countries:
            extra = [c for c in countries if c.startswith("+")]
            left_out = [c for c in international_networks() if c not in extra]
            where = "every country and region"
            if extra:
                where += f", and the international networks {', '.join(extra)}"
            if left_out:
                where += f" (not the international networks {', '.join(left_out)})"
        else:
            where = "only " + ", ".join(countries) if countries else "nowhere"
        refused = [t for t in NUMBER_TYPES if t not in self.number_types]
        allowed = [t for t in NUMBER_TYPES if t in self.number_types]
        return [
            f"sends to: {where}",
            f"number types allowed: {', '.join(allowed) or 'none'}",
            f"number types refused: {', '.join(refused) or 'none'}",
        ]


def international_networks() -> list[str]:
    """The calling codes of networks that belong to no country (satellite phones, global
    services): phonenumbers' region 001."""
    import phonenumbers

    return [
        f"+{code}"
        for code, regions in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items())
        if regions == (NON_GEOGRAPHIC,)
    ]


@functools.lru_cache(maxsize=4096)
@functools.lru_cache(maxsize=4096)
def classify(e164: str) -> tuple[str, str, str]:
    """The region, calling code and number type of a valid E.164 number. Cached as
    faxbot.jobs.numbers caches validation: every POST /fax asks, mostly for the same numbers."""
    import phonenumbers

    number = phonenumbers.parse(e164, None)
    region = phonenumbers.region_code_for_number(number) or "ZZ"
    kind = phonenumbers.number_type(number)
    return region, f"+{number.country_code}", _type_names().get(kind, "unknown")


@functools.cache
def _type_names() -> dict[int, str]:
    from phonenumbers import PhoneNumberType

    return {getattr(PhoneNumberType, name.upper()): name for name in NUMBER_TYPES}


def country_problem(entry: str) -> str | None:
    """Why `entry` is not a country the policy can name, or None."""
    import phonenumbers

    if entry == EVERY_COUNTRY:
        return None
    if entry.startswith("+"):
        digits = entry[1:]
        if digits.isdigit() and int(digits) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return None
        return f"unknown country calling code {entry!r}; write one such as '+1' or '+44'"
    if entry in phonenumbers.SUPPORTED_REGIONS:
        return None
    if entry.upper() in phonenumbers.SUPPORTED_REGIONS:
        return f"unknown region {entry!r}; did you mean {entry.upper()!r}? (regions are uppercase)"
    return (
        f"unknown country {entry!r}: write '*', an ISO 3166 region such as 'US', "
        "or a calling code such as '+44'"
    )


def number_type_problem(entry: str, known: Sequence[str] = NUMBER_TYPES) -> str | None:
    if entry in known:
        return None
    close = difflib.get_close_matches(entry, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known types: {', '.join(known)}"
    return f"unknown number type {entry!r}; {hint}"
