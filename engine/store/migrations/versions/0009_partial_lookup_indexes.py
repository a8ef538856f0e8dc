"""smaller indexes that a completion writes less often: those on mostly empty columns hold only
the rows with a value (a work item's record, due time and claim, a step's awaited event), and
the workers' index of due steps only background steps in progress

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 18:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# index, table, columns, the column that must have a value
PARTIAL = [
    ("ix_work_items_record_id", "work_items", ["record_id", "status"], "record_id"),
    ("ix_work_items_sla", "work_items", ["due_at", "completed_at", "status"], "due_at"),
    ("ix_work_items_claimed", "work_items", ["claimed_by", "status", "run_id"], "claimed_by"),
    ("ix_step_runs_wait", "step_runs", ["wait_event", "wait_key"], "wait_event"),
]


DUE = "kind = 'background' AND status = 'InProgress'"  # models.BACKGROUND_IN_PROGRESS, as of now


def upgrade() -> None:
    # Every query through these indexes asks for a value in their first column; the rows
    # without one (most of them) only cost a write each time their status changed.
    for name, table, columns, needed in PARTIAL:
        where = sa.text(f"{needed} IS NOT NULL")
        op.drop_index(name, table_name=table)
        op.create_index(
            name, table, columns, unique=False, sqlite_where=where, postgresql_where=where
        )
    # Interactive steps, and steps done, never were due: they only cost writes.
    op.drop_index("ix_step_runs_due", table_name="step_runs")
    op.create_index(
        "ix_step_runs_due",
        "step_runs",
        ["available_at", "id"],
        unique=False,
        sqlite_where=sa.text(DUE),
        postgresql_where=sa.text(DUE),
    )


def downgrade() -> None:
    op.drop_index("ix_step_runs_due", table_name="step_runs")
    op.create_index("ix_step_runs_due", "step_runs", ["kind", "status", "available_at"])
    for name, table, columns, _ in PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False)
