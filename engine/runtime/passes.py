"""A worker's pass: every background step due now, in batches, with up to ``concurrency``
external calls at once (see ``engine.runtime.worker`` for how one step runs, its leases and
its fencing).

Due steps go in batches, one transaction each, so a busy worker commits less often; a batch
that meets something unexpected is rolled back and redone one step per transaction, so only
the broken step fails and the others still move. A worker with free slots claims, in the
batch, the calls its steps reach, and starts each once the batch commits; while they run,
the next batches go on.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import random
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, exists, select

from engine.runtime.access import prefetch_runs
from engine.runtime.leases import LEASE, LeaseKeeper, worker_id
from engine.runtime.worker import CALL_NEXT, Claimed, StepRunner
from engine.statuses import RunStatus
from engine.store.base import utcnow
from engine.store.database import Database
from engine.store.models import RunRow, StepRunRow, background_in_progress
from engine.store.rows import StepRunRec, Tx

BATCH = 50
# A pass looks for due steps at most this often: work that keeps making new work due at once
# (a run starting itself as a child) must not keep ``worker --once`` from returning.
MAX_ROUNDS = 1000
# A worker with a pool takes its due steps at random among SPREAD times as many as it has free
# slots; a step whose run another transaction held is tried MAX_SKIPS times before it waits.
SPREAD = 4
MAX_SKIPS = 3
# External actions one worker runs at once, at most (``baton worker`` runs 16 by default).
MAX_CONCURRENCY = 256


@dataclass
class PassReport:
    steps_run: int = 0
    errors: list[str] = field(default_factory=list)


def due_background() -> tuple[ColumnElement[bool], ...]:
    """Background steps in progress, of runs in progress (a suspended run's steps wait).

    Conditions on the steps alone, the run's in a correlated EXISTS: so a query starts from
    the few steps in ``ix_step_runs_due`` and looks up each one's run. Joined instead, SQLite
    (with no statistics) would rather read every run in progress by its status and look up
    all their steps."""
    run_in_progress = exists().where(
        RunRow.id == StepRunRow.run_id, RunRow.status == RunStatus.IN_PROGRESS
    )
    return (*background_in_progress(), run_in_progress)


def due_steps(db: Database, now: dt.datetime, limit: int = 200) -> list[int]:
    with db.read() as session:
        return list(
            session.scalars(
                select(StepRunRow.id)
                .where(*due_background(), StepRunRow.available_at <= now)
                .order_by(StepRunRow.available_at, StepRunRow.id)
                .limit(limit)
            )
        )


def _run_batch(
    db: Database, ids: list[int], owner: str, lease: dt.timedelta = LEASE, *, reserve: bool = False
) -> tuple[dict[int, bool], list[int], dict[int, Claimed], list[int]]:
    """Advance several due steps in one transaction, each up to its next external call.

    Their runs are locked first, then the steps (one order for everyone, see
    ``_lock_step_and_run``). Returns which steps moved, and the steps to run each on its own
    afterwards: those now at an external call (claimed right before the call, so none holds
    a lease before its own call starts), and those whose run or row another transaction held
    (a person completing work on that run): they wait for it alone, holding nothing else.

    With ``reserve`` (a pool has a free slot for each of them), the steps at an external call
    claim it here, in the batch, and are returned with their attempt and call: the calls
    start as soon as the batch commits, with no transaction of their own before them, and no
    other worker takes the same steps in the meantime only to find them gone.
    Then too a run that another transaction holds (another worker's batch) is passed over,
    not waited for; its steps are returned as ``skipped``, to be tried in a later round.
    """
    reserved: dict[int, Claimed] = {}
    skipped: list[int] = []
    moved: dict[int, bool] = {}
    calls: list[int] = []
    with db.write() as session:
        tx = Tx.of(session)
        table = StepRunRec.table()
        seen = tx.query(StepRunRec, select(table).where(table.c.id.in_(ids)))
        runs = prefetch_runs(session, sorted({r.run_id for r in seen}), skip_locked=reserve)
        free = [r.id for r in seen if r.run_id in runs]
        skipped.extend(r.id for r in seen if r.run_id not in runs)
        rows = tx.lock_many(StepRunRec, free, skip_locked=True)
        taken = {r.id for r in rows}
        calls.extend(i for i in free if i not in taken)
        for row in rows:
            result = StepRunner(db, row.id, owner, lease).advance(session, None, claim=reserve)
            if isinstance(result, tuple):
                moved[row.id] = False  # it moves once its call is answered
                reserved[row.id] = Claimed(row.run_id, *result)
                continue
            moved[row.id] = result is not None and result != CALL_NEXT
            if result == CALL_NEXT:
                calls.append(row.id)
    return moved, calls, reserved, skipped


class _Pass:
    """One pass of ``run_due``: what moved, what did not, and the calls in flight."""

    def __init__(self, db: Database, owner: str, lease: dt.timedelta, concurrency: int) -> None:
        self.db = db
        self.owner = owner
        self.lease = lease
        self.concurrency = concurrency
        self.report = PassReport()
        self.idle: set[int] = set()
        self.keeper = LeaseKeeper(db, owner, lease)
        self.pool = (
            ThreadPoolExecutor(concurrency, thread_name_prefix="baton-call")
            if concurrency > 1
            else None
        )
        self.in_flight: dict[Future[bool], int] = {}
        self.skips: Counter[int] = Counter()
        self.moved_before: dict[int, bool] = {}

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        self.keeper.close()

    def count(self, step_run_id: int, did: bool) -> None:
        if did:
            self.report.steps_run += 1
        else:
            self.idle.add(step_run_id)

    def call(self, step_run_id: int, moved: bool, claimed: Claimed | None = None) -> None:
        """Run the step from its external call on: here, or in the pool."""
        runner = StepRunner(self.db, step_run_id, self.owner, self.lease)
        if claimed is not None:
            self.keeper.hold(step_run_id, claimed.attempt)
        if self.pool is None:
            self.count(step_run_id, self._guarded(runner, claimed) or moved)
            return
        self.moved_before[step_run_id] = moved
        # Each call sees what the pass's caller set (e.g. who answers a scenario's calls).
        context = contextvars.copy_context()
        future = self.pool.submit(context.run, self._guarded, runner, claimed)
        self.in_flight[future] = step_run_id

    @property
    def free(self) -> int | None:
        """Slots of the pool with no call in them (None: calls are made here, one by one)."""
        return None if self.pool is None else self.concurrency - len(self.in_flight)

    def _guarded(self, runner: StepRunner, claimed: Claimed | None) -> bool:
        try:
            return runner.run(self.keeper, claimed)
        except Exception as exc:  # the database's trouble (or worse): it stays due
            self.report.errors.append(f"step run {runner.step_run_id}: {type(exc).__name__}: {exc}")
            return False

    def settle(self, *, block: bool) -> None:
        """Count the calls that have finished; with ``block``, wait for at least one."""
        if not self.in_flight:
            return
        done, _ = wait(
            list(self.in_flight), timeout=None if block else 0, return_when=FIRST_COMPLETED
        )
        for future in done:
            step_run_id = self.in_flight.pop(future)
            moved = self.moved_before.pop(step_run_id, False)
            self.count(step_run_id, future.result() or moved)


def run_due(
    db: Database,
    *,
    owner: str | None = None,
    limit: int = 200,
    batch: int = BATCH,
    lease: dt.timedelta = LEASE,
    concurrency: int = 1,
) -> PassReport:
    """Run every background step that is due now; repeat until none is left (or MAX_ROUNDS).

    Steps go in batches, one transaction each, so a busy worker commits less often; a batch
    that meets something unexpected is rolled back and redone one step per transaction, so
    only the broken step fails and the others still move. External calls are made after the
    batch, up to ``concurrency`` at once, each claimed just before it starts and under a lease
    of its own (one heartbeat renews them all); while they run, the next batches go on.
    """
    work = _Pass(db, owner or worker_id(), lease, concurrency)
    try:
        rounds = 0
        while rounds < MAX_ROUNDS:
            work.settle(block=False)
            # Slots are refilled a few at a time: a round costs a due-steps query and a batch
            # transaction, too much to spend on every single call that ends.
            while work.free is not None and work.free < max(1, concurrency // 4) and work.in_flight:
                work.settle(block=True)
            # With a pool, a round takes no more steps than it has free slots: the steps it
            # leaves are there for other workers, and each it takes starts its call at once.
            free = work.free
            busy = set(work.in_flight.values())
            # A pool reads only the few it may take, past those it already has or passed over.
            wanted = limit if free is None else min(limit, SPREAD * free)
            due = due_steps(db, utcnow(), wanted + len(busy) + len(work.idle))
            ids = [i for i in due if i not in work.idle and i not in busy]
            if free is not None:
                # Workers sharing a database see the same steps due first: each takes a random
                # few of them, so they do not all queue for the same runs.
                window = ids[: SPREAD * free]
                ids = random.sample(window, min(free, len(window)))
            if not ids:
                if not work.in_flight:
                    return work.report
                work.settle(block=True)
                continue
            moved_any = False
            for start in range(0, len(ids), batch):
                chunk = ids[start : start + batch]
                try:
                    moved, alone, reserved, skipped = _run_batch(
                        db, chunk, work.owner, lease, reserve=free is not None
                    )
                except Exception:
                    moved, alone, reserved, skipped = {}, chunk, {}, []
                for step_run_id in skipped:
                    # Tried again in a later round; one whose run stays held waits for it alone.
                    work.skips[step_run_id] += 1
                    if work.skips[step_run_id] >= MAX_SKIPS:
                        alone.append(step_run_id)
                moved_any = moved_any or any(moved.values())
                for step_run_id in chunk:
                    if step_run_id in reserved:
                        work.call(step_run_id, moved.get(step_run_id, False), reserved[step_run_id])
                    elif step_run_id in alone:
                        work.call(step_run_id, moved.get(step_run_id, False))
                    elif step_run_id not in skipped:
                        work.count(step_run_id, moved.get(step_run_id, False))
            # A round that only started calls (its steps were already at them) cannot be a
            # run starting runs without end: it does not count against MAX_ROUNDS.
            if moved_any or work.pool is None:
                rounds += 1
        while work.in_flight:
            work.settle(block=True)
        work.report.errors.append(
            f"steps were still becoming due after {MAX_ROUNDS} rounds, so this pass stopped; "
            "a run may be starting runs without end (the next pass goes on with them)"
        )
        return work.report
    finally:
        work.close()
