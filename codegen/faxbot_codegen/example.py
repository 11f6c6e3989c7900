"""The repository's example config.d, compiled the way `faxbot config compile` compiles it
with no SOURCE_DATE_EPOCH and no source revision: the artifact docs/config.md shows in full,
and the fingerprint the walk-throughs quote."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from faxbot.artifact import DEFAULT_PATH, artifact_bytes
from faxbot.config.compiler import BuildInfo, compile_config
from faxbot.config.diagnostics import render_text
from faxbot.config.rules import profile_notice
from faxbot.plugins.discovery import PluginSource

from faxbot_codegen.outputs import SourceError

CONFIG_DIR = "config.d"

# How a reader recomputes the fingerprint (docs/config.md); its output is generated below it.
RECOMPUTE = """\
$ python3 -c '
import hashlib, json, sys
a = json.load(open(sys.argv[1]))
body = {k: v for k, v in a.items() if k not in ("fingerprint", "build", "sources")}
canon = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
print("sha256:" + hashlib.sha256(canon).hexdigest(), a["fingerprint"])' build/faxbot.resolved.json
"""


class ExampleError(SourceError):
    """The example config.d does not compile cleanly: the docs would show a broken example."""


@dataclass(frozen=True)
class Example:
    artifact: bytes  # exactly what `faxbot config compile` writes
    fingerprint: str
    notice: str | None  # the profile note compile prints

    def compile_console(self) -> str:
        """`faxbot config compile` in the text format: what it prints on stderr."""
        note = f"note: {self.notice}\n" if self.notice else ""
        return (
            f"$ faxbot config compile\n{note}wrote {DEFAULT_PATH.as_posix()} ({self.fingerprint})\n"
        )

    def recompute_console(self) -> str:
        return f"{RECOMPUTE}{self.fingerprint} {self.fingerprint}\n"


def compile_example(root: Path) -> Example:
    config_dir = root / CONFIG_DIR
    result = compile_config(config_dir, PluginSource(), build=BuildInfo())
    if result.diagnostics or result.artifact is None:
        shown = render_text(result.diagnostics) or "no artifact\n"
        raise ExampleError(
            f"{config_dir} must compile without errors or warnings to be the docs' example:\n"
            f"{shown}"
        )
    return Example(
        artifact_bytes(result.artifact),
        str(result.artifact["fingerprint"]),
        profile_notice(result.data),
    )
