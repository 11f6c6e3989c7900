"""The generated regions of the hand-written docs: what would drift if it were copied by hand
(the diagnostic codes, the config keys, the example artifact and its fingerprint, the module
tables) comes from the code that defines it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from faxbot.catalog import load_catalog
from faxbot.config.codes import Code
from faxbot.config.structure import fragment_schema
from faxbot.metrics import SERIES
from faxbot.server.error_codes import ErrorCode

from faxbot_codegen import contract_doc
from faxbot_codegen.example import CONFIG_DIR, compile_example
from faxbot_codegen.keys_table import key_rows
from faxbot_codegen.modules_table import modules
from faxbot_codegen.outputs import Outputs, Region

CONFIG_MD = "docs/config.md"
APPLIANCE_MD = "docs/appliance.md"
PLUGINS_MD = "docs/plugins.md"
STORAGE_MD = "docs/storage.md"
S3_MANIFEST = "plugins/s3/faxbot_plugin_s3/manifest.json"
CONTRACT = "appliance/faxbot/plugins/contract.py"
README = "README.md"
# The appliance's modules, apart from the compiler (docs/config.md) and the command line.
APPLIANCE_PARTS = (
    "artifact.py",
    "audit.py",
    "canonical.py",
    "catalog",
    "destinations.py",
    "dispatch",
    "documents",
    "encryption.py",
    "jobs",
    "kernel",
    "keys.py",
    "metrics.py",
    "plugins",
    "server",
    "store",
)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |\n"

    return line(header) + "|" + "---|" * len(header) + "\n" + "".join(map(line, rows))


def codes_table() -> str:
    return table(
        ["code", "severity", "meaning", "how to fix"],
        [[f"`{code}`", str(code.severity), code.meaning, code.fix] for code in Code],
    )


def error_codes_table() -> str:
    return table(
        ["code", "status", "meaning"],
        [[f"`{code}`", str(code.status), code.meaning] for code in ErrorCode],
    )


def keys_table() -> str:
    rows = key_rows(fragment_schema())
    return table(
        ["key", "type", "default", "secret", "meaning"],
        [[r.key, r.type, r.default, r.secret, r.description] for r in rows],
    )


def settings_table(manifest_path: Path) -> str:
    """A plugin's settings from its manifest: its config_schema, with its `defaults`."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    schema: dict[str, Any] = dict(manifest["config_schema"])
    defaults = manifest.get("defaults", {})
    schema["properties"] = {
        name: {**node, "default": defaults[name]} if name in defaults else node
        for name, node in schema.get("properties", {}).items()
    }
    rows = key_rows(schema)
    return table(
        ["setting", "type", "default", "secret", "meaning"],
        [[r.key, r.type, r.default, r.secret, r.description] for r in rows],
    )


def scopes_table() -> str:
    return table(["scope", "grants"], [[f"`{s}`", m] for s, m in load_catalog().scopes.items()])


def series_table() -> str:
    rows = [[f"`{s.name}`", s.type, ", ".join(f"`{x}`" for x in s.labels), s.help] for s in SERIES]
    return table(["series", "type", "labels", "what it counts"], rows)


def modules_table(parts: Sequence[str]) -> str:
    return table(["module", "what it is"], [[f"`{m}`", s] for m, s in modules(parts)])


def fenced(language: str, text: str) -> str:
    return f"```{language}\n{text}```\n"


def generate(root: Path, outputs: Outputs) -> None:
    example = compile_example(root)
    compiled = f"{CONFIG_DIR}, compiled"
    compile_output = Region(
        "compile-output", fenced("console", example.compile_console()), compiled
    )
    outputs.region(README, compile_output)
    for region in (
        Region("compiler-modules", modules_table(["config"]), "the docstrings of faxbot/config/"),
        Region("keys", keys_table(), "appliance/faxbot/config/fragment.schema.json"),
        Region("diagnostic-codes", codes_table(), "appliance/faxbot/config/codes.py"),
        Region("scopes", scopes_table(), "appliance/faxbot/catalog/capabilities.json"),
        compile_output,
        Region("fingerprint-check", fenced("console", example.recompute_console()), compiled),
        Region("example-artifact", fenced("json", example.artifact.decode("utf-8")), compiled),
    ):
        outputs.region(CONFIG_MD, region)
    capabilities = table(
        ["capability", "slot", "protocol", "method", "REST operations it enables", "MCP tool"],
        list(contract_doc.capability_rows()),
    )
    outputs.region(
        PLUGINS_MD,
        Region("capabilities", capabilities, f"{CONTRACT} and the capability catalog"),
    )
    outputs.region(PLUGINS_MD, Region("plugin-protocols", contract_doc.protocols(), CONTRACT))
    outputs.region(
        APPLIANCE_MD,
        Region("appliance-modules", modules_table(APPLIANCE_PARTS), "the docstrings of faxbot/"),
    )
    outputs.region(
        APPLIANCE_MD,
        Region("error-codes", error_codes_table(), "appliance/faxbot/server/error_codes.py"),
    )
    outputs.region(APPLIANCE_MD, Region("metrics-series", series_table(), "faxbot/metrics.py"))
    outputs.region(
        STORAGE_MD, Region("s3-settings", settings_table(root / S3_MANIFEST), S3_MANIFEST)
    )
