"""The resolved artifact `build/faxbot.resolved.json`: canonical JSON, written atomically,
and read back strictly (the appliance refuses anything it cannot trust).

`fingerprint` is "sha256:" + the SHA-256 of the canonical JSON of the artifact without its
`fingerprint`, `build` (compiled_at, source_revision) and `sources` (file:line blame): it
names the effective configuration, so a moved comment or a rebuild from another commit keeps
it, and any change of a value changes it."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from faxbot.canonical import pretty_bytes, sha256_hex

ARTIFACT_VERSION = 1
DEFAULT_PATH = Path("build/faxbot.resolved.json")
UNFINGERPRINTED = ("fingerprint", "build", "sources")
REQUIRED = (
    "version",
    "fingerprint",
    "profile",
    "appliance",
    "providers",
    "plugins",
    "api_keys",
    "sources",
    "surface",
    "build",
)


class ArtifactError(Exception):
    """The artifact is missing or cannot be trusted; the message says what to run."""


def fingerprint(artifact: dict[str, Any]) -> str:
    content = {k: v for k, v in artifact.items() if k not in UNFINGERPRINTED}
    return "sha256:" + sha256_hex(content)


def seal(artifact: dict[str, Any]) -> dict[str, Any]:
    sealed = dict(artifact)
    sealed["fingerprint"] = fingerprint(sealed)
    return sealed


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(0o644)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def artifact_bytes(artifact: dict[str, Any]) -> bytes:
    return pretty_bytes(artifact)


def load_artifact(path: Path) -> dict[str, Any]:
    hint = f"run `faxbot config compile --out {path}`"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ArtifactError(f"no artifact at {path}; {hint}") from None
    except OSError as exc:
        raise ArtifactError(f"cannot read artifact {path}: {exc.strerror}") from None
    try:
        artifact = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"artifact {path} is not valid JSON ({exc}); {hint}") from None
    if not isinstance(artifact, dict):
        raise ArtifactError(f"artifact {path} is not a JSON object; {hint}")
    version = artifact.get("version")
    if version != ARTIFACT_VERSION:
        raise ArtifactError(
            f"artifact {path} has version {version!r}, this faxbot reads version "
            f"{ARTIFACT_VERSION}; {hint} with this faxbot"
        )
    missing = [key for key in REQUIRED if key not in artifact]
    if missing:
        raise ArtifactError(f"artifact {path} lacks {', '.join(missing)}; {hint}")
    if artifact["fingerprint"] != fingerprint(artifact):
        raise ArtifactError(
            f"artifact {path} does not match its fingerprint (edited or damaged); {hint}"
        )
    return artifact
