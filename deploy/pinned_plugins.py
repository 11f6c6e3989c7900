"""Print the plugins a config.d pins, one `<id> <version>` a line, for deploy/build.sh.

Run with the image's own Python after the appliance is installed and before any plugin is:
the compiler needs the pinned plugins to judge their settings, so the build asks config.d
which ones to install first. Reading is lenient on purpose: a fragment that cannot be read
is skipped here, and `faxbot config compile`, the next build step, reports every error."""

from __future__ import annotations

import sys
from pathlib import Path

from faxbot.config.fragments import load_fragments
from faxbot.config.merge import merge_fragments


def pinned(config_dir: Path) -> list[tuple[str, str]]:
    """(plugin id, exact version) for every slot config.d fills, each pair once, sorted."""
    fragments, _ = load_fragments(config_dir)
    merged, _ = merge_fragments([fragment for fragment in fragments if not fragment.failed])
    providers = merged.data.get("providers")
    found: set[tuple[str, str]] = set()
    if isinstance(providers, dict):
        for slot in providers.values():
            if not isinstance(slot, dict):
                continue
            plugin, version = slot.get("plugin"), slot.get("version")
            if isinstance(plugin, str) and isinstance(version, str):
                found.add((plugin, version))
    return sorted(found)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: pinned_plugins.py CONFIG_DIR", file=sys.stderr)
        return 2
    for plugin, version in pinned(Path(argv[0])):
        print(plugin, version)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
