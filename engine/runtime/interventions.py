"""What supervisors do to runs that need a hand: retry a failed step (resuming a failed run)."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.errors import Conflict, InvalidInput, NotFound
from engine.runtime.access import lock_run, steps_of_stage
from engine.runtime.context import stage_of
from engine.runtime.engine import RunEngine
from engine.statuses import RunStatus, StageStatus, StepStatus
from engine.store.base import utcnow
from engine.store.changes import note
from engine.store.prepared import Prepared
from engine.store.rows import RunRec, StageRunRec, StepRunRec, Tx

_stage_runs = StageRunRec.table()
LATEST_STAGE = Prepared(
    select(_stage_runs)
    .where(_stage_runs.c.run_id == bindparam("run_id"))
    .order_by(_stage_runs.c.id.desc())
    .limit(1)
)
STOPPED_BY_FAILURE = "another step of the stage failed"
# The statuses of the visit a run is at; the others (Completed, Discontinued, Canceled) are
# visits the run has left.
AT_STAGE = (StageStatus.IN_PROGRESS, StageStatus.SUSPENDED, StageStatus.ERROR)


def retry_step(
    session: Session, run_id: int, step: str | None, actor: str | None, reason: str
) -> RunRec:
    """Retry the run's failed step (or the one named), after its cause has been fixed.

    A run in Error is resumed: its failed stage visit is reopened, the failed step gets a fresh
    set of attempts, and the steps stopped because of the failure start again. A run still in
    progress (a step failed under ``on_failure: continue``) has just that step retried.
    """
    if not reason.strip():
        raise InvalidInput("say why the step is retried (a reason is required)")
    run = lock_run(session, run_id)
    if run is None:
        raise NotFound(f"no run with id {run_id}")
    if run.status not in (RunStatus.ERROR, RunStatus.IN_PROGRESS):
        raise Conflict(f"run {run_id} is {run.status}; only a failed run or step can be retried")
    stage_run = current_visit(session, run)
    if stage_run is None:
        raise Conflict(f"run {run_id} failed outside a stage; there is no step to retry")
    steps = steps_of_stage(session, stage_run)
    failed = [s for s in steps if s.status == StepStatus.ERROR and step in (None, s.step)]
    if not failed:
        named = f"no failed step named '{step}'" if step else "no failed step"
        raise Conflict(f"run {run_id} has {named} in stage '{stage_run.stage}'")
    engine = RunEngine(session, run, actor=actor)
    stage = stage_of(engine.definition, stage_run.stage)
    if run.status == RunStatus.ERROR:
        reopen_failed_stage(engine, stage_run, steps)
    now = utcnow()
    for row in failed:
        definition = next(s for s in stage.steps if s.name == row.step)
        if definition.kind == "background":
            _reset(engine, stage.name, row, StepStatus.IN_PROGRESS)
            row.started_at = now
            row.available_at = now  # the worker takes it from here, with fresh attempts
            note(session, "background")
        else:
            _reset(engine, stage.name, row, StepStatus.NOT_STARTED)  # started (assigned) anew below
        engine.log(
            "step_retried", stage=stage.name, step=row.step, actor=actor, message=reason.strip()
        )
    engine.touch()
    engine.guarded(engine.evaluate_stage)
    return run


def latest_stage_run(session: Session, run_id: int) -> StageRunRec | None:
    """The run's latest stage visit, whatever its status."""
    latest = Tx.of(session).query(StageRunRec, LATEST_STAGE, {"run_id": run_id})
    return latest[0] if latest else None


def current_visit(session: Session, run: RunRec) -> StageRunRec | None:
    """The stage visit the run is at, whatever its status: in progress, suspended, or failed.

    Every intervention starts here, not at the stage *in progress*: a suspended run's stage is
    Suspended and a failed run's is in Error, and an operation that looked only for one in
    progress would miss them (canceling a suspended run once left its work open for good).
    None when the run is in no stage: it has ended, or it failed outside one.
    """
    latest = latest_stage_run(session, run.id)
    return latest if latest is not None and latest.status in AT_STAGE else None


def failed_stage_run(session: Session, run: RunRec) -> StageRunRec | None:
    """The stage visit a failed run failed in (None if it failed outside a stage)."""
    visit = current_visit(session, run)
    return visit if visit is not None and visit.status == StageStatus.ERROR else None


def reopen_failed_stage(engine: RunEngine, stage_run: StageRunRec, steps: list[StepRunRec]) -> None:
    """Put a failed run back in progress in the stage it failed in; the steps stopped by the
    failure start again (its failed steps are the caller's to retry or skip)."""
    run = engine.run
    run.status = RunStatus.IN_PROGRESS
    run.error = None
    run.ended_at = None
    run.current_element = stage_run.stage
    stage_run.status = StageStatus.IN_PROGRESS
    stage_run.error = None
    stage_run.ended_at = None
    engine._set_state(stage_run.stage, None, {"status": StageStatus.IN_PROGRESS})
    for other in steps:
        if other.status == StepStatus.DISCONTINUED:
            _reset(engine, stage_run.stage, other, StepStatus.NOT_STARTED)


def _reset(engine: RunEngine, stage: str, row: StepRunRec, status: str) -> None:
    row.status = status
    row.error = None
    row.ended_at = None
    row.fresh_attempts()  # never attempt 0 again: a call still out for an old one is fenced
    row.lease_owner = None
    row.lease_expires_at = None
    row.wait_event = row.wait_key = None
    if status == StepStatus.NOT_STARTED:
        row.action_index = 0
        row.outputs = {}
    engine._set_state(stage, row.step, {"status": status})
