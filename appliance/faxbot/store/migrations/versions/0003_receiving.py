"""The receiving half (issue 12): received faxes, the webhook events already applied, document
links, and what retention needs on jobs (when a job's document was deleted), with an index to
find a job by its provider id (a status webhook names only that).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("document_deleted_at", sa.Float, nullable=True))
    op.create_index("ix_jobs_backend_sid", "jobs", ["backend", "provider_sid"])
    op.create_index("ix_jobs_updated", "jobs", ["updated_at"])
    op.create_table(
        "inbound_faxes",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("sender", sa.String(32)),
        sa.Column("recipient", sa.String(32)),
        sa.Column("pages", sa.Integer),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("provider_sid", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("document_key", sa.String(64), nullable=False),
        sa.Column("document_deleted_at", sa.Float),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("provider", "provider_sid", name="uq_inbound_provider_sid"),
    )
    op.create_index("ix_inbound_received", "inbound_faxes", ["received_at", "id"])
    op.create_index(
        "ix_inbound_recipient_received", "inbound_faxes", ["recipient", "received_at", "id"]
    )
    op.create_index("ix_inbound_sender_received", "inbound_faxes", ["sender", "received_at", "id"])
    op.create_index("ix_inbound_created", "inbound_faxes", ["created_at"])
    op.create_table(
        "webhook_events",
        sa.Column("plugin", sa.String(40), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("plugin", "event_id"),
    )
    op.create_index("ix_webhook_events_received", "webhook_events", ["received_at"])
    op.create_table(
        "document_links",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("document_key", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("used_at", sa.Float),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_document_links_expires", "document_links", ["expires_at"])


def downgrade() -> None:
    op.drop_table("document_links")
    op.drop_table("webhook_events")
    op.drop_table("inbound_faxes")
    op.drop_index("ix_jobs_updated", table_name="jobs")
    op.drop_index("ix_jobs_backend_sid", table_name="jobs")
    op.drop_column("jobs", "document_deleted_at")
