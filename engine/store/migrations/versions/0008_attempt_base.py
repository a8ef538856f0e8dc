"""attempt numbers never go back: a retried or restarted step counts its attempts from a base

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 13:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN with a constant default: SQLite's batch mode would copy the table.
    op.add_column(
        "step_runs", sa.Column("attempt_base", sa.Integer(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    with op.batch_alter_table("step_runs") as batch:
        batch.drop_column("attempt_base")
