"""Route handlers by area. A handler of a catalog operation is declared with `operation`:
its path, method and scope come from the capability catalog, the one source, and become a
Litestar handler only when `handlers()` is called by the composition root (or by codegen)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler

from faxbot.catalog import Catalog, load_catalog
from faxbot.server.auth import KEY_OPT, OPERATION_OPT, SCOPE_OPT
from faxbot.server.openapi import SECURITY, errors


@dataclass(frozen=True)
class Operation:
    """A handler function and what the spec says about it beyond the catalog."""

    operation_id: str
    fn: Callable[..., Any]
    options: dict[str, Any] = field(default_factory=dict)

    def handler(self, catalog: Catalog) -> HTTPRouteHandler:
        declared = catalog.operations[self.operation_id]
        options = dict(self.options)
        # Every operation needs a key, and RequireScope limits each key's rate (and the rate of
        # requests without a valid key): each may answer 429.
        options["responses"] = {**options.get("responses", {}), **errors(429)}
        handler = HTTPRouteHandler(
            path=_litestar_path(declared.path),
            http_method=HttpMethod(declared.method),
            operation_id=self.operation_id,
            security=SECURITY,
            opt={SCOPE_OPT: declared.scope, KEY_OPT: True, OPERATION_OPT: self.operation_id},
            **options,
        )
        return handler(self.fn)


def operation(operation_id: str, **options: Any) -> Callable[[Callable[..., Any]], Operation]:
    """Declare `fn` as the handler of the catalog's `operation_id`; `options` are Litestar's
    (status code, documented errors, summary)."""

    def declare(fn: Callable[..., Any]) -> Operation:
        return Operation(operation_id, fn, options)

    return declare


def _litestar_path(path: str) -> str:
    """The catalog writes /fax/{job_id}; Litestar wants the parameter's type."""
    return path.replace("}", ":str}")


def handlers(
    entries: Iterable[Operation | HTTPRouteHandler], operations: Iterable[str] | None = None
) -> list[HTTPRouteHandler]:
    """Litestar handlers for `entries`: the catalog operations among `operations` (all of
    them when None) and every handler that is not a catalog operation (health, the 405)."""
    catalog = load_catalog()
    served = None if operations is None else set(operations)
    found: list[HTTPRouteHandler] = []
    for entry in entries:
        if isinstance(entry, Operation):
            if served is None or entry.operation_id in served:
                found.append(entry.handler(catalog))
        else:
            found.append(entry)
    return found
