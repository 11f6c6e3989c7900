"""Indexes for GET /fax's filters at scale: a key's jobs by status or by recipient, and every
key's jobs by recipient (fax:read_all), each newest first. Without them a filtered page walks
the key's jobs one by one until it has a page: at a million jobs `?to=` was 47-66x slower
than at a thousand, `?status=` up to 1.8x (bench/scale_bench.py; docs/performance.md). No
row changes.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_jobs_owner_status_created": ["api_key_id", "status", "created_at", "id"],
    "ix_jobs_owner_to_created": ["api_key_id", "to_number", "created_at", "id"],
    "ix_jobs_to_created": ["to_number", "created_at", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "jobs", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="jobs")
