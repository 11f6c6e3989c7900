"""Check a plugin class against the contract before anything calls it: every claimed
capability's method exists, is `async` where the contract's is, and takes the contract's
parameters; every slot it fills has its protocol in full. Like pluggy's check of a hook
implementation against its spec, so a wrong signature is a located compile error rather than
a TypeError in production."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from faxbot.plugins.contract import (
    CAPABILITIES,
    OPTIONAL_METHODS,
    SLOT_PROTOCOLS,
    Manifest,
    Plugin,
)

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
LIFECYCLE = ("validate_config", "start", "stop")


def contract_problems(plugin_cls: type[Plugin], manifest: Manifest) -> list[str]:
    """Everything about `plugin_cls` that breaks the contract, as sentences."""
    problems: list[str] = []
    for name in LIFECYCLE:
        problems += _method_problems(plugin_cls, name, getattr(Plugin, name))
    for capability in manifest.capabilities:
        if capability not in CAPABILITIES:
            continue  # not a capability at all: the catalog check names it
        protocol, name = CAPABILITIES[capability]
        if not callable(getattr(plugin_cls, name, None)):
            method = "" if name == capability else f" (method {name})"
            problems.append(
                f"claims capability {capability!r} but {plugin_cls.__name__} does not "
                f"implement it{method}"
            )
            continue
        problems += _method_problems(plugin_cls, name, getattr(protocol, name))
    for name, protocol in OPTIONAL_METHODS.items():
        if callable(getattr(plugin_cls, name, None)):
            problems += _method_problems(plugin_cls, name, getattr(protocol, name))
    claimed = set(manifest.capabilities)
    for slot in manifest.categories:
        options = [_capabilities_of(p) for p in SLOT_PROTOCOLS.get(slot, ())]
        if options and not any(needed <= claimed for needed in options):
            wanted = " or ".join(", ".join(sorted(needed)) for needed in options)
            problems.append(f"fills slot {slot!r} but does not claim {wanted}")
    return problems


def _capabilities_of(protocol: type) -> frozenset[str]:
    return frozenset(c for c, (p, _) in CAPABILITIES.items() if p is protocol)


def _method_problems(plugin_cls: type, name: str, spec: Callable[..., Any]) -> list[str]:
    impl = getattr(plugin_cls, name)
    spec_sig = inspect.signature(spec)
    try:
        impl_sig = inspect.signature(impl)
    except (TypeError, ValueError):
        return [f"{name}: its signature cannot be read"]
    reasons: list[str] = []
    spec_async = inspect.iscoroutinefunction(spec)
    if inspect.isasyncgenfunction(impl):
        reasons.append(
            "it is an async generator function; the core awaits it, so write `async def` "
            "that returns the iterator"
        )
    elif spec_async and not inspect.iscoroutinefunction(impl):
        reasons.append("it must be `async def`")
    elif not spec_async and inspect.iscoroutinefunction(impl):
        reasons.append("it must be a plain `def`, not `async def`")
    reasons += _parameter_problems(
        list(spec_sig.parameters.values())[1:], list(impl_sig.parameters.values())[1:]
    )
    if not reasons:
        return []
    return [
        f"{plugin_cls.__name__}.{name}{_shown(impl_sig)} does not match the contract "
        f"{name}{_shown(spec_sig)}: {'; '.join(reasons)}"
    ]


def _shown(signature: inspect.Signature) -> str:
    """A signature as its source reads: annotations postponed by `from __future__ import
    annotations` are strings, which inspect would quote."""
    unquoted = signature.replace(
        parameters=[
            p.replace(annotation=_Name(p.annotation)) if isinstance(p.annotation, str) else p
            for p in signature.parameters.values()
        ],
        return_annotation=_Name(signature.return_annotation)
        if isinstance(signature.return_annotation, str)
        else signature.return_annotation,
    )
    return str(unquoted)


class _Name:
    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _parameter_problems(spec: list[inspect.Parameter], impl: list[inspect.Parameter]) -> list[str]:
    """The core passes the contract's parameters by position; extra ones need defaults."""
    reasons: list[str] = []
    positional = [p for p in impl if p.kind in _POSITIONAL]
    takes_rest = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in impl)
    for index, wanted in enumerate(spec):
        if index < len(positional):
            got = positional[index]
            if got.name != wanted.name and got.kind is not inspect.Parameter.POSITIONAL_ONLY:
                reasons.append(f"parameter {index + 1} is {got.name!r}, not {wanted.name!r}")
        elif not takes_rest:
            reasons.append(f"it does not take {wanted.name!r}")
    extra = positional[len(spec) :] + [p for p in impl if p.kind is inspect.Parameter.KEYWORD_ONLY]
    reasons += [
        f"parameter {p.name!r} has no default, and the core does not pass it"
        for p in extra
        if p.default is inspect.Parameter.empty
    ]
    return reasons
