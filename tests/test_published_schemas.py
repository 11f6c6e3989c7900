"""docs/schemas/ publishes exact copies of the schemas the code validates with, for editors."""

from __future__ import annotations

import pytest

from tests.conftest import REPO

PAIRS = [
    ("docs/schemas/config-fragment.schema.json", "appliance/faxbot/config/fragment.schema.json"),
    ("docs/schemas/plugin-manifest.schema.json", "appliance/faxbot/plugins/manifest.schema.json"),
]


@pytest.mark.parametrize(("published", "source"), PAIRS)
def test_published_schema_is_identical(published: str, source: str) -> None:
    assert (REPO / published).read_bytes() == (REPO / source).read_bytes(), (
        f"{published} differs from {source}; copy it: cp {source} {published}"
    )
