"""The admin console's API types, console/src/api/generated/: the Node SDK's generated layer
from the same templates and the same spec, current, owned by codegen, and fit for a browser
(nothing from `node:`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from faxbot_codegen import node_sdk, spec
from faxbot_codegen.generate import generate_all
from faxbot_codegen.outputs import NOTICE, Outputs, compare, write

from tests.conftest import REPO

FILES = [f"{node_sdk.CONSOLE_FOLDER}/{name}" for name in ("operations.ts", "types.ts")]
# `import ... from "node:fs"`, `require("node:fs")`, `import("node:fs")`
NODE_IMPORT = re.compile(r"""["']node:""")


def _committed_spec() -> dict[str, object]:
    # From the committed spec: tests/codegen/test_codegen.py checks it is the handlers' spec.
    loaded: dict[str, object] = json.loads((REPO / spec.PATH).read_text(encoding="utf-8"))
    return loaded


def test_console_types_are_current_and_the_node_sdks_bytes() -> None:
    outputs = Outputs()
    node_sdk.generate(_committed_spec(), outputs, node_sdk.CONSOLE_FOLDER)
    assert sorted(outputs.files) == FILES
    assert outputs.owned == {node_sdk.CONSOLE_FOLDER}
    sdk = node_sdk.render(_committed_spec())
    for path, content in outputs.files.items():
        assert content.decode().startswith(f"// {NOTICE}\n")
        assert content.decode() == sdk[Path(path).name]  # one source: the same text
    drift = compare(outputs, REPO)
    assert not drift.any, "run `faxbot codegen`:\n" + drift.summary()


def test_console_types_import_nothing_from_node() -> None:
    for path in FILES:
        text = (REPO / path).read_text(encoding="utf-8")
        assert not NODE_IMPORT.search(text), f"{path} uses a node: module"
        imports = re.findall(r"""from\s+["']([^"']+)["']""", text)
        assert set(imports) <= {"./types.js"}, f"{path} imports {imports}"


def test_the_console_generator_owns_its_folder(tmp_path: Path) -> None:
    outputs = generate_all({"console"}, tmp_path)
    assert sorted(outputs.files) == FILES
    stale = tmp_path / node_sdk.CONSOLE_FOLDER / "handwritten.ts"
    stale.parent.mkdir(parents=True)
    stale.write_text("export const x = 1;\n")
    assert compare(outputs, tmp_path).removed == [f"{node_sdk.CONSOLE_FOLDER}/handwritten.ts"]
    write(outputs, tmp_path)
    assert not stale.exists()
    assert not compare(outputs, tmp_path).any
