"""Plain data the service API returns. No sessions, no ORM objects, safe to hand to any thread."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any


class Data:
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload,no-any-return]


@dataclass(frozen=True)
class VersionInfo(Data):
    orchestration: str
    number: int
    status: str
    created_at: dt.datetime
    created_by: str | None
    activated_at: dt.datetime | None
    activated_by: str | None
    checksum: str
    runs: int = 0


@dataclass(frozen=True)
class OrchestrationInfo(Data):
    name: str
    label: str
    type: str
    active_version: int | None
    latest_version: int
    versions: list[VersionInfo] = field(default_factory=list)


@dataclass(frozen=True)
class ObjectTypeInfo(Data):
    name: str
    label: str
    title_field: str | None
    fields: list[dict[str, Any]]


@dataclass(frozen=True)
class RecordInfo(Data):
    id: int
    object_type: str
    title: str
    data: dict[str, Any]
    owner: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    row_version: int


@dataclass(frozen=True)
class LogEntry(Data):
    id: int
    at: dt.datetime
    actor: str | None
    event: str
    stage: str | None
    step: str | None
    work_item_id: int | None
    message: str | None
    details: dict[str, Any] | None


@dataclass(frozen=True)
class StepRunInfo(Data):
    id: int
    step: str
    kind: str
    status: str
    outputs: dict[str, Any]
    error: str | None
    attempt: int
    started_at: dt.datetime | None
    ended_at: dt.datetime | None


@dataclass(frozen=True)
class StageRunInfo(Data):
    id: int
    stage: str
    visit: int
    status: str
    error: str | None
    started_at: dt.datetime
    ended_at: dt.datetime | None
    steps: list[StepRunInfo] = field(default_factory=list)


@dataclass(frozen=True)
class RunSummary(Data):
    id: int
    orchestration: str
    version: int
    status: str
    current_element: str | None
    record_id: int | None
    started_by: str | None
    started_at: dt.datetime
    ended_at: dt.datetime | None
    error: str | None
    updated_at: dt.datetime | None = None
    record_title: str | None = None


@dataclass(frozen=True)
class WorkItemInfo(Data):
    id: int
    run_id: int
    orchestration: str
    stage: str
    step: str
    title: str
    status: str
    assignee_kind: str
    assignee: str
    claimed_by: str | None
    priority: int
    due_at: dt.datetime | None
    created_at: dt.datetime
    completed_at: dt.datetime | None
    completed_by: str | None
    record_id: int | None
    comment: str | None
    values: dict[str, Any]
    row_version: int
    record_title: str | None = None
    flag: str | None = None


@dataclass(frozen=True)
class RunOutcome(Data):
    """What happened to one run of a bulk operation: done, or refused and why."""

    run_id: int
    done: bool
    message: str


@dataclass(frozen=True)
class RunDetail(Data):
    run: RunSummary
    variables: dict[str, Any]
    stages: list[StageRunInfo]
    work_items: list[WorkItemInfo]
    log: list[LogEntry]
    other_versions: list[int] = field(default_factory=list)  # it may move to these, newest first


@dataclass(frozen=True)
class EventInfo(Data):
    id: int
    name: str
    key: str
    data: dict[str, Any]
    received_at: dt.datetime
    consumed_by_step_run_id: int | None


@dataclass(frozen=True)
class UserInfo(Data):
    username: str
    display_name: str
    email: str | None
    role: str
    active: bool
    groups: list[str] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)
    time_zone: str | None = None  # for times in their e-mails; None: the calendar's zone


@dataclass(frozen=True)
class WorkerReport(Data):
    """What one pass of the worker did."""

    steps_run: int = 0
    timers_fired: int = 0
    messages_sent: int = 0
    errors: list[str] = field(default_factory=list)
    stalled_moved: int = 0  # runs left in a finished stage, moved on (engine.runtime.stalled)

    @property
    def did_anything(self) -> bool:
        return bool(self.steps_run or self.timers_fired or self.messages_sent or self.stalled_moved)
