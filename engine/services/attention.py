"""Needs attention: the runs that are stuck, each with the reason a supervisor acts on.

- a failed run, with the error of its step
- overdue work, with whom it waits
- a step waiting longer than 95 % of that step's completions in the last 90 days
- an event wait past its timeout (no worker is failing it: is one running?)
- a step whose worker's lease ran out and nobody took it over (the worker died)
- a stalled stage: every step done and no exit (engine.runtime.stalled; a worker moves it on)
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine import clock
from engine.runtime.context import definition_for
from engine.runtime.passes import due_background
from engine.runtime.stalled import find_stalled
from engine.services.context import ServiceContext
from engine.services.dashboards import percentile, step_durations
from engine.services.dto import Data
from engine.services.permissions import STAFF
from engine.statuses import RunStatus, StepStatus, WorkStatus
from engine.store.models import (
    OrchestrationRow,
    RunRow,
    StepRunRow,
    VersionRow,
    WorkItemRow,
)

KINDS = {
    "failed": "Failed step",
    "overdue": "Overdue work",
    "slow": "Waiting longer than usual",
    "event_timeout": "Event wait past its timeout",
    "dead_worker": "Held by a stopped worker",
    "stalled": "Stalled stage",
}
GRACE = dt.timedelta(minutes=2)  # a worker's poll interval and then some
HISTORY = dt.timedelta(days=90)
MIN_HISTORY = 20  # fewer completions than this say nothing about what is usual
MIN_WAIT = dt.timedelta(minutes=10)  # nobody is stuck after a few minutes
USUAL_FOR = dt.timedelta(minutes=10)  # how long a step's p95 is kept before it is read again


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
                ("stalled", self._stalled),
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
        """Step by step: its open runs older than its p95, read from the partial index of open
        steps, so the cost follows the number of steps drawn, not the number of runs."""
        suspended = select(RunRow.id).where(RunRow.status == RunStatus.SUSPENDED)
        found: list[Attention] = []
        total = 0
        for oid, stage, step in _drawn_steps(session):
            waiting = (
                StepRunRow.status == StepStatus.IN_PROGRESS,
                StepRunRow.orchestration_id == oid,
                StepRunRow.stage == stage,
                StepRunRow.step == step,
                StepRunRow.run_id.not_in(suspended),
            )
            oldest = session.scalar(select(func.min(StepRunRow.started_at)).where(*waiting))
            if oldest is None or oldest > now - MIN_WAIT:
                continue
            p95 = _usual_seconds(session, oid, stage, step, now)
            if p95 is None:
                continue
            cutoff = now - dt.timedelta(seconds=max(p95, MIN_WAIT.total_seconds()))
            late = (*waiting, StepRunRow.started_at < cutoff)
            count = session.scalar(select(func.count()).select_from(StepRunRow).where(*late))
            if not count:
                continue
            total += count
            rows = session.execute(
                select(StepRunRow.run_id, StepRunRow.started_at)
                .where(*late)
                .order_by(StepRunRow.started_at)
                .limit(limit)
            )
            for run_id, started in rows:
                if started is None:
                    continue
                waited = (now - started).total_seconds()
                found.append(
                    Attention(
                        "slow",
                        run_id,
                        names[oid],
                        stage,
                        step,
                        started,
                        f"waiting {_duration(waited)}; "
                        f"95 % of its runs took under {_duration(p95)}",
                    )
                )
        found.sort(key=lambda a: a.since or now)
        return found[:limit], total

    @staticmethod
    def _event_timeouts(
        session: Session, names: dict[int, str], now: dt.datetime, limit: int
    ) -> tuple[list[Attention], int]:
        where = (
            *_overdue_background(now),
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
            *_overdue_background(now),
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
                f"worker {s.lease_owner} stopped renewing its lease on attempt "
                f"{s.attempt - s.attempt_base}; no other worker has taken the step over"
            ),
        )

    @staticmethod
    def _stalled(
        session: Session, names: dict[int, str], now: dt.datetime, limit: int
    ) -> tuple[list[Attention], int]:
        found = find_stalled(session)
        return [
            Attention(
                "stalled",
                s.run_id,
                names.get(s.orchestration_id, "?"),
                s.stage,
                None,
                s.since,
                s.detail,
            )
            for s in found[:limit]
        ], len(found)


def _overdue_background(now: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    """A background step in progress that a worker should have taken up a poll ago."""
    return (*due_background(), StepRunRow.available_at < now - GRACE)


def _steps(
    session: Session,
    names: dict[int, str],
    where: tuple[ColumnElement[bool], ...],
    limit: int,
    kind: str,
    say: Callable[[StepRunRow], str],
) -> tuple[list[Attention], int]:
    query = select(StepRunRow).where(*where)  # ``where`` holds _overdue_background's
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


def _drawn_steps(session: Session) -> list[tuple[int, str, str]]:
    """(orchestration, stage, step) of every stored version: open runs may be on any of them."""
    versions = session.execute(select(VersionRow.id, VersionRow.orchestration_id)).all()
    keys: dict[tuple[int, str, str], None] = {}
    for version_id, oid in versions:
        for stage in definition_for(session, version_id).definition.stages():
            for step in stage.steps:
                keys[(oid, stage.name, step.name)] = None
    return list(keys)


_usual_lock = threading.Lock()
_usual: weakref.WeakKeyDictionary[Any, dict[tuple[int, str, str], tuple[dt.datetime, float | None]]]
_usual = weakref.WeakKeyDictionary()


def _usual_seconds(
    session: Session, oid: int, stage: str, step: str, now: dt.datetime
) -> float | None:
    """The step's p95 over the last 90 days, or None with too little history to say.

    Kept for a few minutes per database: 90 days of history do not move in that time, and
    reading them is most of the cost of the report."""
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    with _usual_lock:
        hit = _usual.setdefault(engine, {}).get((oid, stage, step))
    if hit is not None and abs(now - hit[0]) < USUAL_FOR:
        return hit[1]
    values = step_durations(session, oid, stage, step, now - HISTORY)
    p95 = percentile(values, 0.95) if len(values) >= MIN_HISTORY else None
    with _usual_lock:
        _usual.setdefault(engine, {})[(oid, stage, step)] = (now, p95)
    return p95


def forget_usual() -> None:
    """Drop every kept p95, so the next report reads the history again (for benchmarks)."""
    with _usual_lock:
        _usual.clear()
