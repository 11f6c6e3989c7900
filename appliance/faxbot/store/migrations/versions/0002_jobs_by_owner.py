"""An index for listing one API key's jobs, newest first: a key lists only its own jobs since
keys are isolated (issue 11). Every job already names the key that created it (api_key_id),
so no row changes.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_jobs_owner_created", "jobs", ["api_key_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_owner_created", table_name="jobs")
