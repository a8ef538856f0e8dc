"""console at scale: open steps by step and age; open work by who holds it

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'InProgress'")


def upgrade() -> None:
    # Plain indexes: SQLite's batch mode would copy the whole step_runs table for nothing.
    op.drop_index("ix_step_runs_open", table_name="step_runs")
    op.create_index(
        "ix_step_runs_waiting",
        "step_runs",
        ["orchestration_id", "stage", "step", "started_at", "run_id"],
        unique=False,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_work_items_holder", "work_items", ["assignee", "status", "run_id"], unique=False
    )
    op.create_index(
        "ix_work_items_claimed", "work_items", ["claimed_by", "status", "run_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_work_items_claimed", table_name="work_items")
    op.drop_index("ix_work_items_holder", table_name="work_items")
    op.drop_index("ix_step_runs_waiting", table_name="step_runs")
    op.create_index("ix_step_runs_open", "step_runs", ["status", "started_at"], unique=False)
