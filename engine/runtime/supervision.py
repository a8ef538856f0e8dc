"""A supervisor's hands on a run: suspend, resume, cancel, skip a step, jump to a stage.

Each function works inside the caller's transaction and writes the run's rows and their log
entry together. Each checks the run's state first and refuses, with a ``Conflict`` that says
why, when the operation does not apply, and finds the stage visit the run is at whatever its
status (``current_visit``). (Retrying a failed step is in ``interventions``.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Conflict, InvalidInput, NotFound
from engine.runtime.access import lock_run, steps_of_stage
from engine.runtime.context import stage_of
from engine.runtime.engine import RunEngine
from engine.runtime.interventions import current_visit, reopen_failed_stage
from engine.statuses import RunStatus, StageStatus, StepStatus
from engine.store.base import utcnow
from engine.store.changes import note
from engine.store.models import EventRow
from engine.store.rows import RunRec, StepRunRec

OPEN_STAGE = (StageStatus.IN_PROGRESS, StageStatus.SUSPENDED)  # a visit cancel closes


def reason_given(reason: str, what: str) -> str:
    if not reason or not reason.strip():
        raise InvalidInput(f"say why {what} (a reason is required)")
    return reason.strip()


def locked_run(session: Session, run_id: int) -> RunRec:
    run = lock_run(session, run_id)
    if run is None:
        raise NotFound(f"no run with id {run_id}")
    return run


def suspend(session: Session, run_id: int, actor: str | None, reason: str) -> RunRec:
    """Pause a run: its background steps stop being run and its work cannot be completed."""
    why = reason_given(reason, "the run is suspended")
    run = locked_run(session, run_id)
    if run.status != RunStatus.IN_PROGRESS:
        raise Conflict(f"run {run_id} is {run.status}; only a run in progress can be suspended")
    engine = RunEngine(session, run, actor=actor)
    stage_run = current_visit(session, run)
    if stage_run is not None and stage_run.status == StageStatus.IN_PROGRESS:
        stage_run.status = StageStatus.SUSPENDED
        engine._set_state(stage_run.stage, None, {"status": StageStatus.SUSPENDED})
    run.status = RunStatus.SUSPENDED
    engine.log("run_suspended", message=why)
    engine.touch()
    return run


def resume(session: Session, run_id: int, actor: str | None, reason: str) -> RunRec:
    """Carry on with a suspended run from where it stopped.

    Every background step keeps its own due time: a wait until a moment, a retry's backoff,
    an event wait's timeout and a lease all end when they would have without the suspension
    (a moment passed meanwhile is due at once). An event wait looks again for its event, since
    one published while the run was suspended was kept for it, and the stage is evaluated,
    since records may have changed meanwhile.
    """
    why = reason_given(reason, "the run is resumed")
    run = locked_run(session, run_id)
    if run.status == RunStatus.ERROR:
        raise Conflict(
            f"run {run_id} failed; retry its failed step or jump to a stage to resume it"
        )
    if run.status != RunStatus.SUSPENDED:
        raise Conflict(f"run {run_id} is {run.status}; only a suspended run can be resumed")
    engine = RunEngine(session, run, actor=actor)
    run.status = RunStatus.IN_PROGRESS
    suspended = current_visit(session, run)
    if suspended is not None and suspended.status == StageStatus.SUSPENDED:
        suspended.status = StageStatus.IN_PROGRESS
        engine._set_state(suspended.stage, None, {"status": StageStatus.IN_PROGRESS})
        for row in steps_of_stage(session, suspended):
            if _event_kept_for(session, row):
                row.wait_event = row.wait_key = None  # the wait action runs again and takes it
                row.available_at = utcnow()
        note(session, "background")
    engine.log("run_resumed", message=why)
    engine.touch()
    engine.guarded(engine.evaluate_stage)
    return run


def cancel(session: Session, run_id: int, actor: str | None, reason: str) -> RunRec:
    """End the run for good: its stage visit (in progress or suspended), its open steps and
    their work are Canceled, and nothing of it is left in anyone's inbox.

    A failed run may be canceled too: that is how a supervisor gives up on it (its failed
    stage visit stays in Error: that is what happened there).
    """
    why = reason_given(reason, "the run is canceled")
    run = locked_run(session, run_id)
    if run.status in (RunStatus.COMPLETED, RunStatus.CANCELED):
        raise Conflict(f"run {run_id} is already {run.status}; there is nothing to cancel")
    visit = current_visit(session, run)
    open_visit = visit if visit is not None and visit.status in OPEN_STAGE else None
    RunEngine(session, run, actor=actor).cancel(why, open_visit)
    return run


def skip_step(
    session: Session,
    run_id: int,
    step: str,
    outputs: dict[str, Any],
    actor: str | None,
    reason: str,
) -> RunRec:
    """Mark a step of the current stage Skipped with the outputs a supervisor supplies.

    Its open work is canceled and later steps see the outputs as if it had produced them. A
    failed run whose failed step is skipped carries on from that stage.
    """
    why = reason_given(reason, "the step is skipped")
    for name in outputs:
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidInput(f"output name '{name}' is not a name expressions can use")
    run = locked_run(session, run_id)
    if run.status not in (RunStatus.IN_PROGRESS, RunStatus.ERROR):
        raise Conflict(f"run {run_id} is {run.status}; its steps cannot be skipped")
    stage_run = current_visit(session, run)
    if stage_run is None:
        raise Conflict(f"run {run_id} is not in a stage; there is no step to skip")
    steps = steps_of_stage(session, stage_run)
    row = next((s for s in steps if s.step == step), None)
    if row is None:
        names = ", ".join(s.step for s in steps)
        raise NotFound(f"stage '{stage_run.stage}' of run {run_id} has no step '{step}' ({names})")
    if row.status not in StepStatus.SKIPPABLE:
        raise Conflict(
            f"step '{stage_run.stage}.{step}' is {row.status}; only a step not started, in "
            "progress or failed can be skipped"
        )
    engine = RunEngine(session, run, actor=actor)
    stage = stage_of(engine.definition, stage_run.stage)
    if run.status == RunStatus.ERROR:
        reopen_failed_stage(engine, stage_run, steps)
    engine.close_work_items(row, "Canceled", f"step skipped: {why}")
    _release(row)
    engine.finish_step(
        stage, row, StepStatus.SKIPPED, outputs=dict(outputs), message=f"skipped: {why}"
    )
    engine.touch()
    engine.guarded(engine.evaluate_stage)
    return run


def jump_to_stage(
    session: Session, run_id: int, target: str, actor: str | None, reason: str
) -> RunRec:
    """Leave the current stage (its open steps Discontinued) and enter ``target``.

    Works on a run in progress and on a failed run, which carries on from ``target``.
    """
    why = reason_given(reason, "the run jumps to another stage")
    run = locked_run(session, run_id)
    if run.status not in (RunStatus.IN_PROGRESS, RunStatus.ERROR):
        raise Conflict(
            f"run {run_id} is {run.status}; only a run in progress or a failed run can jump"
        )
    engine = RunEngine(session, run, actor=actor)
    element = engine.definition.element(target)
    if element is None:
        names = ", ".join(e.name for e in engine.definition.elements)
        raise NotFound(f"{engine.pinned.orchestration} has no stage '{target}' ({names})")
    stage_run = current_visit(session, run)
    origin = stage_run.stage if stage_run else run.current_element
    if stage_run is not None and stage_run.status == StageStatus.IN_PROGRESS:
        stage = stage_of(engine.definition, stage_run.stage)
        for row in steps_of_stage(session, stage_run):
            if row.status in StepStatus.OPEN:
                _release(row)
                engine.discontinue_step(stage, row, f"the run jumped to '{target}'")
        stage_run.status = StageStatus.DISCONTINUED
        stage_run.ended_at = utcnow()
        engine._set_state(stage.name, None, {"status": StageStatus.DISCONTINUED})
        engine.log("stage_discontinued", stage=stage.name, message=f"jumped to '{target}'")
    if run.status == RunStatus.ERROR:
        run.status = RunStatus.IN_PROGRESS
        run.error = None
        run.ended_at = None
    engine.log(
        "run_jumped",
        message=f"from '{origin}' to '{target}': {why}",
        details={"from": origin, "to": target},
    )
    engine.guarded(lambda: engine.enter(target))
    return run


def _event_kept_for(session: Session, row: StepRunRec) -> bool:
    """Whether an event this step waits for came while its run was suspended, in time.

    Such an event was stored, not handed over; one that came after the wait's timeout is
    left alone, as the wait had ended by then.
    """
    if row.status != StepStatus.IN_PROGRESS or row.wait_event in (None, "child_run"):
        return False
    query = select(EventRow.id).where(
        EventRow.name == row.wait_event,
        EventRow.key == row.wait_key,
        EventRow.consumed_at.is_(None),
    )
    if row.available_at is not None:
        query = query.where(EventRow.received_at <= row.available_at)
    return session.scalar(query.limit(1)) is not None


def _release(row: StepRunRec) -> None:
    row.lease_owner = None
    row.lease_expires_at = None
    row.available_at = None
    row.wait_event = row.wait_key = None
