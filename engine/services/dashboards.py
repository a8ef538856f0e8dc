"""Run history in numbers, for the Dashboards and the designer's overlay. Aggregates are
computed in SQL over index ranges; durations come from a sample of each step's runs spread
over the window (``SAMPLE`` of them), so a dashboard costs the same at any history size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine import clock
from engine.errors import InvalidInput
from engine.runtime.context import definition_for
from engine.services.context import ServiceContext
from engine.services.definitions import find_orchestration
from engine.services.dto import Data
from engine.services.permissions import STAFF
from engine.statuses import RunStatus, StepStatus, WorkStatus
from engine.store.models import RunRow, StageRunRow, StepRunRow, VersionRow, WorkItemRow
from engine.store.sqltime import day_of, dialect, seconds_between

SAMPLE = 2000
SLICES = 10
AGE_BUCKETS = ((1, "under 1 day"), (3, "1–3 days"), (7, "3–7 days"), (14, "1–2 weeks"))
OLDEST = "over 2 weeks"


@dataclass(frozen=True)
class DayCount(Data):
    day: str
    started: int = 0
    completed: int = 0
    failed: int = 0


@dataclass(frozen=True)
class DurationStat(Data):
    stage: str
    step: str | None  # None: the stage as a whole
    count: int
    median_seconds: float | None
    p95_seconds: float | None


@dataclass(frozen=True)
class StepHealth(Data):
    """How a step has done over the window: for the designer's bottleneck overlay."""

    stage: str
    step: str
    runs: int
    failures: int
    average_seconds: float | None

    @property
    def failure_rate(self) -> float:
        return self.failures / self.runs if self.runs else 0.0


@dataclass(frozen=True)
class Backlog(Data):
    assignee_kind: str
    assignee: str
    open: int
    overdue: int


@dataclass(frozen=True)
class SlaDay(Data):
    day: str
    due: int
    breached: int


def _days(since: dt.datetime, days: int) -> list[dt.datetime]:
    return [since + dt.timedelta(days=offset) for offset in range(days)]


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return None
    rank = max(1, -(-int(fraction * 1000) * len(sorted_values) // 1000))  # ceil
    return sorted_values[min(rank, len(sorted_values)) - 1]


def sample_of_step(
    session: Session,
    orchestration_id: int,
    stage: str,
    step: str,
    since: dt.datetime,
    columns: Sequence[Any],
    *where: ColumnElement[bool],
) -> list[Any]:
    """Up to ``SAMPLE`` runs of one step started since ``since``, spread over the window.

    The latest ``SAMPLE / SLICES`` of each tenth of it: the latest runs alone would all be
    from the last days, where only the quick ones have finished yet, and a slow step would
    look quick. Each tenth is one range of the covering history index.
    """
    width = (clock.now() - since) / SLICES
    rows: list[Any] = []
    for i in range(SLICES):
        start = since + width * i
        rows += session.execute(
            select(*columns)
            .where(
                StepRunRow.orchestration_id == orchestration_id,
                StepRunRow.stage == stage,
                StepRunRow.step == step,
                StepRunRow.started_at >= start,
                StepRunRow.started_at < start + width,
                *where,
            )
            .order_by(StepRunRow.started_at.desc())
            .limit(SAMPLE // SLICES)
        ).all()
    return rows


def step_durations(
    session: Session, orchestration_id: int, stage: str, step: str, since: dt.datetime
) -> list[float]:
    """Seconds taken by a sample of one step's completions since ``since``, sorted."""
    seconds = seconds_between(dialect(session), StepRunRow.started_at, StepRunRow.ended_at)
    rows = sample_of_step(
        session,
        orchestration_id,
        stage,
        step,
        since,
        [seconds],
        StepRunRow.status == StepStatus.COMPLETED,
    )
    return sorted(max(0.0, float(v)) for (v,) in rows if v is not None)


def steps_of(session: Session, orchestration_id: int) -> list[tuple[str, str]]:
    """(stage, step) of the orchestration's newest version, in the order drawn."""
    version_id = session.scalar(
        select(VersionRow.id)
        .where(VersionRow.orchestration_id == orchestration_id)
        .order_by((VersionRow.status == "active").desc(), VersionRow.number.desc())
        .limit(1)
    )
    if version_id is None:
        return []
    definition = definition_for(session, version_id).definition
    return [(stage.name, step.name) for stage in definition.stages() for step in stage.steps]


class DashboardsService:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    def _window(self, days: int) -> dt.datetime:
        if not 1 <= days <= 3660:
            raise InvalidInput(f"a window of 1 to 3660 days, not {days}")
        today = clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
        return today - dt.timedelta(days=days - 1)

    def runs_per_day(self, days: int = 30, orchestration: str | None = None) -> list[DayCount]:
        """Runs started, completed and failed on each of the last ``days`` days (UTC)."""
        since = self._window(days)
        with self.context.read() as session:
            self.context.require(session, STAFF, "see dashboards")
            name = dialect(session)
            only = (
                [RunRow.orchestration_id == find_orchestration(session, orchestration).id]
                if orchestration
                else []
            )
            started = {
                start.strftime("%Y-%m-%d"): session.scalar(
                    select(func.count()).where(
                        RunRow.started_at >= start,
                        RunRow.started_at < start + dt.timedelta(days=1),
                        *only,
                    )
                )
                for start in _days(since, days)
            }
            ended_day = day_of(name, RunRow.ended_at)
            ended: dict[tuple[str, str], int] = {
                (day, status): count
                for day, status, count in session.execute(
                    select(ended_day, RunRow.status, func.count())
                    .where(
                        RunRow.ended_at >= since,
                        RunRow.status.in_((RunStatus.COMPLETED, RunStatus.ERROR)),
                        *only,
                    )
                    .group_by(ended_day, RunRow.status)
                ).all()
            }
        result = []
        for offset in range(days):
            day = (since + dt.timedelta(days=offset)).strftime("%Y-%m-%d")
            result.append(
                DayCount(
                    day,
                    int(started.get(day) or 0),
                    int(ended.get((day, RunStatus.COMPLETED), 0)),
                    int(ended.get((day, RunStatus.ERROR), 0)),
                )
            )
        return result

    def durations(self, orchestration: str, days: int = 30) -> list[DurationStat]:
        """Median and 95th percentile time of each stage and step of ``orchestration``."""
        since = self._window(days)
        with self.context.read() as session:
            self.context.require(session, STAFF, "see dashboards")
            orchestration_id = find_orchestration(session, orchestration).id
            result: list[DurationStat] = []
            stage_runs: dict[str, set[int]] = {}
            for stage, step in steps_of(session, orchestration_id):
                values = step_durations(session, orchestration_id, stage, step, since)
                result.append(
                    DurationStat(
                        stage,
                        step,
                        len(values),
                        median(values) if values else None,
                        percentile(values, 0.95),
                    )
                )
                if stage not in stage_runs:  # the stage's visits, found through its first step
                    stage_runs[stage] = set(
                        session.scalars(
                            select(StepRunRow.stage_run_id)
                            .where(
                                StepRunRow.orchestration_id == orchestration_id,
                                StepRunRow.stage == stage,
                                StepRunRow.step == step,
                                StepRunRow.started_at >= since,
                            )
                            .order_by(StepRunRow.started_at.desc())
                            .limit(SAMPLE)
                        )
                    )
            seconds = seconds_between(
                dialect(session), StageRunRow.started_at, StageRunRow.ended_at
            )
            for stage, ids in stage_runs.items():
                values = sorted(
                    max(0.0, float(v))
                    for v in session.scalars(
                        select(seconds).where(
                            StageRunRow.id.in_(ids), StageRunRow.status == "Completed"
                        )
                    )
                    if v is not None
                )
                at = next(i for i, d in enumerate(result) if d.stage == stage)
                result.insert(
                    at,
                    DurationStat(
                        stage,
                        None,
                        len(values),
                        median(values) if values else None,
                        percentile(values, 0.95),
                    ),
                )
            return result

    def step_health(self, orchestration: str, days: int = 90) -> list[StepHealth]:
        """Per step, over a sample of its runs in the window (``sample_of_step``): how many
        failed, and the average time of those that completed."""
        since = self._window(days)
        with self.context.read() as session:
            self.context.require(session, STAFF, "see dashboards")
            orchestration_id = find_orchestration(session, orchestration).id
            seconds = seconds_between(dialect(session), StepRunRow.started_at, StepRunRow.ended_at)
            result = []
            for stage, step in steps_of(session, orchestration_id):
                rows = sample_of_step(
                    session, orchestration_id, stage, step, since, [StepRunRow.status, seconds]
                )
                done = [
                    float(v)
                    for status, v in rows
                    if status == StepStatus.COMPLETED and v is not None
                ]
                failures = sum(1 for status, _ in rows if status == StepStatus.ERROR)
                average = sum(done) / len(done) if done else None
                result.append(StepHealth(stage, step, len(rows), failures, average))
            return result

    def work_aging(self) -> list[tuple[str, int, int]]:
        """Open work by age: (bucket, items, of which overdue)."""
        now = clock.now()
        with self.context.read() as session:
            self.context.require(session, STAFF, "see dashboards")
            whens: list[Any] = [
                (WorkItemRow.created_at > now - dt.timedelta(days=limit), label)
                for limit, label in AGE_BUCKETS
            ]
            bucket = case(*whens, else_=OLDEST)
            overdue = func.sum(case((WorkItemRow.due_at < now, 1), else_=0))
            rows = session.execute(
                select(bucket, func.count(), overdue)
                .where(WorkItemRow.status.in_(WorkStatus.OPEN))
                .group_by(bucket)
            ).all()
        found = {label: (int(count), int(late or 0)) for label, count, late in rows}
        labels = [label for _, label in AGE_BUCKETS] + [OLDEST]
        return [(label, *found.get(label, (0, 0))) for label in labels]

    def backlog(self, limit: int = 15) -> list[Backlog]:
        """Open work per assignee (person, queue or group), largest first."""
        now = clock.now()
        with self.context.read() as session:
            self.context.require(session, STAFF, "see dashboards")
            holder_kind = case(
                (WorkItemRow.claimed_by.is_not(None), "user"), else_=WorkItemRow.assignee_kind
            )
            holder = func.coalesce(WorkItemRow.claimed_by, WorkItemRow.assignee)
            overdue = func.sum(case((WorkItemRow.due_at < now, 1), else_=0))
            rows = session.execute(
                select(holder_kind, holder, func.count(), overdue)
                .where(WorkItemRow.status.in_(WorkStatus.OPEN))
                .group_by(holder_kind, holder)
                .order_by(func.count().desc())
                .limit(limit)
            ).all()
        return [Backlog(kind, who, int(count), int(late or 0)) for kind, who, count, late in rows]

    def sla_breaches(self, days: int = 30) -> list[SlaDay]:
        """Per day: work that fell due, and how much of it was (or still is) late."""
        since = self._window(days)
        now = clock.now()
        with self.context.read() as session:
            self.context.require(session, STAFF, "see dashboards")
            late = or_(
                WorkItemRow.completed_at > WorkItemRow.due_at,
                and_(WorkItemRow.status.in_(WorkStatus.OPEN), WorkItemRow.due_at < now),
            )
            query = select(func.count(), func.sum(case((late, 1), else_=0)))
            rows: dict[str, tuple[int, int]] = {}
            for start in _days(since, days):  # a range per day: no sort, only the index
                end = min(start + dt.timedelta(days=1), now)
                if start >= end:
                    break
                due, breached = session.execute(
                    query.where(WorkItemRow.due_at >= start, WorkItemRow.due_at < end)
                ).one()
                rows[start.strftime("%Y-%m-%d")] = (int(due or 0), int(breached or 0))
        result = []
        for offset in range(days):
            d = (since + dt.timedelta(days=offset)).strftime("%Y-%m-%d")
            due, breached = rows.get(d, (0, 0))
            result.append(SlaDay(d, due, breached))
        return result
