"""The plugin registry the appliance serves at GET /plugin-registry: `registry/` is where it is
edited (in pull requests, with its JSON Schema); the appliance package carries a copy as
package data, so an installed appliance serves it from any working directory or image."""

from __future__ import annotations

from pathlib import Path

from faxbot_codegen.outputs import Outputs

SOURCE = "registry/plugin-registry.json"
PACKAGED = "appliance/faxbot/catalog/plugin-registry.json"


def generate(root: Path, outputs: Outputs) -> None:
    outputs.add(PACKAGED, (root / SOURCE).read_bytes())
