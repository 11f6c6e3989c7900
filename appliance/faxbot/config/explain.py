"""`faxbot config explain KEY`: the resolved value of a key (masked when secret) and every
file:line that set it, in merge order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from faxbot.config.compiler import CompileResult
from faxbot.config.merge import leaves
from faxbot.config.structure import did_you_mean
from faxbot.destinations import DestinationPolicy
from faxbot.kernel.keypath import KeyPath, format_path, is_under
from faxbot.kernel.secrets import MASK, ReferenceError_, looks_like_reference, parse_reference

_MISSING = object()


@dataclass(frozen=True)
class Origin:
    place: str  # FILE:LINE:COL, or "default", or "plugin <id> defaults"
    path: str
    value: Any  # masked when secret
    wins: bool


@dataclass(frozen=True)
class Explanation:
    path: str
    value: Any  # masked when secret
    secret: bool
    origins: list[Origin]
    effective: list[str] = field(default_factory=list)  # what the value means, in words


DESTINATIONS: KeyPath = ("appliance", "destinations")


def effective(result: CompileResult, path: KeyPath) -> list[str]:
    """The destination policy in words when `path` is it, inside it, or around it (the
    appliance as a whole): the lists alone do not say what `*` leaves out, nor what is refused."""
    if not (is_under(path, DESTINATIONS) or is_under(DESTINATIONS, path)) or not path:
        return []
    policy = _lookup(result.data, DESTINATIONS)
    if not isinstance(policy, dict):
        return []
    countries, types = policy.get("countries"), policy.get("number_types")
    if not isinstance(countries, list) or not isinstance(types, list):
        return []
    return DestinationPolicy.of(map(str, countries), map(str, types)).describe()


class UnknownKey(LookupError):
    pass


def _lookup(data: Any, path: KeyPath) -> Any:
    for part in path:
        indexable = isinstance(data, dict) or (isinstance(data, list) and isinstance(part, int))
        try:
            data = data[part] if indexable else _MISSING
        except (KeyError, IndexError):
            return _MISSING
    return data


def mask(value: Any) -> Any:
    """A secret as explain shows it: its reference, never a literal."""
    if isinstance(value, str) and looks_like_reference(value):
        try:
            return f"{MASK} (from {parse_reference(value)})"
        except ReferenceError_:
            return MASK
    return MASK


def masked(result: CompileResult, value: Any, path: KeyPath) -> Any:
    if result.is_secret(path) and value is not None:
        return mask(value)
    if isinstance(value, dict):
        return {k: masked(result, v, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(result, v, (*path, i)) for i, v in enumerate(value)]
    return value


def _default_origins(defaulted: dict[KeyPath, str], path: KeyPath) -> list[KeyPath]:
    """The defaults that gave `path` its value: the innermost defaulted paths inside it, or
    else the nearest defaulted mapping around it."""
    inside = [d for d in defaulted if is_under(d, path)]
    innermost = [d for d in inside if not any(o != d and is_under(o, d) for o in inside)]
    if innermost:
        return sorted(innermost, key=format_path)
    around = [d for d in defaulted if is_under(path, d)]
    return [max(around, key=len)] if around else []


def explain(result: CompileResult, path: KeyPath) -> Explanation:
    value = _lookup(result.data, path)
    if value is _MISSING:
        known = [format_path(p) for p, _ in leaves(result.data, ())]
        known += [format_path(p) for p in result.merged.value_marks]
        raise UnknownKey(
            f"no key {format_path(path)} in the resolved config"
            + did_you_mean(format_path(path), sorted(set(known)))
        )
    order = {f.display: i for i, f in enumerate(result.fragments)}
    setters = []
    for leaf, history in result.merged.history.items():
        if is_under(leaf, path) or is_under(path, leaf):
            for setter in history:
                setters.append((leaf, setter))
    setters.sort(key=lambda s: (order.get(s[1].mark.file, -1), s[1].mark.line, s[1].mark.column))
    origins = []
    for leaf, setter in setters:
        final = result.merged.history[leaf][-1] is setter
        origins.append(
            Origin(str(setter.mark), format_path(leaf), masked(result, setter.value, leaf), final)
        )
    for default_path in _default_origins(result.defaulted, path):
        fill = _lookup(result.data, default_path)
        origins.append(
            Origin(
                result.defaulted[default_path],
                format_path(default_path),
                masked(result, fill, default_path),
                True,
            )
        )
    return Explanation(
        format_path(path),
        masked(result, value, path),
        result.is_secret(path),
        origins,
        effective(result, path),
    )
