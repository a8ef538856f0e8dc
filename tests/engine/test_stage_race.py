"""Two steps of one stage finishing at the same instant (issue 14).

A person completes the interactive step while a worker completes the background step of the
same stage visit. Whichever commits second must see the other's step done and exit the
stage; a run left with every step done and still in its stage is found by the worker's
safety net and shown in Needs attention as stalled.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import func, select, update

from engine.runtime.access import current_stage_run, lock_run, lock_work_item, steps_of_stage
from engine.runtime.context import stage_of
from engine.runtime.engine import RunEngine
from engine.runtime.stalled import EVENT, SWEEP_EVERY
from engine.services.baton import Baton
from engine.statuses import StageStatus, StepStatus, WorkStatus
from engine.store.models import LogRow, RunRow, StageRunRow, StepRunRow
from engine.store.rows import RunRec, Tx
from tests.conftest import define, events, people

PAIRS = 200
# Run i's background step is due from its start, i apart; a race moves the clock between
# run i's start and run i + 1's, so a worker pass runs that one step and no other.
SPACING = dt.timedelta(hours=1)

FLOW = """
format: 1
name: race
forms:
  ok: {fields: [{name: note, type: text}]}
elements:
  - kind: stage
    name: work
    steps:
      - {kind: interactive, name: review, form: ok, assignee: {user: alice}}
      - {kind: background, name: calc, actions: [{type: set_variables, values: {x: "1"}}]}
  - kind: stage
    name: after
    steps:
      - {kind: interactive, name: close, form: ok, assignee: {user: alice}}
"""


def _stuck_runs(baton: Baton) -> list[int]:
    """Runs whose stage visit is in progress although none of its steps is open."""
    with baton.db.read() as session:
        open_steps = (
            select(StepRunRow.id)
            .where(
                StepRunRow.stage_run_id == StageRunRow.id,
                StepRunRow.status.in_(StepStatus.OPEN),
            )
            .exists()
        )
        return list(
            session.scalars(
                select(StageRunRow.run_id)
                .where(StageRunRow.status == StageStatus.IN_PROGRESS, ~open_steps)
                .order_by(StageRunRow.run_id)
            )
        )


def _race(alice: Baton, worker: Baton, item_id: int, problems: list[str]) -> None:
    """Alice completes her item while a worker pass runs the background step, both let go
    at the same instant; what goes wrong in either thread is added to ``problems``."""
    barrier = threading.Barrier(2)

    def person() -> None:
        barrier.wait()
        try:
            alice.work.list(limit=1)  # as a person does: the inbox, then the item
            alice.work.complete(item_id, {"note": "done"})
        except Exception as exc:  # reported by the test: a thread cannot fail it
            problems.append(f"completion: {exc}")

    def pass_() -> None:
        barrier.wait()
        try:
            report = worker.worker.run_once()
            problems.extend(report.errors)
            if report.steps_run != 1:
                problems.append(f"worker ran {report.steps_run} steps")
        except Exception as exc:
            problems.append(f"worker: {exc}")

    threads = [threading.Thread(target=person), threading.Thread(target=pass_)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_a_completion_racing_a_worker_always_leaves_the_stage(baton: Baton, clock: Any) -> None:
    people(baton)
    define(baton, FLOW)
    alice = Baton(baton.db.url, actor="alice")
    worker = Baton(baton.db.url, actor="admin")
    try:
        runs = []
        for _ in range(PAIRS):
            runs.append(baton.runs.start("race").id)
            clock.advance(SPACING)
        items = {w.run_id: w.id for w in alice.work.list(limit=PAIRS * 2) if w.step == "review"}
        assert sorted(items) == sorted(runs)
        problems: list[str] = []
        for index, run_id in enumerate(runs):
            clock.reset()
            clock.advance(SPACING * index + SPACING / 2)
            _race(alice, worker, items[run_id], problems)
        assert problems == []
        with baton.db.read() as session:
            # The worker's safety net moves a stuck run on at a later pass: count those too.
            rescued = session.scalars(
                select(LogRow.run_id).where(LogRow.event == EVENT).order_by(LogRow.run_id)
            ).all()
        stuck = sorted({*_stuck_runs(baton), *rescued})
        assert stuck == [], f"{len(stuck)} of {PAIRS} runs stayed in a finished stage"
        with baton.db.read() as session:
            entered = session.scalar(
                select(func.count())
                .select_from(StageRunRow)
                .where(StageRunRow.stage == "after", StageRunRow.status == StageStatus.IN_PROGRESS)
            )
        assert entered == PAIRS
    finally:
        alice.db.dispose()
        worker.db.dispose()


def leave_in_a_finished_stage(baton: Baton, run_id: int, item_id: int) -> None:
    """What the race left: the person's step completed by a transaction that saw the other
    step still in progress, so it did not evaluate the stage to an exit."""
    with baton.db.write() as session:
        found = lock_work_item(session, item_id, "alice")
        assert found is not None
        item, stage_run = found
        run = lock_run(session, run_id)
        assert run is not None
        engine = RunEngine(session, run, actor="alice")
        stage = stage_of(engine.definition, stage_run.stage)
        row = next(s for s in steps_of_stage(session, stage_run) if s.id == item.step_run_id)
        item.status = WorkStatus.COMPLETED
        item.completed_by = "alice"
        item.row_version += 1
        engine.finish_step(stage, row, StepStatus.COMPLETED, outputs={}, completed_by="alice")
        engine.touch()


def test_a_run_left_in_a_finished_stage_is_listed_as_stalled_and_moved_on(
    baton: Baton, clock: Any
) -> None:
    people(baton)
    define(baton, FLOW)
    run_id = baton.runs.start("race").id
    healthy = baton.runs.start("race").id
    assert baton.worker.run_once().steps_run == 2  # the background steps: done
    [item] = [w.id for w in baton.work.list(user="alice") if w.run_id == run_id]
    leave_in_a_finished_stage(baton, run_id, item)
    assert _stuck_runs(baton) == [run_id]

    report = baton.attention.report()
    [stalled] = [a for a in report.items if a.kind == "stalled"]
    assert report.counts["stalled"] == 1
    assert (stalled.run_id, stalled.orchestration, stalled.stage) == (run_id, "race", "work")
    assert "every step of stage 'work' is done, but the stage has not exited" in stalled.detail

    # The worker looks once a minute: the pass that ran the steps has just looked.
    assert baton.worker.run_once().stalled_moved == 0
    clock.advance(SWEEP_EVERY)
    report_ = baton.worker.run_once()
    assert report_.stalled_moved == 1 and report_.did_anything and report_.errors == []
    assert _stuck_runs(baton) == []
    assert baton.runs.get(run_id).current_element == "after"
    log = events(baton, run_id)
    assert log.index(EVENT) < log.index("stage_completed")
    assert EVENT not in events(baton, healthy)
    assert baton.runs.get(healthy).current_element == "work"
    assert baton.attention.report().counts["stalled"] == 0


def test_a_finished_stage_waiting_on_its_exit_condition_is_not_stalled(
    baton: Baton, clock: Any
) -> None:
    people(baton)
    define(
        baton,
        """
format: 1
name: gate
variables: [{name: go, type: boolean}]
elements:
  - kind: stage
    name: wait
    exit: {when: expression, expression: "vars.go"}
    steps:
      - {kind: background, name: calc, actions: [{type: set_variables, values: {x: "1"}}]}
""",
    )
    run_id = baton.runs.start("gate").id
    assert baton.worker.run_once().steps_run == 1
    assert _stuck_runs(baton) == [run_id]  # every step done, rightly waiting
    assert baton.attention.report().counts["stalled"] == 0
    clock.advance(SWEEP_EVERY)
    assert baton.worker.run_once().stalled_moved == 0
    assert baton.runs.get(run_id).status == "InProgress"
    assert EVENT not in events(baton, run_id)


class _Undo(Exception):
    pass


def test_what_a_transaction_read_before_the_run_lock_is_read_again_under_it(
    baton: Baton,
) -> None:
    people(baton)
    define(baton, FLOW)
    run_id = baton.runs.start("race").id
    with pytest.raises(_Undo):
        _read_lock_read(baton, run_id)


def _read_lock_read(baton: Baton, run_id: int) -> None:
    with baton.db.write() as session:
        tx = Tx.of(session)
        before = tx.get(RunRec, run_id)  # read without the lock, as a record save does
        stage_run = current_stage_run(session, run_id)
        assert before is not None and stage_run is not None
        calc = next(s for s in steps_of_stage(session, stage_run) if s.step == "calc")
        assert calc.status == StepStatus.IN_PROGRESS
        # What the lock's previous holder committed meanwhile (a worker finishing the step):
        # this transaction's statements see it from now on; its cached rows must too.
        connection = session.connection()
        connection.execute(
            update(StepRunRow).where(StepRunRow.id == calc.id).values(status="Completed")
        )
        connection.execute(update(RunRow).where(RunRow.id == run_id).values(variables={"x": 1}))
        run = lock_run(session, run_id)
        assert run is before and run.variables == {"x": 1}
        again = current_stage_run(session, run_id)
        assert again is stage_run
        steps = {s.step: s.status for s in steps_of_stage(session, again)}
        assert steps == {"review": StepStatus.IN_PROGRESS, "calc": StepStatus.COMPLETED}
        assert calc.status == StepStatus.COMPLETED  # the same record, read again
        raise _Undo  # nothing of this is committed


def test_a_row_read_afresh_in_a_rolled_back_savepoint_is_not_written_back_stale(
    baton: Baton,
) -> None:
    people(baton)
    define(baton, FLOW)
    run_id = baton.runs.start("race").id
    with baton.db.write() as session:
        tx = Tx.of(session)
        assert tx.get(RunRec, run_id) is not None  # read without the lock
        session.connection().execute(
            update(RunRow).where(RunRow.id == run_id).values(variables={"x": 1})
        )
        mark = tx.mark()
        savepoint = session.begin_nested()
        run = lock_run(session, run_id)  # read afresh: {"x": 1}
        assert run is not None and run.variables == {"x": 1}
        savepoint.rollback()  # an action failed half-way: undone whole
        tx.restore(mark)
        assert (RunRec, run_id) not in tx.locked  # the savepoint's lock went with it
    assert baton.runs.show(run_id).variables == {"x": 1}
