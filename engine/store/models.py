"""The tables. Definitions live as versioned JSON; everything that happens is rows.

Status columns hold the values of SPEC.md exactly (``InProgress``, ``Completed`` …).
Rows that people update concurrently carry ``row_version`` for optimistic checks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.store.base import Base, JSONData, Key, utcnow

NAME = 100
STATUS = 16


def _pk() -> Mapped[int]:
    return mapped_column(Key, primary_key=True, autoincrement=True)


def _fk(target: str, *, nullable: bool = False, ondelete: str | None = None) -> Any:
    return mapped_column(Key, ForeignKey(target, ondelete=ondelete), nullable=nullable)


def _parent(target: str, column: str) -> Any:
    """A many-to-one link that is never loaded (code uses the id columns). It exists so the
    unit of work inserts a parent row before the rows that point at it, in one flush."""
    return relationship(target, foreign_keys=f"[{column}]", lazy="raise", viewonly=False)


# ---------------------------------------------------------------- people


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = _pk()
    username: Mapped[str] = mapped_column(String(NAME), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(STATUS), default="user")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # An IANA zone ("Europe/London") for times in this person's e-mails; None: the calendar's.
    time_zone: Mapped[str | None] = mapped_column(String(64))


class Group(Base):
    """A set of people; ``kind`` is 'group' or 'queue' (a queue is a work pool)."""

    __tablename__ = "groups"

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(String(NAME))
    kind: Mapped[str] = mapped_column(String(STATUS))
    label: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "name"),)


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(
        Key, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        Key, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_group_members_user_id", "user_id"),)


# ---------------------------------------------------------------- definitions


class OrchestrationRow(Base):
    __tablename__ = "orchestrations"

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(STATUS))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(NAME))


class VersionRow(Base):
    __tablename__ = "orchestration_versions"

    id: Mapped[int] = _pk()
    orchestration_id: Mapped[int] = _fk("orchestrations.id")
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(STATUS))
    definition: Mapped[dict[str, Any]] = mapped_column(JSONData)
    checksum: Mapped[str] = mapped_column(String(64))
    trigger_object: Mapped[str | None] = mapped_column(String(NAME))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(NAME))
    activated_at: Mapped[dt.datetime | None] = mapped_column()
    activated_by: Mapped[str | None] = mapped_column(String(NAME))

    orchestration: Mapped[Any] = _parent("OrchestrationRow", "VersionRow.orchestration_id")

    __table_args__ = (
        UniqueConstraint("orchestration_id", "number"),
        Index("ix_versions_trigger", "trigger_object", "status"),
    )


# ---------------------------------------------------------------- records


class ObjectTypeRow(Base):
    __tablename__ = "object_types"

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    title_field: Mapped[str | None] = mapped_column(String(NAME))
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RecordRow(Base):
    __tablename__ = "records"

    id: Mapped[int] = _pk()
    object_type_id: Mapped[int] = _fk("object_types.id")
    data: Mapped[dict[str, Any]] = mapped_column(JSONData)
    owner: Mapped[str | None] = mapped_column(String(NAME))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(NAME))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(NAME))
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    object_type: Mapped[Any] = _parent("ObjectTypeRow", "RecordRow.object_type_id")

    __table_args__ = (Index("ix_records_type_updated", "object_type_id", "updated_at"),)


# ---------------------------------------------------------------- runs


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[int] = _pk()
    orchestration_id: Mapped[int] = _fk("orchestrations.id")
    version_id: Mapped[int] = _fk("orchestration_versions.id")
    status: Mapped[str] = mapped_column(String(STATUS))
    record_id: Mapped[int | None] = _fk("records.id", nullable=True)
    parent_run_id: Mapped[int | None] = _fk("runs.id", nullable=True)
    parent_step_run_id: Mapped[int | None] = mapped_column(Key)
    variables: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    # Latest status and outputs of every stage and step, so that evaluating an expression
    # never reads the history (its cost stays flat however long a run loops).
    state: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    current_element: Mapped[str | None] = mapped_column(String(NAME))
    error: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str | None] = mapped_column(String(NAME))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column()
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    # How many record saves made by runs lie behind this run's start (0: started directly).
    trigger_depth: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    orchestration: Mapped[Any] = _parent("OrchestrationRow", "RunRow.orchestration_id")
    version: Mapped[Any] = _parent("VersionRow", "RunRow.version_id")
    record: Mapped[Any] = _parent("RecordRow", "RunRow.record_id")
    parent_run: Mapped[Any] = _parent("RunRow", "RunRow.parent_run_id")

    __table_args__ = (
        Index("ix_runs_status_started", "status", "started_at"),
        Index("ix_runs_orchestration_status", "orchestration_id", "status", "started_at"),
        Index("ix_runs_record_id", "record_id"),
        Index("ix_runs_parent_run_id", "parent_run_id"),
        # The supervisor console: newest first, by stage, and what ended when.
        Index("ix_runs_started", "started_at", "id"),
        Index("ix_runs_current", "orchestration_id", "current_element", "started_at"),
        Index("ix_runs_ended", "ended_at", "status"),
    )


class StageRunRow(Base):
    """One visit of a run to a stage (a Go To loop makes another row)."""

    __tablename__ = "stage_runs"

    id: Mapped[int] = _pk()
    run_id: Mapped[int] = _fk("runs.id", ondelete="CASCADE")
    stage: Mapped[str] = mapped_column(String(NAME))
    visit: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(STATUS))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column()

    run: Mapped[Any] = _parent("RunRow", "StageRunRow.run_id")

    __table_args__ = (
        Index("ix_stage_runs_run_id", "run_id", "id"),
        # only visits in progress: the stalled finder (engine.runtime.stalled) reads these
        Index(
            "ix_stage_runs_in_progress",
            "run_id",
            sqlite_where=text("status = 'InProgress'"),
            postgresql_where=text("status = 'InProgress'"),
        ),
    )


# Background steps in progress: what a worker takes up when due. Written out, not bound, in
# the index and in each query meant to use it (``background_in_progress``): PostgreSQL plans a
# statement it runs often once for any parameters, so only a condition the query writes out
# can show that it matches a partial index's.
BACKGROUND_IN_PROGRESS = "kind = 'background' AND status = 'InProgress'"


class StepRunRow(Base):
    __tablename__ = "step_runs"

    id: Mapped[int] = _pk()
    run_id: Mapped[int] = _fk("runs.id", ondelete="CASCADE")
    stage_run_id: Mapped[int] = _fk("stage_runs.id", ondelete="CASCADE")
    # Copied from the run and the stage visit, so history statistics need no joins.
    orchestration_id: Mapped[int | None] = mapped_column(Key)
    stage: Mapped[str | None] = mapped_column(String(NAME))
    step: Mapped[str] = mapped_column(String(NAME))
    kind: Mapped[str] = mapped_column(String(STATUS))
    status: Mapped[str] = mapped_column(String(STATUS))
    outputs: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    # Background work: which action is next, the attempt fencing token, and the lease.
    action_index: Mapped[int] = mapped_column(Integer, default=0)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    # Leases lost to workers that stopped responding: capped apart from the retry attempts.
    lost_leases: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The attempt number when the step's current set of attempts began (a supervisor's retry,
    # a stage visited again): the number itself never goes back, so a worker still holding an
    # older attempt's call is fenced out whatever happened to the step since.
    attempt_base: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    available_at: Mapped[dt.datetime | None] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(NAME))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column()
    wait_event: Mapped[str | None] = mapped_column(String(NAME))
    wait_key: Mapped[str | None] = mapped_column(String(300))
    started_at: Mapped[dt.datetime | None] = mapped_column()
    ended_at: Mapped[dt.datetime | None] = mapped_column()

    run: Mapped[Any] = _parent("RunRow", "StepRunRow.run_id")
    stage_run: Mapped[Any] = _parent("StageRunRow", "StepRunRow.stage_run_id")

    __table_args__ = (
        Index("ix_step_runs_stage_run_id", "stage_run_id"),
        Index("ix_step_runs_run_id", "run_id"),
        # only background steps in progress, by when they are due: what workers look for
        Index(
            "ix_step_runs_due",
            "available_at",
            "id",
            sqlite_where=text(BACKGROUND_IN_PROGRESS),
            postgresql_where=text(BACKGROUND_IN_PROGRESS),
        ),
        # only steps waiting for an event (most never do): a step's other changes leave it be
        Index(
            "ix_step_runs_wait",
            "wait_event",
            "wait_key",
            sqlite_where=text("wait_event IS NOT NULL"),
            postgresql_where=text("wait_event IS NOT NULL"),
        ),
        Index(
            "ix_step_runs_history",
            "orchestration_id",
            "stage",
            "step",
            "started_at",
            "status",
            "ended_at",
        ),
        # only open steps: "waiting longer than usual" reads a step's open runs oldest first
        Index(
            "ix_step_runs_waiting",
            "orchestration_id",
            "stage",
            "step",
            "started_at",
            "run_id",
            sqlite_where=text("status = 'InProgress'"),
            postgresql_where=text("status = 'InProgress'"),
        ),
        # only open steps (not started or in progress), by visit: "has this visit a step
        # open?" from the index alone, for the stalled finder
        Index(
            "ix_step_runs_open_by_visit",
            "stage_run_id",
            sqlite_where=text("status IN ('NotStarted', 'InProgress')"),
            postgresql_where=text("status IN ('NotStarted', 'InProgress')"),
        ),
    )


def background_in_progress() -> tuple[ColumnElement[bool], ...]:
    """``BACKGROUND_IN_PROGRESS`` as a query's conditions, in words ``ix_step_runs_due`` matches."""
    return (
        StepRunRow.kind == literal_column("'background'"),
        StepRunRow.status == literal_column("'InProgress'"),
    )


class WorkItemRow(Base):
    __tablename__ = "work_items"

    id: Mapped[int] = _pk()
    run_id: Mapped[int] = _fk("runs.id", ondelete="CASCADE")
    step_run_id: Mapped[int] = _fk("step_runs.id", ondelete="CASCADE")
    orchestration_id: Mapped[int] = _fk("orchestrations.id")
    record_id: Mapped[int | None] = _fk("records.id", nullable=True)
    stage: Mapped[str] = mapped_column(String(NAME))
    step: Mapped[str] = mapped_column(String(NAME))
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(STATUS))
    assignee_kind: Mapped[str] = mapped_column(String(STATUS))
    assignee: Mapped[str] = mapped_column(String(NAME))
    claimed_by: Mapped[str | None] = mapped_column(String(NAME))
    claimed_at: Mapped[dt.datetime | None] = mapped_column()
    priority: Mapped[int] = mapped_column(Integer, default=2)
    due_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column()
    completed_by: Mapped[str | None] = mapped_column(String(NAME))
    comment: Mapped[str | None] = mapped_column(Text)
    values: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    # Why the item needs a person's attention (e.g. its assignee was deactivated).
    flag: Mapped[str | None] = mapped_column(String(200))
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    run: Mapped[Any] = _parent("RunRow", "WorkItemRow.run_id")
    step_run: Mapped[Any] = _parent("StepRunRow", "WorkItemRow.step_run_id")
    orchestration: Mapped[Any] = _parent("OrchestrationRow", "WorkItemRow.orchestration_id")
    record: Mapped[Any] = _parent("RecordRow", "WorkItemRow.record_id")

    __table_args__ = (
        Index("ix_work_items_assignee", "assignee_kind", "assignee", "status", "due_at"),
        Index("ix_work_items_status_due", "status", "due_at"),
        Index("ix_work_items_run_id", "run_id"),
        Index("ix_work_items_step_run_id", "step_run_id"),
        # Three indexes hold only the items with a value in their first column (a record, a
        # due time, a claim), since every query through them asks for one: an item without
        # it is not in them, so completing it does not write to them (see docs/benchmarks.md).
        Index(
            "ix_work_items_record_id",
            "record_id",
            "status",
            sqlite_where=text("record_id IS NOT NULL"),
            postgresql_where=text("record_id IS NOT NULL"),
        ),
        Index("ix_work_items_created", "created_at"),
        Index(
            "ix_work_items_sla",
            "due_at",
            "completed_at",
            "status",
            sqlite_where=text("due_at IS NOT NULL"),
            postgresql_where=text("due_at IS NOT NULL"),
        ),
        # "runs with open work held by X": assigned to X, or claimed by X
        Index("ix_work_items_holder", "assignee", "status", "run_id"),
        Index(
            "ix_work_items_claimed",
            "claimed_by",
            "status",
            "run_id",
            sqlite_where=text("claimed_by IS NOT NULL"),
            postgresql_where=text("claimed_by IS NOT NULL"),
        ),
    )


class LogRow(Base):
    """The append-only history of a run."""

    __tablename__ = "run_log"

    id: Mapped[int] = _pk()
    run_id: Mapped[int] = _fk("runs.id", ondelete="CASCADE")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(NAME))
    event: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str | None] = mapped_column(String(NAME))
    step: Mapped[str | None] = mapped_column(String(NAME))
    work_item_id: Mapped[int | None] = mapped_column(Key)
    message: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONData)

    run: Mapped[Any] = _parent("RunRow", "LogRow.run_id")

    __table_args__ = (Index("ix_run_log_run_id", "run_id", "id"),)


class OutboxRow(Base):
    """Outgoing messages, written in the same transaction as the change that causes them."""

    __tablename__ = "outbox"

    id: Mapped[int] = _pk()
    kind: Mapped[str] = mapped_column(String(STATUS), default="email")
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(400))
    body: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int | None] = _fk("runs.id", nullable=True, ondelete="SET NULL")
    status: Mapped[str] = mapped_column(String(STATUS), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column()

    run: Mapped[Any] = _parent("RunRow", "OutboxRow.run_id")

    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)


class EventRow(Base):
    """An external event, published by name and correlation key."""

    __tablename__ = "events"

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(String(NAME))
    key: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    published_by: Mapped[str | None] = mapped_column(String(NAME))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    consumed_by_step_run_id: Mapped[int | None] = mapped_column(Key)
    consumed_at: Mapped[dt.datetime | None] = mapped_column()

    __table_args__ = (Index("ix_events_name_key", "name", "key", "consumed_at"),)


# ---------------------------------------------------------------- people's time and settings


class SettingRow(Base):
    """Install-wide settings shared by every desktop and worker (owner, SMTP …)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSONData)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(NAME))


class CalendarRow(Base):
    """A business calendar: working hours per weekday, holidays, a time zone."""

    __tablename__ = "calendars"

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    hours: Mapped[dict[str, Any]] = mapped_column(JSONData)
    holidays: Mapped[list[str]] = mapped_column(JSON)
    hours_per_day: Mapped[float] = mapped_column(default=8.0)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TimerRow(Base):
    """A durable timer: an escalation rung of a work item, fired exactly once."""

    __tablename__ = "timers"

    id: Mapped[int] = _pk()
    run_id: Mapped[int] = _fk("runs.id", ondelete="CASCADE")
    work_item_id: Mapped[int] = _fk("work_items.id", ondelete="CASCADE")
    rung: Mapped[int] = mapped_column(Integer)
    fire_at: Mapped[dt.datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(STATUS), default="pending")
    fired_at: Mapped[dt.datetime | None] = mapped_column()
    run: Mapped[Any] = _parent("RunRow", "TimerRow.run_id")
    work_item: Mapped[Any] = _parent("WorkItemRow", "TimerRow.work_item_id")

    __table_args__ = (Index("ix_timers_due", "status", "fire_at"),)


class SavedViewRow(Base):
    """A person's named filter of the Runs or Work Items list."""

    __tablename__ = "saved_views"

    id: Mapped[int] = _pk()
    owner: Mapped[str] = mapped_column(String(NAME))
    kind: Mapped[str] = mapped_column(String(STATUS))
    name: Mapped[str] = mapped_column(String(NAME))
    query: Mapped[dict[str, Any]] = mapped_column(JSONData)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("owner", "kind", "name"),)
