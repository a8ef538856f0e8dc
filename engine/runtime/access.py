"""Reading and locking the runtime's rows within a transaction (see engine.store.rows).

Every function answers from the transaction's own state first: a row created or changed
earlier in the same transaction is seen as it is now, not as the database last had it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.runtime.assignment import Person, remember_person
from engine.runtime.statuses import StageStatus, WorkStatus
from engine.store.models import User
from engine.store.prepared import Prepared
from engine.store.rows import (
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
# A work item with everything completing it needs, in one statement: the item and its run
# (locked), the stage visit, every step of that visit, and the acting user.
ITEM_CONTEXT = Prepared(
    select(
        *labelled(WorkItemRec, "w_"),
        *labelled(RunRec, "r_"),
        *labelled(StageRunRec, "s_"),
        *[c.label("t_" + c.name) for c in _siblings.c],
        _users.c.username.label("u_username"),
        _users.c.active.label("u_active"),
        _users.c.email.label("u_email"),
    )
    .select_from(
        _work_items.join(_runs, _runs.c.id == _work_items.c.run_id)
        .join(_mine, _mine.c.id == _work_items.c.step_run_id)
        .join(_stage_runs, _stage_runs.c.id == _mine.c.stage_run_id)
        .join(_siblings, _siblings.c.stage_run_id == _stage_runs.c.id)
        .outerjoin(_users, _users.c.username == bindparam("username"))
    )
    .where(_work_items.c.id == bindparam("item_id"))
    .order_by(_siblings.c.id)
    .with_for_update(of=[_work_items, _runs])
)


def lock_work_item(
    session: Session, item_id: int, username: str
) -> tuple[WorkItemRec, StageRunRec] | None:
    """A work item locked with its run, its stage visit and steps, and the acting user."""
    tx = Tx.of(session)
    rows = ITEM_CONTEXT.rows(
        tx.connection, {"item_id": item_id, "username": username}, once=("w_", "r_", "s_", "u_")
    )
    if not rows:
        return None
    parts = [(WorkItemRec, "w_"), (RunRec, "r_"), (StageRunRec, "s_")]
    item, _, stage_run = tx.adopt_joined(rows[0], parts)
    assert isinstance(item, WorkItemRec) and isinstance(stage_run, StageRunRec)
    if stage_run.id not in tx.steps_by_stage:
        steps = [
            tx.adopt(StepRunRec, {n: r["t_" + n] for n in fields_of(StepRunRec)}) for r in rows
        ]
        tx.steps_by_stage[stage_run.id] = steps
    first = rows[0]
    remember_person(
        session,
        username,
        None
        if first["u_username"] is None
        else Person(first["u_username"], bool(first["u_active"]), first["u_email"]),
    )
    return item, stage_run


def lock_run(session: Session, run_id: int) -> RunRec | None:
    """The run, locked for this transaction (PostgreSQL row lock; SQLite writers are serial)."""
    return Tx.of(session).get(RunRec, run_id, lock=True)


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


def prefetch_runs(session: Session, run_ids: Sequence[int]) -> None:
    """Lock several runs and load their current stages and steps in three statements."""
    tx = Tx.of(session)
    runs = tx.lock_many(RunRec, run_ids)
    if not runs:
        return
    stage_runs = tx.query(
        StageRunRec,
        select(_stage_runs).where(
            _stage_runs.c.run_id.in_([r.id for r in runs]),
            _stage_runs.c.status == StageStatus.IN_PROGRESS,
        ),
    )
    if not stage_runs:
        return
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
