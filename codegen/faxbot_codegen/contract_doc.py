"""docs/plugins.md's view of the plugin contract, from `faxbot.plugins.contract` itself and the
capability catalog: the capability table and each protocol's methods with their signatures and
docstrings, so a changed signature changes the page."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from faxbot.catalog import load_catalog
from faxbot.plugins.contract import CAPABILITIES, OPTIONAL_METHODS


def _words(docstring: str | None) -> str:
    return " ".join((docstring or "").split())


def signature(method: Callable[..., Any]) -> str:
    """`async def send(self, fax: OutboundFax) -> SendReceipt`, as the source writes it (the
    contract's annotations are postponed, so they are the source's own text)."""
    sig = inspect.signature(method)
    parameters = ", ".join(
        p.name if p.annotation is inspect.Parameter.empty else f"{p.name}: {p.annotation}"
        for p in sig.parameters.values()
    )
    prefix = "async def" if inspect.iscoroutinefunction(method) else "def"
    return f"{prefix} {method.__name__}({parameters}) -> {sig.return_annotation}"


def capability_rows() -> Iterator[list[str]]:
    catalog = load_catalog()
    for name, (protocol, method) in CAPABILITIES.items():
        capability = catalog.capabilities[name]
        operations = ", ".join(
            f"`{op}` ({catalog.operations[op].method} {catalog.operations[op].path})"
            for op in capability.operations
        )
        yield [
            f"`{name}`",
            capability.slot or "any",
            f"`{protocol.__name__}`",
            f"`{method}`",
            operations or "(none)",
            ", ".join(f"`{tool}`" for tool in capability.mcp_tools),
        ]


def protocols() -> str:
    """Each protocol, its docstring, and its methods with signature and docstring."""
    seen: list[type] = []
    for protocol, _ in CAPABILITIES.values():
        if protocol not in seen:
            seen.append(protocol)
    seen += [p for p in OPTIONAL_METHODS.values() if p not in seen]
    parts = []
    for protocol in seen:
        lines = [f"**`{protocol.__name__}`**: {_words(protocol.__doc__)}\n\n"]
        for name, member in vars(protocol).items():
            if inspect.isfunction(member) and not name.startswith("_"):
                lines.append(f"- `{signature(member)}`: {_words(member.__doc__)}\n")
        parts.append("".join(lines))
    return "\n".join(parts)
