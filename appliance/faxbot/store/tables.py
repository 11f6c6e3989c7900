"""The schema, as SQLAlchemy Core tables. Changes go through a migration in migrations/."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("to_number", String(16), nullable=False),
    # API status: queued, in_progress, SUCCESS, FAILED (the v2 values)
    Column("status", String(16), nullable=False),
    # Where the dispatcher is with the job: queued -> handing_over -> sent -> done
    Column("phase", String(16), nullable=False),
    Column("pages", Integer, nullable=False),
    Column("error", Text),
    Column("backend", String(40), nullable=False),
    Column("provider_sid", String(200)),
    Column("document_key", String(64), nullable=False),
    Column("api_key_id", String(64), nullable=False),
    Column("idempotency_key", String(255)),
    Column("request_hash", String(64), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("polls", Integer, nullable=False, default=0),
    Column("next_action_at", Float, nullable=False),  # epoch seconds
    Column("sent_at", Float),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("api_key_id", "idempotency_key", name="uq_jobs_idempotency"),
    Index("ix_jobs_phase_next", "phase", "next_action_at"),
    Index("ix_jobs_created", "created_at", "id"),
)
