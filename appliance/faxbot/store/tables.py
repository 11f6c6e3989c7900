"""The schema as SQLAlchemy Core tables, for what only the build step and upgrades use: the
rendering of schema/<dialect>.sql (schema_sql.py) and Alembic (migrations/). The jobs table's
columns are the Job dataclass's fields (jobs.py); its keys and indexes are stated here. Changes
go through a migration in migrations/."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
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
    Index("ix_jobs_owner_status_created", "api_key_id", "status", "created_at", "id"),
    Index("ix_jobs_owner_to_created", "api_key_id", "to_number", "created_at", "id"),
    Index("ix_jobs_to_created", "to_number", "created_at", "id"),
    Index("ix_jobs_backend_sid", "backend", "provider_sid"),
    Index("ix_jobs_updated", "updated_at"),
    Index("ix_jobs_lease_owner", "lease_owner"),
)

# Received faxes (issue 12). `provider` is the plugin id that received it; one row per fax at
# that provider, whatever how often its webhook is delivered.
inbound_faxes = Table(
    "inbound_faxes",
    metadata,
    Column("id", String(32), nullable=False),
    Column("sender", String(32), nullable=True),
    Column("recipient", String(32), nullable=True),
    Column("pages", Integer, nullable=True),
    Column("received_at", Float, nullable=False),
    Column("provider", String(40), nullable=False),
    Column("provider_sid", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("document_key", String(64), nullable=False),
    Column("document_deleted_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("provider", "provider_sid", name="uq_inbound_provider_sid"),
    Index("ix_inbound_received", "received_at", "id"),
    Index("ix_inbound_recipient_received", "recipient", "received_at", "id"),
    Index("ix_inbound_sender_received", "sender", "received_at", "id"),
    Index("ix_inbound_created", "created_at"),
)

# Provider events already applied, so that a second delivery of one is acknowledged and
# ignored; rows go with appliance.retention.row_days (events: webhook_event_days).
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("plugin", String(40), nullable=False),
    Column("event_id", String(200), nullable=False),
    Column("received_at", Float, nullable=False),
    PrimaryKeyConstraint("plugin", "event_id"),
    Index("ix_webhook_events_received", "received_at"),
)

# Short-lived single-use links to a stored document (Deps.document_links): only the SHA-256
# of each token is kept.
document_links = Table(
    "document_links",
    metadata,
    Column("token_sha256", String(64), nullable=False),
    Column("document_key", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("token_sha256"),
    Index("ix_document_links_expires", "expires_at"),
)

# The last pass of each fleet-wide sweep (retention, orphans; store/fleet.py): with several
# replicas, a replica whose turn comes soon after another's pass skips it. Migration 0004.
sweep_passes = Table(
    "sweep_passes",
    metadata,
    Column("name", String(40), nullable=False),
    Column("began_at", Float, nullable=False),
    Column("replica", String(64), nullable=False),
    PrimaryKeyConstraint("name"),
)

# Rate-limit token buckets shared by the replicas on one PostgreSQL (faxbot.store.ratelimits):
# one row per API key, refilled and taken from in one statement. Unused on SQLite (one
# process: the buckets stay in memory). `taken`: whether the last request got a token. No
# index beyond the key: `at` changes on every request, and an index on it would cost each
# update its in-page (HOT) path. A row per key the appliance has seen: as few as its keys.
rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("name", String(80), nullable=False),
    Column("tokens", Float, nullable=False),
    Column("at", Float, nullable=False),
    Column("taken", Boolean, nullable=False),
    PrimaryKeyConstraint("name"),
)
