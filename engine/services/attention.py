"""Needs attention: the runs that are stuck, each with the reason a supervisor acts on.

- a failed run, with the error of its step
- overdue work, with whom it waits
- a step waiting longer than 95 % of that step's completions in the last 90 days
- an event wait past its timeout (no worker is failing it: is one running?)
- a step whose worker's lease ran out and nobody took it over (the worker died)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine import clock
from engine.runtime.statuses import RunStatus, StepStatus, WorkStatus
from engine.services.context import ServiceContext
from engine.services.dashboards import percentile, step_durations
from engine.services.dto import Data
from engine.services.permissions import STAFF
from engine.store.models import OrchestrationRow, RunRow, StepRunRow, WorkItemRow

KINDS = {
    "failed": "Failed step",
    "overdue": "Overdue work",
    "slow": "Waiting longer than usual",
    "event_timeout": "Event wait past its timeout",
    "dead_worker": "Held by a stopped worker",
}
GRACE = dt.timedelta(minutes=2)  # a worker's poll interval and then some
HISTORY = dt.timedelta(days=90)
MIN_HISTORY = 20  # fewer completions than this say nothing about what is usual


@dataclass(frozen=True)
class Attention(Data):
    kind: str
    run_id: int
    orchestration: str
    stage: str | None
    step: str | None
    since: dt.datetime | None
    detail: str
    who: str | None = None
    work_item_id: int | None = None


@dataclass(frozen=True)
class AttentionReport(Data):
    items: list[Attention]
    counts: dict[str, int] = field(default_factory=dict)  # kind → how many in all


def _duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


class AttentionService:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    def report(self, limit: int = 200) -> AttentionReport:
        """Up to ``limit`` runs of each kind (the worst first), with the count of each."""
        now = clock.now()
        with self.context.read() as session:
            self.context.require(session, STAFF, "see runs that need attention")
            names = dict(session.execute(select(OrchestrationRow.id, OrchestrationRow.name)).all())
            items: list[Attention] = []
            counts: dict[str, int] = {}
            for kind, finder in (
                ("failed", self._failed),
                ("overdue", self._overdue),
                ("slow", self._slow),
                ("event_timeout", self._event_timeouts),
                ("dead_worker", self._dead_workers),
            ):
                found, total = finder(session, names, now, limit)
                items.extend(found)
                counts[kind] = total
            return AttentionReport(items, counts)

    @staticmethod
    def _failed(
        session: Session, names: dict[int, str], now: dt.datetime, limit: int
    ) -> tuple[list[Attention], int]:
        where = RunRow.status == RunStatus.ERROR
        total = session.scalar(select(func.count()).select_from(RunRow).where(where)) or 0
        rows = session.execute(
            select(
                RunRow.id,
                RunRow.orchestration_id,
                RunRow.current_element,
                RunRow.ended_at,
                RunRow.error,
            )
            .where(where)
            .order_by(RunRow.ended_at.desc())
            .limit(limit)
        ).all()
        return [
            Attention("failed", rid, names[oid], stage, None, ended, error or "failed")
            for rid, oid, stage, ended, error in rows
        ], int(total)

    @staticmethod
    def _overdue(
        session: Session, names: dict[int, str], now: dt.datetime, limit: int
    ) -> tuple[list[Attention], int]:
        where = (WorkItemRow.status.in_(WorkStatus.OPEN), WorkItemRow.due_at < now)
        total = session.scalar(select(func.count()).select_from(WorkItemRow).where(*where)) or 0
        rows = session.scalars(
            select(WorkItemRow).where(*where).order_by(WorkItemRow.due_at).limit(limit)
        )
        found = []
        for w in rows:
            assert w.due_at is not None
            who = w.claimed_by or f"{w.assignee_kind} {w.assignee}"
            late = _duration((now - w.due_at).total_seconds())
            found.append(
                Attention(
                    "overdue",
                    w.run_id,
                    names[w.orchestration_id],
                    w.stage,
                    w.step,
                    w.due_at,
                    f"'{w.title}' is {late} overdue with {who}",
                    who=w.claimed_by or w.assignee,
                    work_item_id=w.id,
                )
            )
        return found, int(total)

    @staticmethod
    def _slow(
        session: Session, names: dict[int, str], now: dt.datetime, limit: int
    ) -> tuple[list[Attention], int]:
        open_steps = session.execute(
            select(
                StepRunRow.id,
                StepRunRow.run_id,
                StepRunRow.orchestration_id,
                StepRunRow.stage,
                StepRunRow.step,
                StepRunRow.started_at,
            )
            .join(RunRow, RunRow.id == StepRunRow.run_id)
            .where(
                StepRunRow.status == StepStatus.IN_PROGRESS,
                StepRunRow.started_at < now - dt.timedelta(minutes=10),
                RunRow.status == RunStatus.IN_PROGRESS,
            )
            .order_by(StepRunRow.started_at)
        ).all()
        usual: dict[tuple[int, str, str], float | None] = {}
        found = []
        for _sid, run_id, oid, stage, step, started in open_steps:
            if oid is None or stage is None or started is None:
                continue
            key = (oid, stage, step)
            if key not in usual:
                values = step_durations(session, oid, stage, step, now - HISTORY)
                usual[key] = percentile(values, 0.95) if len(values) >= MIN_HISTORY else None
            p95 = usual[key]
            waited = (now - started).total_seconds()
            if p95 is None or waited <= p95:
                continue
            found.append(
                Attention(
                    "slow",
                    run_id,
                    names[oid],
                    stage,
                    step,
                    started,
                    f"waiting {_duration(waited)}; 95 % of its runs took under {_duration(p95)}",
                )
            )
        return found[:limit], len(found)

    @staticmethod
    def _event_timeouts(
        session: Session, names: dict[int, str], now: dt.datetime, limit: int
    ) -> tuple[list[Attention], int]:
        where = (
            StepRunRow.kind == "background",
            StepRunRow.status == StepStatus.IN_PROGRESS,
            StepRunRow.available_at < now - GRACE,
            StepRunRow.wait_event.is_not(None),
            StepRunRow.wait_event != "child_run",
        )
        return _steps(
            session,
            names,
            where,
            limit,
            "event_timeout",
            lambda s: (
                f"waited for event '{s.wait_event}' [{s.wait_key}] past its timeout; "
                "no worker has acted on it: is a worker running?"
            ),
        )

    @staticmethod
    def _dead_workers(
        session: Session, names: dict[int, str], now: dt.datetime, limit: int
    ) -> tuple[list[Attention], int]:
        where = (
            StepRunRow.kind == "background",
            StepRunRow.status == StepStatus.IN_PROGRESS,
            StepRunRow.available_at < now - GRACE,
            StepRunRow.lease_owner.is_not(None),
            StepRunRow.lease_expires_at < now - GRACE,
        )
        return _steps(
            session,
            names,
            where,
            limit,
            "dead_worker",
            lambda s: (
                f"worker {s.lease_owner} stopped renewing its lease on attempt {s.attempt}; "
                "no other worker has taken the step over"
            ),
        )


def _steps(
    session: Session,
    names: dict[int, str],
    where: tuple[ColumnElement[bool], ...],
    limit: int,
    kind: str,
    say: Callable[[StepRunRow], str],
) -> tuple[list[Attention], int]:
    query = (
        select(StepRunRow)
        .join(RunRow, RunRow.id == StepRunRow.run_id)
        .where(*where, RunRow.status == RunStatus.IN_PROGRESS)
    )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(StepRunRow.available_at).limit(limit))
    return [
        Attention(
            kind,
            s.run_id,
            names.get(s.orchestration_id or 0, "?"),
            s.stage,
            s.step,
            s.available_at,
            say(s),
        )
        for s in rows
    ], int(total)
