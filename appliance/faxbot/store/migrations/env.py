"""Alembic environment: runs on the connection the appliance hands over (store/database.py)."""

from __future__ import annotations

from alembic import context
from faxbot.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
