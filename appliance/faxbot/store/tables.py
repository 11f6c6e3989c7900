"""The schema as SQLAlchemy Core tables, for what only the build step and upgrades use: the
rendering of schema/<dialect>.sql (schema_sql.py) and Alembic (migrations/). The jobs table's
columns are the Job dataclass's fields (jobs.py); its keys and indexes are stated here. Changes
go through a migration in migrations/."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

from faxbot.store.jobs import COLUMNS, JobColumn


def _type(column: JobColumn) -> TypeEngine[Any]:
    """The SQL type of a column, as Job's docstring describes it."""
    if column.type is int:
        return Integer()
    if column.type is float:
        return Float()
    if issubclass(column.type, str):
        return Text() if column.size is None else String(column.size)
    raise TypeError(f"no SQL type for Job.{column.field}: {column.type.__name__}")


metadata = MetaData()

jobs = Table(
    "jobs",
    metadata,
    *(Column(c.name, _type(c), nullable=c.nullable) for c in COLUMNS),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("api_key_id", "idempotency_key", name="uq_jobs_idempotency"),
    Index("ix_jobs_phase_next", "phase", "next_action_at"),
    Index("ix_jobs_created", "created_at", "id"),
    Index("ix_jobs_owner_created", "api_key_id", "created_at", "id"),
)
