"""Moving an in-flight run to another version of its orchestration.

A run is pinned to the version it started on. A supervisor may move it to another activated
version (a fix, a new step) when the run's place still makes sense there: its current stage
exists in that version as a stage, every step of that stage the run has started is still
there with the same kind, and every required variable has a value. Then the run carries on
under the new version from where it is: its history stays as it was, steps new to the stage
start as their start conditions allow, and variables new to the version get their defaults.
Otherwise nothing changes and the refusal names each thing in the way.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions.model import Orchestration, Stage
from engine.errors import Conflict, NotFound
from engine.runtime.access import steps_of_stage
from engine.runtime.context import definition_for, stage_of
from engine.runtime.engine import RunEngine
from engine.runtime.interventions import latest_stage_run
from engine.runtime.supervision import locked_run, reason_given
from engine.statuses import RunStatus, StageStatus, StepStatus
from engine.store.models import VersionRow
from engine.store.rows import RunRec, StageRunRec, StepRunRec

DRAFT = "draft"


def migrate(session: Session, run_id: int, version: int, actor: str | None, reason: str) -> RunRec:
    """Move the run to ``version`` (a number) of its orchestration, or refuse saying why."""
    why = reason_given(reason, "the run moves to another version")
    run = locked_run(session, run_id)
    if run.status not in (RunStatus.IN_PROGRESS, RunStatus.SUSPENDED):
        raise Conflict(
            f"run {run_id} is {run.status}; only a run in progress or suspended can move "
            "to another version"
        )
    engine = RunEngine(session, run, actor=actor)
    name, current = engine.pinned.orchestration, engine.pinned.version
    target = session.scalar(
        select(VersionRow).where(
            VersionRow.orchestration_id == run.orchestration_id, VersionRow.number == version
        )
    )
    if target is None:
        raise NotFound(f"{name} has no version {version}")
    if target.id == run.version_id:
        raise Conflict(f"run {run_id} is already on version {version} of {name}")
    if target.status == DRAFT:  # (other_versions offers the rest)
        raise Conflict(f"version {version} of {name} is a draft; activate it first")
    definition = definition_for(session, target.id).definition
    stage_run = latest_stage_run(session, run.id)
    if stage_run is not None and stage_run.status not in (
        StageStatus.IN_PROGRESS,
        StageStatus.SUSPENDED,
    ):
        stage_run = None
    steps = steps_of_stage(session, stage_run) if stage_run is not None else []
    problems = _problems(run, definition, stage_run, steps, version)
    if problems:
        raise Conflict(f"run {run_id} cannot move to version {version} of {name}", problems)

    stage = definition.element(stage_run.stage) if stage_run is not None else None
    if stage_run is not None and isinstance(stage, Stage):
        # steps not started that the new version no longer has (_problems refused the others)
        kept = {s.name for s in stage.steps}
        old_stage = stage_of(engine.definition, stage_run.stage)
        for row in steps:
            if row.step not in kept:
                engine.discontinue_step(old_stage, row, f"not in version {version}")
    run.version_id = target.id
    defaults = {
        v.name: v.default
        for v in definition.variables
        if v.default is not None and v.name not in (run.variables or {})
    }
    if defaults:
        run.variables = {**(run.variables or {}), **defaults}
    moved = RunEngine(session, run, actor=actor)  # pinned to the new version from here on
    if stage_run is not None and isinstance(stage, Stage):  # its new steps, not started
        have = {row.step for row in steps}
        added = [
            moved.fresh_step_run(stage_run, step) for step in stage.steps if step.name not in have
        ]
        for row in added:
            moved.tx.add(row)
            moved._set_state(
                stage.name, row.step, {"status": StepStatus.NOT_STARTED, "outputs": {}}
            )
        moved.tx.steps_by_stage[stage_run.id] = [*steps, *added]
    moved.log(
        "run_migrated",
        message=f"from version {current} to {version}: {why}",
        details={"from": current, "to": version},
    )
    moved.touch()
    moved.guarded(moved.evaluate_stage)
    return run


def other_versions(session: Session, orchestration_id: int, version_id: int) -> list[int]:
    """The activated versions of an orchestration other than ``version_id``, newest first:
    those a run on ``version_id`` may move to."""
    return list(
        session.scalars(
            select(VersionRow.number)
            .where(
                VersionRow.orchestration_id == orchestration_id,
                VersionRow.id != version_id,
                VersionRow.status != DRAFT,
            )
            .order_by(VersionRow.number.desc())
        )
    )


def _problems(
    run: RunRec,
    definition: Orchestration,
    stage_run: StageRunRec | None,
    steps: list[StepRunRec],
    version: int,
) -> list[str]:
    problems = []
    if stage_run is not None:
        stage = definition.element(stage_run.stage)
        if not isinstance(stage, Stage):
            problems.append(
                f"its current stage '{stage_run.stage}' is not a stage of version {version}; "
                "jump it to a stage that is, then move it"
            )
        else:
            kinds = {s.name: s.kind for s in stage.steps}
            for row in steps:
                if row.status == StepStatus.NOT_STARTED:
                    continue
                if row.step not in kinds:
                    problems.append(
                        f"step '{stage.name}.{row.step}' ({row.status}) is not in version "
                        f"{version}'s stage '{stage.name}'"
                    )
                elif kinds[row.step] != row.kind:
                    problems.append(
                        f"step '{stage.name}.{row.step}' is {row.kind} here and "
                        f"{kinds[row.step]} in version {version}"
                    )
    values = run.variables or {}
    for variable in definition.variables:
        if variable.required and variable.default is None and values.get(variable.name) is None:
            problems.append(f"variable '{variable.name}' is required in version {version}")
    return problems
