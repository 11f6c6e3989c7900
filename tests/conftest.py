from __future__ import annotations

from pathlib import Path

import pytest
from faxbot.plugins.discovery import PluginSource

from tests.fake_plugins import fake_source

REPO = Path(__file__).resolve().parent.parent

# postgres_server, postgres_url, postgres_database; s3_server, s3_bucket, s3_env
pytest_plugins = ["tests.postgres_server", "tests.s3_server"]


@pytest.fixture
def plugin_source() -> PluginSource:
    """The installed plugins (test, local) plus the fakes in tests/fake_plugins.py."""
    return fake_source()


@pytest.fixture
def write_config(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write fragments {name: text} into a fresh config.d and return its path."""

    def write(fragments: dict[str, str], name: str = "config.d") -> Path:
        folder = tmp_path / name
        folder.mkdir(parents=True, exist_ok=True)
        for file_name, text in fragments.items():
            (folder / file_name).write_text(text, encoding="utf-8")
        return folder

    return write
