"""The safety net for a stage visit that should have exited and did not (issue 14).

Whatever moves a step locks its run first, so two steps finishing at the same instant cannot
leave a stage with every step done and no exit. Were a run left so all the same (by a Baton
from before that rule, or by a path that breaks it), nothing would ever move it again: no
step of it is open to finish. The worker looks for such runs now and then and moves each on
through the engine, in a transaction of its own with a log entry; Needs attention lists the
ones it has not reached yet as stalled.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlalchemy import ColumnElement, literal_column, select
from sqlalchemy.orm import Session

from engine.definitions.model import ExitOn
from engine.runtime.access import current_stage_run, lock_run, steps_of_stage
from engine.runtime.context import definition_for, stage_of
from engine.runtime.engine import RunEngine, RunFailed
from engine.statuses import RunStatus, StageStatus, StepStatus
from engine.store.base import utcnow
from engine.store.database import Database
from engine.store.rows import RunRec, StageRunRec, StepRunRec, Tx

# How often a worker looks: a stalled run is rare, and looking costs a pass over the stage
# visits in progress (two small partial indexes, no table scan): cheap, but not to be paid
# on every pass of a busy worker.
SWEEP_EVERY = dt.timedelta(minutes=1)
MAX_FOUND = 10_000  # what one look reads at most; the rest wait for the next one
EVENT = "stage_stalled"
WHAT_NEXT = "; a worker moves it on within a minute (is one running?)"

_runs = RunRec.table()
_stage_runs = StageRunRec.table()
_step_runs = StepRunRec.table()
# Statuses written out, not bound: a partial index serves a query only if the query's own
# condition shows it matches the index's (PostgreSQL's plan for a statement it runs often is
# made once for any parameters, so it cannot tell that through one).
_OPEN: list[ColumnElement[str]] = [literal_column(f"'{s}'") for s in StepStatus.OPEN]
_IN_PROGRESS: ColumnElement[str] = literal_column(f"'{StageStatus.IN_PROGRESS}'")
_open_step = (
    select(_step_runs.c.id)
    .where(_step_runs.c.stage_run_id == _stage_runs.c.id, _step_runs.c.status.in_(_OPEN))
    .exists()
)
# Stage visits in progress with no step open, from two partial indexes of what is open
# (migration 0006): the visits from ix_stage_runs_in_progress, their open steps from
# ix_step_runs_open_by_visit, index only (a hash anti-join on PostgreSQL). The cost follows
# the runs in progress, never the history. Their runs are read afterwards, by key, for the
# few visits found: joined in the same statement, PostgreSQL would read every run in
# progress for them.
IDLE_VISITS = select(_stage_runs.c.id, _stage_runs.c.run_id, _stage_runs.c.stage).where(
    _stage_runs.c.status == _IN_PROGRESS, ~_open_step
)
_RUNS_OF = select(
    _runs.c.id, _runs.c.version_id, _runs.c.orchestration_id, _runs.c.updated_at
).where(_runs.c.status == RunStatus.IN_PROGRESS)  # a suspended run is not stalled


@dataclass(frozen=True)
class Stalled:
    run_id: int
    stage_run_id: int
    orchestration_id: int
    stage: str
    since: dt.datetime  # the run's last change: when its last step finished
    detail: str


@dataclass
class StalledReport:
    moved: int = 0
    errors: list[str] = field(default_factory=list)


def find_stalled(session: Session) -> list[Stalled]:
    """Runs whose stage in progress should exit now and has not, the longest stalled first.

    A stage that exits when its steps are done (all of them, or the ones it names) and has
    none open is stalled. One that exits on an expression is stalled only if it holds: with
    every step done it may be waiting, rightly, for a record to change.
    """
    visits = list(islice(session.execute(IDLE_VISITS), MAX_FOUND))
    runs: dict[int, tuple[int, int, dt.datetime]] = {}
    for start in range(0, len(visits), 500):
        chunk = [run_id for _, run_id, _ in visits[start : start + 500]]
        for run_id, version_id, oid, updated in session.execute(
            _RUNS_OF.where(_runs.c.id.in_(chunk))
        ):
            runs[run_id] = (version_id, oid, updated)
    found: list[Stalled] = []
    for stage_run_id, run_id, name in visits:
        if run_id not in runs:
            continue
        version_id, oid, updated = runs[run_id]
        stage = definition_for(session, version_id).definition.stage(name)
        if stage is None:
            continue
        if stage.exit.when == ExitOn.expression:
            holds = _exit_holds(session, run_id, stage_run_id)
            if holds is False:
                continue
            detail = (
                f"every step of stage '{name}' is done and its exit condition holds, "
                "but the stage has not exited"
                if holds
                else f"every step of stage '{name}' is done, but its exit condition "
                "cannot be evaluated"
            )
        else:
            detail = f"every step of stage '{name}' is done, but the stage has not exited"
        found.append(Stalled(run_id, stage_run_id, oid, name, updated, detail + WHAT_NEXT))
    found.sort(key=lambda s: (s.since, s.run_id))
    return found


def _exit_holds(session: Session, run_id: int, stage_run_id: int) -> bool | None:
    """Whether the stage's exit expression holds now (None: it cannot be evaluated)."""
    run = Tx.of(session).get(RunRec, run_id)
    stage_run = Tx.of(session).get(StageRunRec, stage_run_id)
    if run is None or stage_run is None:
        return False
    engine = RunEngine(session, run)
    stage = stage_of(engine.definition, stage_run.stage)
    steps = {s.step: s for s in steps_of_stage(session, stage_run)}
    try:
        return engine.should_exit(stage, steps)
    except RunFailed:
        return None


def move_stalled(session: Session, run_id: int, stage_run_id: int) -> bool:
    """Lock the run and, if its stage visit is still stalled, move it on; True if it moved."""
    run = lock_run(session, run_id)
    if run is None or run.status != RunStatus.IN_PROGRESS:
        return False
    stage_run = current_stage_run(session, run_id)
    if stage_run is None or stage_run.id != stage_run_id:
        return False
    steps = steps_of_stage(session, stage_run)
    if any(s.status in StepStatus.OPEN for s in steps):
        return False
    engine = RunEngine(session, run, actor="worker")
    stage = stage_of(engine.definition, stage_run.stage)
    try:
        if not engine.should_exit(stage, {s.step: s for s in steps}):
            return False
    except RunFailed:
        pass  # evaluating the stage puts the run into Error with the expression's message
    engine.log(
        EVENT,
        stage=stage.name,
        message="every step was done but the stage had not exited; the worker moved it on",
    )
    engine.guarded(lambda: engine.evaluate_stage(stage_run, steps))
    return True


def advance_stalled(db: Database, *, force: bool = False) -> StalledReport:
    """Move on every stalled run, each in its own transaction; at most once a SWEEP_EVERY
    per database and process unless ``force``."""
    report = StalledReport()
    if not force and not _due(db):
        return report
    with db.read() as session:
        found = find_stalled(session)
    for stalled in found:
        try:
            with db.write() as session:
                if move_stalled(session, stalled.run_id, stalled.stage_run_id):
                    report.moved += 1
        except Exception as exc:  # one broken run must not stop the others
            report.errors.append(f"stalled run {stalled.run_id}: {type(exc).__name__}: {exc}")
    return report


_last_lock = threading.Lock()
_last: weakref.WeakKeyDictionary[Any, dt.datetime] = weakref.WeakKeyDictionary()


def _due(db: Database) -> bool:
    now = utcnow()
    with _last_lock:
        last = _last.get(db.engine)
        if last is not None and abs(now - last) < SWEEP_EVERY:
            return False
        _last[db.engine] = now
        return True
