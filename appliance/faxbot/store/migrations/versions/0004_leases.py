"""Job leases (issue 16): several replicas on one PostgreSQL share the jobs, each worked only
by the replica holding its lease (`lease_owner`, until `lease_expires_at`), with an index to
extend or release one replica's leases in one statement, and the last pass of each sweep
that runs once across the replicas (retention, orphan documents). Existing rows hold no
lease: the first replica to sweep claims them.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("lease_owner", sa.String(64), nullable=True))
    op.add_column("jobs", sa.Column("lease_expires_at", sa.Float, nullable=True))
    op.create_index("ix_jobs_lease_owner", "jobs", ["lease_owner"])
    op.create_table(
        "sweep_passes",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("began_at", sa.Float, nullable=False),
        sa.Column("replica", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sweep_passes")
    op.drop_index("ix_jobs_lease_owner", table_name="jobs")
    op.drop_column("jobs", "lease_expires_at")
    op.drop_column("jobs", "lease_owner")
