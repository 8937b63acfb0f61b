"""Job leases: which server drives each job, for several servers on one database.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the job_leases table."""
    op.create_table(
        "job_leases",
        sa.Column("job_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("expires", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.id"],
            name=op.f("fk_job_leases_job_id_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_leases")),
    )


def downgrade() -> None:
    """Drop the job_leases table."""
    op.drop_table("job_leases")
