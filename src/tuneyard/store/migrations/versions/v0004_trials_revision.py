"""The jobs' trials revision: one read tells an engine whether a job's trials changed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add jobs.trials_revision (0 for the jobs that exist)."""
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("trials_revision", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    """Drop jobs.trials_revision."""
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("trials_revision")
