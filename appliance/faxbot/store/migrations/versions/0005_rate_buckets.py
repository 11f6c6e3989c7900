"""Rate-limit token buckets shared by replicas on one PostgreSQL (issue 16): one row per API
key, refilled and taken from in one INSERT ... ON CONFLICT DO UPDATE (faxbot.store.ratelimits).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("taken", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("rate_buckets")
