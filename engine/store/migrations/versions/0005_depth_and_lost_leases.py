"""trigger depth across transactions; lost leases counted apart from retries

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN with a constant default: SQLite's batch mode would copy both tables.
    op.add_column(
        "runs", sa.Column("trigger_depth", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "step_runs", sa.Column("lost_leases", sa.Integer(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    with op.batch_alter_table("step_runs") as batch:
        batch.drop_column("lost_leases")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("trigger_depth")
