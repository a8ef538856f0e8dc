"""Runs: start, list, show (with the readable history), cancel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import BatonError, Conflict, InvalidInput, NotFound
from engine.runtime import migration, run_data, supervision
from engine.runtime.interventions import retry_step
from engine.runtime.starting import active_version, start_run
from engine.runtime.supervision import locked_run, reason_given
from engine.services.context import ServiceContext
from engine.services.definitions import find_orchestration
from engine.services.dto import (
    LogEntry,
    RunDetail,
    RunOutcome,
    RunSummary,
    StageRunInfo,
    StepRunInfo,
)
from engine.services.infos import work_item_info
from engine.services.permissions import ANYONE, STAFF
from engine.statuses import RunStatus, WorkStatus
from engine.store.models import (
    LogRow,
    OrchestrationRow,
    RunRow,
    StageRunRow,
    StepRunRow,
    VersionRow,
    WorkItemRow,
)
from engine.store.rows import RunRec


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


def canvas_statuses(detail: RunDetail) -> dict[tuple[str, str | None], tuple[str, str | None]]:
    """What the canvas shows of a run: each stage's and step's latest status, and what an
    open step waits on. Keys are (element, step or None)."""
    statuses: dict[tuple[str, str | None], tuple[str, str | None]] = {}
    for stage in detail.stages:  # later visits overwrite earlier ones
        statuses[(stage.stage, None)] = (stage.status, f"visit {stage.visit}")
        for step in stage.steps:
            statuses[(stage.stage, step.step)] = (step.status, step.error or step.status)
    for item in detail.work_items:
        if item.status in WorkStatus.OPEN:
            holder = f"user {item.claimed_by}" if item.claimed_by else None
            statuses[(item.stage, item.step)] = (
                statuses.get((item.stage, item.step), ("InProgress", None))[0],
                f"waiting on {holder or f'{item.assignee_kind} {item.assignee}'}",
            )
    return statuses


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
        """The run, its stages and steps, its work, and the latest ``log_limit`` entries of
        its log, oldest first (a long run's log is cut at its start, never at its end)."""
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
                        step.attempt - step.attempt_base,  # of its current set of attempts
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
                    .order_by(LogRow.id.desc())
                    .limit(log_limit)
                )
            ]
            log.reverse()  # the latest ``log_limit`` entries (what just happened), oldest first
            moves = migration.other_versions(session, row.orchestration_id, row.version_id)
            return RunDetail(summary, dict(row.variables or {}), stages, items, log, moves)

    def retry_step(self, run_id: int, reason: str, *, step: str | None = None) -> RunSummary:
        """Retry a failed step (resuming a failed run) once its cause is fixed (staff)."""
        with self.context.write() as session:
            self.context.require(session, STAFF, "retry steps")
            run = retry_step(session, run_id, step, self.context.actor, reason)
            return _summaries(session, [run])[0]

    def resume_failed(self, run_id: int, reason: str) -> RunSummary:
        """Resume a failed run once its cause is fixed: every failed step of the stage it
        failed in runs again (staff)."""
        with self.context.write() as session:
            self.context.require(session, STAFF, "resume failed runs")
            run = locked_run(session, run_id)
            if run.status != RunStatus.ERROR:
                raise Conflict(f"run {run_id} is {run.status}; only a failed run can be resumed")
            run = retry_step(session, run_id, None, self.context.actor, reason)
            return _summaries(session, [run])[0]

    def cancel(self, run_id: int, reason: str) -> RunSummary:
        """End a run in progress, suspended or failed; nothing of it stays open (staff)."""
        reason_given(reason, "the run is canceled")
        with self.context.write() as session:
            self.context.require(session, STAFF, "cancel runs")
            run = supervision.cancel(session, run_id, self.context.actor, reason)
            return _summaries(session, [run])[0]

    def set_variables(
        self, run_id: int, values: dict[str, Any], reason: str
    ) -> dict[str, dict[str, Any]]:
        """Fix a run's variables (supervisors and admins), typed by their declarations; the
        log keeps every old and new value. Returns {name: {"old": …, "new": …}}."""
        with self.context.write() as session:
            self.context.require(session, STAFF, "change a run's variables")
            return run_data.set_variables(session, run_id, self.context.actor, values, reason)

    def suspend(self, run_id: int, reason: str) -> RunSummary:
        with self.context.write() as session:
            self.context.require(session, STAFF, "suspend runs")
            run = supervision.suspend(session, run_id, self.context.actor, reason)
            return _summaries(session, [run])[0]

    def resume(self, run_id: int, reason: str) -> RunSummary:
        with self.context.write() as session:
            self.context.require(session, STAFF, "resume runs")
            run = supervision.resume(session, run_id, self.context.actor, reason)
            return _summaries(session, [run])[0]

    def skip_step(
        self, run_id: int, step: str, reason: str, outputs: dict[str, Any] | None = None
    ) -> RunSummary:
        """Skip a step of the run's current (or failed) stage, supplying its outputs."""
        with self.context.write() as session:
            self.context.require(session, STAFF, "skip steps")
            run = supervision.skip_step(
                session, run_id, step, outputs or {}, self.context.actor, reason
            )
            return _summaries(session, [run])[0]

    def jump_to_stage(self, run_id: int, stage: str, reason: str) -> RunSummary:
        with self.context.write() as session:
            self.context.require(session, STAFF, "move runs between stages")
            run = supervision.jump_to_stage(session, run_id, stage, self.context.actor, reason)
            return _summaries(session, [run])[0]

    def migrate(self, run_id: int, version: int, reason: str) -> RunSummary:
        """Move an in-flight run to another activated version of its orchestration."""
        with self.context.write() as session:
            self.context.require(session, STAFF, "move runs to another version")
            run = migration.migrate(session, run_id, version, self.context.actor, reason)
            return _summaries(session, [run])[0]

    def operation(self, operation: str, reason: str, **options: Any) -> Callable[[int], RunSummary]:
        """An intervention by name, ready to apply to a run: ``cancel``, ``suspend``,
        ``resume``, ``resume_failed``, ``retry_step``, ``skip_step``, ``jump_to_stage`` or
        ``migrate``, with that operation's own options (``step``, ``stage``, ``outputs``,
        ``version``). Bad input common to every run is refused here, once."""
        calls: dict[str, Callable[[int], RunSummary]] = {
            "cancel": lambda rid: self.cancel(rid, reason),
            "suspend": lambda rid: self.suspend(rid, reason),
            "resume": lambda rid: self.resume(rid, reason),
            "resume_failed": lambda rid: self.resume_failed(rid, reason),
            "retry_step": lambda rid: self.retry_step(rid, reason, step=options.get("step")),
            "skip_step": lambda rid: self.skip_step(
                rid, str(options.get("step") or ""), reason, options.get("outputs")
            ),
            "jump_to_stage": lambda rid: self.jump_to_stage(
                rid, str(options.get("stage") or ""), reason
            ),
            "migrate": lambda rid: self.migrate(rid, _version(options.get("version")), reason),
        }
        call = calls.get(operation)
        if call is None:
            raise InvalidInput(
                f"'{operation}' is not an operation on runs; use one of {', '.join(calls)}"
            )
        reason_given(reason, f"you {operation.replace('_', ' ')}")
        if operation == "migrate":
            _version(options.get("version"))  # a bad number is one answer, not one per run
        return call

    def bulk(
        self, operation: str, run_ids: Sequence[int], reason: str, **options: Any
    ) -> Sequence[RunOutcome]:
        """Do ``operation`` to each run of a frozen list, each in its own transaction.

        One run refusing does not stop the others; every run gets its own outcome.
        """
        call = self.operation(operation, reason, **options)
        outcomes = []
        for run_id in dict.fromkeys(run_ids):  # each once, in the order given
            try:
                summary = call(run_id)
            except BatonError as exc:
                said = "; ".join([exc.message, *exc.details])
                outcomes.append(RunOutcome(run_id, False, said))
            else:
                outcomes.append(RunOutcome(run_id, True, f"the run is now {summary.status}"))
        return outcomes


def _version(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"a version number, not '{value}'") from None
