"""Reading and locking the runtime's rows within a transaction (see engine.store.rows).

Every function answers from the transaction's own state first: a row created or changed
earlier in the same transaction is seen as it is now, not as the database last had it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.runtime.assignment import Person, remember_person
from engine.statuses import StageStatus, WorkStatus
from engine.store.models import User
from engine.store.prepared import Prepared
from engine.store.rows import (
    Rec,
    RunRec,
    StageRunRec,
    StepRunRec,
    Tx,
    WorkItemRec,
    fields_of,
    labelled,
)

_stage_runs = StageRunRec.table()
_step_runs = StepRunRec.table()
_work_items = WorkItemRec.table()

CURRENT_STAGE = Prepared(
    select(_stage_runs)
    .where(
        _stage_runs.c.run_id == bindparam("run_id"),
        _stage_runs.c.status == StageStatus.IN_PROGRESS,
    )
    .order_by(_stage_runs.c.id.desc())
    .limit(1)
)
STEPS_OF_STAGE = Prepared(
    select(_step_runs)
    .where(_step_runs.c.stage_run_id == bindparam("stage_run_id"))
    .order_by(_step_runs.c.id)
)
# All of a step's items (a handful); which are open is decided in memory.
ITEMS_OF_STEP = Prepared(
    select(_work_items).where(_work_items.c.step_run_id == bindparam("step_run_id"))
)


_runs = RunRec.table()
_users = User.__table__
_mine = _step_runs.alias("mine")
_siblings = _step_runs.alias("siblings")
# A work item locked with its run, and the acting user, in one statement. The stage visit and
# its steps are read by a second one, once the lock is held: on PostgreSQL a statement that
# waited for a lock re-reads only the rows it locked, so siblings joined into it would be
# those of before the wait, and a step that another transaction completed meanwhile would
# still look in progress (issue 14: the stage then never exits).
ITEM_AND_RUN = Prepared(
    select(
        *labelled(WorkItemRec, "w_"),
        *labelled(RunRec, "r_"),
        _users.c.username.label("u_username"),
        _users.c.active.label("u_active"),
        _users.c.email.label("u_email"),
    )
    .select_from(
        _work_items.join(_runs, _runs.c.id == _work_items.c.run_id).outerjoin(
            _users, _users.c.username == bindparam("username")
        )
    )
    .where(_work_items.c.id == bindparam("item_id"))
    .with_for_update(of=[_work_items, _runs])
)
# The stage visit of a step with every step of that visit.
VISIT_OF_STEP = Prepared(
    select(*labelled(StageRunRec, "s_"), *[c.label("t_" + c.name) for c in _siblings.c])
    .select_from(
        _mine.join(_stage_runs, _stage_runs.c.id == _mine.c.stage_run_id).join(
            _siblings, _siblings.c.stage_run_id == _stage_runs.c.id
        )
    )
    .where(_mine.c.id == bindparam("step_run_id"))
    .order_by(_siblings.c.id)
)


def lock_work_item(
    session: Session, item_id: int, username: str
) -> tuple[WorkItemRec, StageRunRec] | None:
    """A work item locked with its run, its stage visit and steps, and the acting user."""
    tx = Tx.of(session)
    found = ITEM_AND_RUN.rows(tx.connection, {"item_id": item_id, "username": username})
    if not found:
        return None
    first = found[0]
    parts = [(WorkItemRec, "w_"), (RunRec, "r_")]
    newly = (RunRec, first["r_id"]) not in tx.locked
    item, run = tx.adopt_joined(first, parts)
    assert isinstance(item, WorkItemRec)
    if newly:
        _read_after_lock(tx, {run.id})
    remember_person(
        session,
        username,
        None
        if first["u_username"] is None
        else Person(first["u_username"], bool(first["u_active"]), first["u_email"]),
    )
    return item, visit_of_step(tx, item.step_run_id)


def visit_of_step(tx: Tx, step_run_id: int, stage_run_id: int | None = None) -> StageRunRec:
    """The stage visit of a step, with every step of that visit, in one statement (none if
    this transaction has them already: ``stage_run_id`` names the visit to look for). Read
    under the run's lock, so the steps are those the previous holder committed."""
    if stage_run_id is not None and stage_run_id in tx.steps_by_stage:
        known = tx.loaded.get((StageRunRec, stage_run_id))
        if isinstance(known, StageRunRec):
            return known
    rows = VISIT_OF_STEP.rows(tx.connection, {"step_run_id": step_run_id}, once=("s_",))
    stage_run = tx.adopt(StageRunRec, {n: rows[0]["s_" + n] for n in fields_of(StageRunRec)})
    if stage_run.id not in tx.steps_by_stage:
        tx.steps_by_stage[stage_run.id] = [
            tx.adopt(StepRunRec, {n: r["t_" + n] for n in fields_of(StepRunRec)}) for r in rows
        ]
    return stage_run


def lock_run(session: Session, run_id: int) -> RunRec | None:
    """The run, locked for this transaction (PostgreSQL row lock; SQLite writers are serial).

    Whatever moves a step of a run locks the run first: that is what serialises two steps of
    one stage visit finishing at once. Its stage visits and steps are read after the lock."""
    tx = Tx.of(session)
    newly = (RunRec, run_id) not in tx.locked
    run = tx.get(RunRec, run_id, lock=True)
    if run is not None and newly:
        _read_after_lock(tx, {run_id})
    return run


def _read_after_lock(tx: Tx, run_ids: set[int]) -> None:
    """Runs just locked: what this transaction read of their stage visits, steps and work
    before the lock is read again, and their cached step lists forgotten, so every decision
    taken under the lock sees what the previous holder committed. (Usually nothing was read
    before: the worker's steps are locked themselves, a completion locks the run first.)"""
    stale: dict[type[Rec], list[int]] = {}
    for key, rec in tx.loaded.items():
        if (
            isinstance(rec, StageRunRec | StepRunRec | WorkItemRec)
            and rec.run_id in run_ids
            and key not in tx.locked
            and key in tx.snapshots  # not created by this transaction
        ):
            stale.setdefault(key[0], []).append(rec.id)
    for stage_run_id in stale.get(StageRunRec, []):
        tx.steps_by_stage.pop(stage_run_id, None)
    for stage_run_id, steps in list(tx.steps_by_stage.items()):
        if steps and steps[0].run_id in run_ids and (StageRunRec, stage_run_id) in tx.snapshots:
            del tx.steps_by_stage[stage_run_id]
    for cls, ids in stale.items():
        tx.reread(cls, ids)


def current_stage_run(session: Session, run_id: int) -> StageRunRec | None:
    tx = Tx.of(session)
    known = [
        r
        for (cls, _), r in tx.loaded.items()
        if cls is StageRunRec and isinstance(r, StageRunRec) and r.run_id == run_id
    ]
    if not any(r.status == StageStatus.IN_PROGRESS for r in known):
        tx.query(StageRunRec, CURRENT_STAGE, {"run_id": run_id})
        known = [
            r
            for (cls, _), r in tx.loaded.items()
            if cls is StageRunRec and isinstance(r, StageRunRec) and r.run_id == run_id
        ]
    live = [r for r in known if r.status == StageStatus.IN_PROGRESS]
    return max(live, key=lambda r: r.id) if live else None


def steps_of_stage(session: Session, stage_run: StageRunRec) -> list[StepRunRec]:
    tx = Tx.of(session)
    steps = tx.steps_by_stage.get(stage_run.id)
    if steps is None:
        steps = tx.steps_by_stage[stage_run.id] = tx.query(
            StepRunRec, STEPS_OF_STAGE, {"stage_run_id": stage_run.id}
        )
    return list(steps)


def open_items_of_step(session: Session, step_run_id: int) -> list[WorkItemRec]:
    tx = Tx.of(session)
    stored = tx.query(WorkItemRec, ITEMS_OF_STEP, {"step_run_id": step_run_id})
    fresh = [i for i in tx.pending(WorkItemRec) if i.step_run_id == step_run_id]
    items = {i.id: i for i in [*stored, *fresh]}
    return [i for i in items.values() if i.status in WorkStatus.OPEN]


def prefetch_runs(
    session: Session, run_ids: Sequence[int], *, skip_locked: bool = False
) -> set[int]:
    """Lock several runs and load their current stages and steps in three statements.

    Returns the ids of the runs locked: with ``skip_locked``, a run another transaction holds
    is passed over instead of waited for."""
    tx = Tx.of(session)
    newly = {i for i in run_ids if (RunRec, i) not in tx.locked}
    runs = tx.lock_many(RunRec, run_ids, skip_locked=skip_locked)
    if not runs:
        return set()
    locked = {r.id for r in runs}
    _read_after_lock(tx, newly & locked)
    stage_runs = tx.query(
        StageRunRec,
        select(_stage_runs).where(
            _stage_runs.c.run_id.in_([r.id for r in runs]),
            _stage_runs.c.status == StageStatus.IN_PROGRESS,
        ),
    )
    if not stage_runs:
        return locked
    steps = tx.query(
        StepRunRec,
        select(_step_runs)
        .where(_step_runs.c.stage_run_id.in_([s.id for s in stage_runs]))
        .order_by(_step_runs.c.id),
    )
    for stage_run in stage_runs:
        tx.steps_by_stage.setdefault(stage_run.id, [])
    for step in steps:
        if step not in tx.steps_by_stage[step.stage_run_id]:
            tx.steps_by_stage[step.stage_run_id].append(step)
    return locked
