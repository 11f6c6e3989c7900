"""More API keys for a built appliance: a fragment of its own (keys merge by id across
fragments), compiled again, the tokens added to the appliance's."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from faxbot.keys import new_key

from tests.server.conftest import FAXBOT, Appliance


@dataclass(frozen=True)
class Key:
    scopes: tuple[str, ...]
    rate_limit: tuple[int, int] | None = None  # requests per minute, burst


def add_keys(appliance: Appliance, keys: dict[str, Key]) -> None:
    """Add `keys` (by id) to the built, not yet started `appliance`."""
    entries = []
    for key_id, key in keys.items():
        made = new_key(key_id, list(key.scopes))
        appliance.tokens[key_id] = made.token
        entry = (
            f"  - id: {key_id}\n    sha256: {made.entry['sha256']}\n"
            f"    scopes: [{', '.join(key.scopes)}]\n"
        )
        if key.rate_limit is not None:
            per_minute, burst = key.rate_limit
            entry += f"    rate_limit: {{requests_per_minute: {per_minute}, burst: {burst}}}\n"
        entries.append(entry)
    (appliance.root / "config.d" / "95-more-keys.yaml").write_text("api_keys:\n" + "".join(entries))
    subprocess.run(
        [FAXBOT, "config", "compile"], cwd=appliance.root, check=True, capture_output=True
    )
