"""supervisor console: saved views and history indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 05:24:23.786014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "query",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
        sa.UniqueConstraint("owner", "kind", "name", name=op.f("uq_saved_views_owner_kind_name")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_runs_current", ["orchestration_id", "current_element", "started_at"], unique=False
        )
        batch_op.create_index("ix_runs_ended", ["ended_at", "status"], unique=False)
        batch_op.create_index("ix_runs_started", ["started_at", "id"], unique=False)

    with op.batch_alter_table("step_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "orchestration_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("stage", sa.String(length=100), nullable=True))
        batch_op.create_index(
            "ix_step_runs_history",
            ["orchestration_id", "stage", "step", "started_at", "status", "ended_at"],
            unique=False,
        )
        batch_op.create_index("ix_step_runs_open", ["status", "started_at"], unique=False)
    # Step runs written before this version learn their orchestration and stage.
    op.execute(
        "UPDATE step_runs SET "
        "orchestration_id = (SELECT runs.orchestration_id FROM runs WHERE runs.id = step_runs.run_id), "
        "stage = (SELECT stage_runs.stage FROM stage_runs WHERE stage_runs.id = step_runs.stage_run_id)"
    )

    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.create_index("ix_work_items_created", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_work_items_sla", ["due_at", "completed_at", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_index("ix_work_items_sla")
        batch_op.drop_index("ix_work_items_created")

    with op.batch_alter_table("step_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_step_runs_open")
        batch_op.drop_index("ix_step_runs_history")
        batch_op.drop_column("stage")
        batch_op.drop_column("orchestration_id")

    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_started")
        batch_op.drop_index("ix_runs_ended")
        batch_op.drop_index("ix_runs_current")

    op.drop_table("saved_views")
