"""Run every generator into one Outputs. A generator is a plain function `(spec, outputs)`
that adds the files it produces; each lives in its own module and is listed here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faxbot_codegen import mcp, node_sdk, python_sdk, spec
from faxbot_codegen.outputs import Outputs

Generator = Callable[[dict[str, Any], Outputs], None]


def _spec(built: dict[str, Any], outputs: Outputs) -> None:
    outputs.add(spec.PATH, spec.render(built))


def _mcp(built: dict[str, Any], outputs: Outputs) -> None:
    outputs.add(mcp.PATH, mcp.render(mcp.build_manifest(built)))


def generators() -> dict[str, Generator]:
    return {
        "openapi": _spec,
        "mcp": _mcp,
        "python": python_sdk.generate,
        "node": node_sdk.generate,
    }


def generate_all(only: set[str] | None = None) -> Outputs:
    built = spec.build_spec()
    outputs = Outputs()
    for name, generator in generators().items():
        if only is None or name in only:
            generator(built, outputs)
    return outputs
