"""stalled stages: stage visits in progress, and open steps by their visit

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

IN_PROGRESS = sa.text("status = 'InProgress'")
OPEN = sa.text("status IN ('NotStarted', 'InProgress')")


def upgrade() -> None:
    # Small partial indexes: they hold only what is open, a few per run in progress, so the
    # stalled finder (engine.runtime.stalled) reads them, never the history.
    op.create_index(
        "ix_stage_runs_in_progress",
        "stage_runs",
        ["run_id"],
        unique=False,
        sqlite_where=IN_PROGRESS,
        postgresql_where=IN_PROGRESS,
    )
    op.create_index(
        "ix_step_runs_open_by_visit",
        "step_runs",
        ["stage_run_id"],
        unique=False,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_step_runs_open_by_visit", table_name="step_runs")
    op.drop_index("ix_stage_runs_in_progress", table_name="stage_runs")
