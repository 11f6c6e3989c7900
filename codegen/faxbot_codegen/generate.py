"""Run every generator into one Outputs. A generator is a plain function `(sources, outputs)`
that adds the files and regions it produces; each lives in its own module and is listed here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from faxbot_codegen import docs, mcp, node_sdk, python_sdk, registry, retry_policy, spec
from faxbot_codegen.outputs import Outputs


@dataclass
class Sources:
    """What the generators read: the spec built from the route handlers (once, and only when
    a generator asks for it) and the repository root, for config.d."""

    root: Path

    @cached_property
    def spec(self) -> dict[str, Any]:
        return spec.build_spec()


Generator = Callable[[Sources, Outputs], None]


def _spec(sources: Sources, outputs: Outputs) -> None:
    rendered = spec.render(sources.spec)
    outputs.add(spec.PATH, rendered)
    outputs.add(spec.PACKAGED, rendered)


def _mcp(sources: Sources, outputs: Outputs) -> None:
    manifest = mcp.render(mcp.build_manifest(sources.spec))
    for path in (mcp.PATH, *mcp.COPIES):  # the servers' package data: the same bytes
        outputs.add(path, manifest)


def _python(sources: Sources, outputs: Outputs) -> None:
    python_sdk.generate(sources.spec, outputs)
    retry_policy.generate_python(sources.root, outputs)


def _node(sources: Sources, outputs: Outputs) -> None:
    node_sdk.generate(sources.spec, outputs)
    retry_policy.generate_node(sources.root, outputs)


def _console(sources: Sources, outputs: Outputs) -> None:
    node_sdk.generate(sources.spec, outputs, node_sdk.CONSOLE_FOLDER)


def _docs(sources: Sources, outputs: Outputs) -> None:
    docs.generate(sources.root, outputs)
    retry_policy.generate_docs(sources.root, outputs)


def _registry(sources: Sources, outputs: Outputs) -> None:
    registry.generate(sources.root, outputs)


def generators() -> dict[str, Generator]:
    return {
        "openapi": _spec,
        "mcp": _mcp,
        "python": _python,
        "node": _node,
        "console": _console,
        "docs": _docs,
        "registry": _registry,
    }


def generate_all(only: set[str] | None = None, root: Path = Path()) -> Outputs:
    sources = Sources(root)
    outputs = Outputs()
    for name, generator in generators().items():
        if only is None or name in only:
            generator(sources, outputs)
    return outputs
