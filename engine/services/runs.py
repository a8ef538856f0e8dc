"""Runs: start, list, show (with the readable history), cancel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.runtime.access import lock_run
from engine.runtime.engine import RunEngine
from engine.runtime.interventions import retry_step
from engine.runtime.starting import active_version, start_run
from engine.runtime.statuses import RunStatus
from engine.services.context import ServiceContext
from engine.services.definitions import find_orchestration
from engine.services.dto import (
    LogEntry,
    RunDetail,
    RunSummary,
    StageRunInfo,
    StepRunInfo,
    WorkItemInfo,
)
from engine.services.errors import Conflict, InvalidInput, NotFound
from engine.services.permissions import ANYONE, STAFF
from engine.store.models import (
    LogRow,
    OrchestrationRow,
    RunRow,
    StageRunRow,
    StepRunRow,
    VersionRow,
    WorkItemRow,
)
from engine.store.rows import RunRec, WorkItemRec


def run_summary(row: RunRow | RunRec, orchestration: str, version: int) -> RunSummary:
    return RunSummary(
        id=row.id,
        orchestration=orchestration,
        version=version,
        status=row.status,
        current_element=row.current_element,
        record_id=row.record_id,
        started_by=row.started_by,
        started_at=row.started_at,
        ended_at=row.ended_at,
        error=row.error,
    )


def work_item_info(row: WorkItemRow | WorkItemRec, orchestration: str) -> WorkItemInfo:
    return WorkItemInfo(
        id=row.id,
        run_id=row.run_id,
        orchestration=orchestration,
        stage=row.stage,
        step=row.step,
        title=row.title,
        status=row.status,
        assignee_kind=row.assignee_kind,
        assignee=row.assignee,
        claimed_by=row.claimed_by,
        priority=row.priority,
        due_at=row.due_at,
        created_at=row.created_at,
        completed_at=row.completed_at,
        completed_by=row.completed_by,
        record_id=row.record_id,
        comment=row.comment,
        values=dict(row.values or {}),
        row_version=row.row_version,
        flag=row.flag,
    )


def _summaries(session: Session, rows: Sequence[RunRow | RunRec]) -> list[RunSummary]:
    names = dict(session.execute(select(OrchestrationRow.id, OrchestrationRow.name)).all())
    version_ids = {r.version_id for r in rows}
    numbers = (
        dict(
            session.execute(
                select(VersionRow.id, VersionRow.number).where(VersionRow.id.in_(version_ids))
            ).all()
        )
        if version_ids
        else {}
    )
    return [run_summary(r, names[r.orchestration_id], numbers[r.version_id]) for r in rows]


class RunsService:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    def start(
        self, name: str, inputs: dict[str, Any] | None = None, *, record_id: int | None = None
    ) -> RunSummary:
        with self.context.write() as session:
            self.context.require(session, ANYONE, "start runs")
            target = active_version(session, name)
            run = start_run(
                session,
                target.orchestration_id,
                target.version_id,
                inputs or {},
                record_id=record_id,
                actor=self.context.actor,
            )
            return run_summary(run, target.orchestration, target.number)

    def list(
        self,
        *,
        status: str | None = None,
        orchestration: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[RunSummary]:
        if status is not None and status not in RunStatus.ALL:
            raise InvalidInput(
                f"'{status}' is not a run status; use one of {', '.join(RunStatus.ALL)}"
            )
        with self.context.read() as session:
            self.context.require(session, STAFF, "list runs")
            query = select(RunRow)
            if status:
                query = query.where(RunRow.status == status)
            if orchestration:
                query = query.where(
                    RunRow.orchestration_id == find_orchestration(session, orchestration).id
                )
            rows = list(
                session.scalars(query.order_by(RunRow.id.desc()).limit(limit).offset(offset))
            )
            return _summaries(session, rows)

    def get(self, run_id: int) -> RunSummary:
        with self.context.read() as session:
            self.context.require(session, STAFF, "look at runs")
            row = session.get(RunRow, run_id)
            if row is None:
                raise NotFound(f"no run with id {run_id}")
            return _summaries(session, [row])[0]

    def show(self, run_id: int, *, log_limit: int = 1000) -> RunDetail:
        with self.context.read() as session:
            self.context.require(session, STAFF, "look at runs")
            row = session.get(RunRow, run_id)
            if row is None:
                raise NotFound(f"no run with id {run_id}")
            summary = _summaries(session, [row])[0]
            steps_by_stage: dict[int, list[StepRunInfo]] = {}
            for step in session.scalars(
                select(StepRunRow).where(StepRunRow.run_id == run_id).order_by(StepRunRow.id)
            ):
                steps_by_stage.setdefault(step.stage_run_id, []).append(
                    StepRunInfo(
                        step.id,
                        step.step,
                        step.kind,
                        step.status,
                        dict(step.outputs or {}),
                        step.error,
                        step.attempt,
                        step.started_at,
                        step.ended_at,
                    )
                )
            stages = [
                StageRunInfo(
                    s.id,
                    s.stage,
                    s.visit,
                    s.status,
                    s.error,
                    s.started_at,
                    s.ended_at,
                    steps_by_stage.get(s.id, []),
                )
                for s in session.scalars(
                    select(StageRunRow).where(StageRunRow.run_id == run_id).order_by(StageRunRow.id)
                )
            ]
            items = [
                work_item_info(w, summary.orchestration)
                for w in session.scalars(
                    select(WorkItemRow).where(WorkItemRow.run_id == run_id).order_by(WorkItemRow.id)
                )
            ]
            log = [
                LogEntry(
                    e.id,
                    e.at,
                    e.actor,
                    e.event,
                    e.stage,
                    e.step,
                    e.work_item_id,
                    e.message,
                    e.details,
                )
                for e in session.scalars(
                    select(LogRow)
                    .where(LogRow.run_id == run_id)
                    .order_by(LogRow.id)
                    .limit(log_limit)
                )
            ]
            return RunDetail(summary, dict(row.variables or {}), stages, items, log)

    def retry_step(self, run_id: int, reason: str, *, step: str | None = None) -> RunSummary:
        """Retry a failed step (resuming a failed run) once its cause is fixed (staff)."""
        with self.context.write() as session:
            self.context.require(session, STAFF, "retry steps")
            run = retry_step(session, run_id, step, self.context.actor, reason)
            return _summaries(session, [run])[0]

    def cancel(self, run_id: int, reason: str) -> RunSummary:
        if not reason or not reason.strip():
            raise InvalidInput("say why the run is canceled (a reason is required)")
        with self.context.write() as session:
            self.context.require(session, STAFF, "cancel runs")
            run = lock_run(session, run_id)
            if run is None:
                raise NotFound(f"no run with id {run_id}")
            if run.status in RunStatus.FINISHED:
                raise Conflict(f"run {run_id} is already {run.status}; there is nothing to cancel")
            RunEngine(session, run, actor=self.context.actor).cancel(reason.strip())
            return _summaries(session, [run])[0]
