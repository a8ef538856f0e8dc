"""The worker's steps: one background step taken as far as it goes, in its own transaction
(``engine.runtime.passes`` runs every step due, in batches and side by side).

A step is taken under a lease with an attempt number. Inline actions run and commit with the
step's progress. Before an external action the attempt is committed with a lease; the call
happens outside any transaction; its result is written only if the step still has that
attempt (a worker whose lease expired, and whose step was taken over, is fenced out).

A lease covers one call from the moment it starts: due steps are advanced in batches up to
their next external call. A worker with free slots claims those calls in the batch itself
and starts each as soon as the batch commits; one making its calls one by one claims each on
its own, right before it is made, so no step waits under a lease while other steps' calls
run. One step's call is one unit of lease, heartbeat and result, so several run side by side.

What goes wrong while a step runs is either the database's trouble (the step is left to be
tried again, unchanged) or the step's: an action, or the progress it made, raising anything
else fails that attempt under the step's retry policy, recorded in a transaction of its own.
A lease lost to a worker that stopped responding is neither: it spends no retry attempt, but
a step that loses MAX_LOST_LEASES of them fails with that reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlalchemy import select

from engine.definitions.model import (
    BackgroundStep,
    CreateRecord,
    HttpRequest,
    PythonAction,
    SendEmail,
    StartOrchestration,
    UpdateRecord,
    WaitForEvent,
)
from engine.runtime.access import lock_run, visit_of_step
from engine.runtime.actions import ActionFailed, ExternalCall, Wait, call_external, run_inline
from engine.runtime.context import stage_of
from engine.runtime.engine import RunEngine, RunFailed
from engine.runtime.leases import (
    LEASE,
    MAX_LOST_LEASES,
    LeaseKeeper,
    backoff,
    database_trouble,
    failures_so_far,
)
from engine.statuses import RunStatus, StepStatus
from engine.store.base import utcnow
from engine.store.database import Database
from engine.store.ids import next_id
from engine.store.log import log_mark, log_rollback_to
from engine.store.rows import RunRec, StageRunRec, StepRunRec, Tx

WRITING_ACTIONS = (CreateRecord, UpdateRecord, SendEmail, StartOrchestration, WaitForEvent)
EXTERNAL_ACTIONS = (HttpRequest, PythonAction)
# ``advance`` stopped a batched step before its external call, to be claimed on its own.
CALL_NEXT: Final = "call next"
ERROR_TEXT_LIMIT = 500


def _lock_step_and_run(session: Any, step_run_id: int, run_id: int | None) -> StepRunRec | None:
    """The step, locked after its run (the order every writer of a run's rows keeps, so a
    worker and a person completing work on the same run never wait for each other in a
    circle); None unless both are in progress. ``run_id``: the step's run, if known (a
    step never changes runs), which spares reading the step before the lock."""
    tx = Tx.of(session)
    if run_id is None:
        seen = tx.get(StepRunRec, step_run_id)
        if seen is None:
            return None
        run_id = seen.run_id
    run = lock_run(session, run_id)
    if run is None or run.status != RunStatus.IN_PROGRESS:
        return None
    row = tx.get(StepRunRec, step_run_id, lock=True)
    if row is None or row.run_id != run_id or row.status != StepStatus.IN_PROGRESS:
        return None
    return row


@dataclass(frozen=True)
class Claimed:
    """The external call a batch claimed for a step: made as soon as the batch commits."""

    run_id: int
    attempt: int
    call: ExternalCall


class StepRunner:
    """Advances one background step as far as it can go now."""

    def __init__(
        self, db: Database, step_run_id: int, owner: str, lease: dt.timedelta = LEASE
    ) -> None:
        self.db = db
        self.step_run_id = step_run_id
        self.owner = owner
        self.lease = lease
        self.run_id: int | None = None  # the step's run, once read
        # What the last ``advance`` found, to fence the record of a failure it raised.
        self._seen: tuple[int, int] | None = None
        # The action running, to name it if it raises something unexpected.
        self._acting: str | None = None

    def run(self, keeper: LeaseKeeper | None = None, claimed: Claimed | None = None) -> bool:
        """Take the step as far as it goes now, each external call under a lease of its own,
        renewed by ``keeper`` (the worker's one heartbeat) or by a keeper of its own.
        ``claimed``: the attempt and call for which a batch of this worker leased the step a
        moment ago (see ``_run_batch``): the call is made at once.

        True if the step did anything. Database trouble is raised, leaving the step as it
        was; anything else that goes wrong is a failure of the step (see ``_crashed``).
        """
        pending: tuple[int, _Outcome] | None = None
        did = False
        own = keeper is None
        keeper = keeper or LeaseKeeper(self.db, self.owner, self.lease)
        try:
            while True:
                result: Any = None
                if claimed is not None:
                    self.run_id, result = claimed.run_id, (claimed.attempt, claimed.call)
                    claimed = None
                else:
                    try:
                        with self.db.write() as session:
                            result = self.advance(session, pending)
                    except Exception as exc:
                        if database_trouble(exc):
                            raise
                        return self._crashed(exc, pending) or did
                did = did or result is not None
                if not isinstance(result, tuple):
                    return did
                attempt, call = result
                keeper.hold(self.step_run_id, attempt)
                try:
                    outcome: Any = call_external(call)
                except ActionFailed as exc:
                    outcome = exc
                except Exception as exc:  # an action raising anything is a failed attempt
                    outcome = ActionFailed(_describe_error(exc))
                finally:
                    keeper.release(self.step_run_id)
                pending = (attempt, _Outcome(call, outcome))
        finally:
            keeper.release(self.step_run_id)
            if own:
                keeper.close()

    def advance(
        self, session: Any, pending: Any, *, claim: bool = True
    ) -> tuple[int, ExternalCall] | Literal["call next"] | bool | None:
        """Take the step as far as it goes in this transaction.

        Returns None if there was nothing to do, True if it moved, or (attempt, call) when an
        external call was claimed and must now be made outside the transaction. With
        ``claim`` False (a batch), it stops before an external call instead and returns
        CALL_NEXT: the call is claimed on its own when it is about to be made.
        """
        now = utcnow()
        tx = Tx.of(session)
        row = _lock_step_and_run(session, self.step_run_id, self.run_id)
        if row is None:
            return None
        self.run_id = row.run_id
        run = tx.get_one(RunRec, row.run_id)
        self._seen = (row.attempt, row.action_index)
        self._acting = None
        taken_over = False
        if pending is None:
            if row.available_at is None or row.available_at > now:
                return None
            if row.lease_expires_at is not None:
                if row.lease_expires_at > now:
                    return None
                taken_over = True
        elif row.attempt != pending[0] or row.lease_owner != self.owner:
            return None  # fenced: our lease expired and another attempt took the step
        engine = RunEngine(session, run, actor="worker")
        stage_run = visit_of_step(tx, row.id, row.stage_run_id)
        stage = stage_of(engine.definition, stage_run.stage)
        step = next(s for s in stage.steps if s.name == row.step)
        assert isinstance(step, BackgroundStep)
        where = f"step '{stage.name}.{step.name}'"
        engine.acting_stage = stage.name
        outputs = dict(row.outputs or {})
        if pending is not None:
            outcome = pending[1]
            if isinstance(outcome.result, ActionFailed):
                return self._failed(engine, row, step, str(outcome.result), now)
            if outcome.call.action.output:
                outputs[outcome.call.action.output] = outcome.result
            row.outputs = outputs
            row.action_index += 1
            row.lease_owner = None
            row.lease_expires_at = None
        elif row.wait_event is not None:
            if row.wait_event == "child_run":
                child = tx.get(RunRec, int(row.wait_key or 0))
                if child is None or child.status not in RunStatus.FINISHED:
                    row.available_at = None
                    return True
                action = step.actions[row.action_index]
                if child.status != RunStatus.COMPLETED:
                    row.wait_event = row.wait_key = None
                    return self._failed(
                        engine,
                        row,
                        step,
                        f"run {child.id} ended {child.status}: {child.error}",
                        now,
                    )
                output = getattr(action, "output", None)
                if output:
                    outputs[output] = {"run_id": child.id, "variables": dict(child.variables or {})}
            else:
                return self._failed(
                    engine,
                    row,
                    step,
                    f"no event '{row.wait_event}' with key "
                    f"'{row.wait_key}' arrived before the timeout",
                    now,
                    retry=False,
                )
            row.wait_event = row.wait_key = None
            row.outputs = outputs
            row.action_index += 1
        elif taken_over:
            # The worker that held the lease died or stalled: not the step's fault, so no
            # retry is spent, but the attempt number still grows to fence the old worker out
            # should it ever come back.
            engine.log(
                "lease_expired",
                stage=stage.name,
                step=step.name,
                message=f"worker {row.lease_owner} did not finish attempt {row.attempt}; "
                f"taken over without spending a retry (lost lease {row.lost_leases + 1} "
                f"of {MAX_LOST_LEASES})",
            )
            row.lease_owner = None
            row.lease_expires_at = None
            row.lost_leases += 1
            row.attempt += 1
            if row.lost_leases >= MAX_LOST_LEASES:
                reason = f"the worker running it stopped responding {row.lost_leases} times"
                return self._failed(engine, row, step, reason, now, retry=False)
        elif row.attempt == row.attempt_base:
            row.attempt += 1  # a fresh start (a new step, or one a supervisor retried)
        try:
            while row.action_index < len(step.actions):
                action = step.actions[row.action_index]
                if not claim and isinstance(action, EXTERNAL_ACTIONS):
                    return CALL_NEXT
                label = f"{where}, action {row.action_index + 1}"
                self._acting = label
                if isinstance(action, WRITING_ACTIONS):
                    # An action that writes rows is undone whole if it fails half-way.
                    mark, tx_mark = log_mark(session), tx.mark()
                    savepoint = session.begin_nested()
                    try:
                        result = run_inline(engine, row, action, label)
                        savepoint.commit()
                    except (ActionFailed, RunFailed):
                        savepoint.rollback()
                        log_rollback_to(session, mark)
                        tx.restore(tx_mark)
                        raise
                else:
                    result = run_inline(engine, row, action, label)
                self._acting = None
                if isinstance(result, ExternalCall):
                    result = dataclasses.replace(result, timeout=step.timeout_seconds)
                    # The lease starts now, as the call is about to be made.
                    row.lease_owner = self.owner
                    row.lease_expires_at = utcnow() + self.lease
                    # Due again when the lease runs out: then another worker takes over.
                    row.available_at = row.lease_expires_at
                    return (row.attempt, result)
                if isinstance(result, Wait):
                    row.wait_event = result.event
                    row.wait_key = result.key
                    row.available_at = result.until
                    if result.event is None:
                        row.action_index += 1
                    engine.log(
                        "step_waiting",
                        stage=stage.name,
                        step=step.name,
                        message=_describe_wait(result),
                    )
                    engine.touch()
                    return True
                outputs.update(result)
                row.outputs = dict(outputs)
                row.action_index += 1
        except (ActionFailed, RunFailed) as exc:
            self._acting = None
            engine.changed()
            return self._failed(
                engine, row, step, str(exc), now, retry=isinstance(exc, ActionFailed)
            )
        engine.complete_step(row, outputs, completed_by="worker")
        return True

    def _crashed(self, exc: Exception, pending: tuple[int, _Outcome] | None) -> bool:
        """The step's transaction raised something unexpected and was rolled back: record
        that as a failure of the attempt, in a transaction of its own, so the step follows
        its retry policy and then fails with the message, instead of breaking every pass."""
        error = _describe_error(exc)
        if self._acting is not None:
            error = f"{self._acting}: {error}"
        with self.db.write() as session:
            now = utcnow()
            tx = Tx.of(session)
            row = _lock_step_and_run(session, self.step_run_id, self.run_id)
            if row is None:
                return False
            if pending is not None:
                if row.attempt != pending[0] or row.lease_owner != self.owner:
                    return False  # fenced, as its result would have been
            elif (row.attempt, row.action_index) != self._seen or (
                row.lease_expires_at is not None
                and row.lease_expires_at > now
                and row.lease_owner != self.owner
            ):
                return False  # someone else moved or holds the step since
            engine = RunEngine(session, tx.get_one(RunRec, row.run_id), actor="worker")
            stage = stage_of(engine.definition, tx.get_one(StageRunRec, row.stage_run_id).stage)
            step = next(s for s in stage.steps if s.name == row.step)
            assert isinstance(step, BackgroundStep)
            engine.acting_stage = stage.name
            if row.attempt == row.attempt_base:
                row.attempt += 1
            return self._failed(engine, row, step, error, now)

    def _failed(
        self,
        engine: RunEngine,
        row: StepRunRec,
        step: BackgroundStep,
        error: str,
        now: dt.datetime,
        *,
        retry: bool = True,
    ) -> bool:
        row.lease_owner = None
        row.lease_expires_at = None
        failures = failures_so_far(row)
        if retry and failures < step.retry.attempts:
            delay = backoff(step, failures)
            row.attempt += 1
            row.action_index = row.action_index  # the failed action runs again
            row.available_at = now + delay
            engine.log(
                "step_retry",
                step=step.name,
                message=f"attempt {row.attempt - 1} failed: {error}; retrying in {delay.total_seconds():.0f}s",
                details={"attempt": row.attempt - 1},
            )
            engine.touch()
            return True
        engine.fail_step(row, error)
        return True


@dataclass(frozen=True)
class _Outcome:
    call: ExternalCall
    result: Any


def _describe_error(exc: BaseException) -> str:
    """An unexpected error in one line, short enough to show and store."""
    text = " ".join(str(exc).split())
    if len(text) > ERROR_TEXT_LIMIT:
        text = text[: ERROR_TEXT_LIMIT - 1] + "…"
    return (
        f"unexpected {type(exc).__name__}: {text}" if text else f"unexpected {type(exc).__name__}"
    )


def _describe_wait(wait: Wait) -> str:
    if wait.event == "child_run":
        return f"waiting for run {wait.key} to finish"
    if wait.event:
        until = f" (until {wait.until:%Y-%m-%d %H:%M} UTC)" if wait.until else ""
        return f"waiting for event '{wait.event}' with key '{wait.key}'{until}"
    assert wait.until is not None
    return f"waiting until {wait.until:%Y-%m-%d %H:%M:%S} UTC"


def publish_event(
    session: Any, name: str, key: str, data: dict[str, Any], actor: str | None
) -> tuple[int, int | None]:
    """Store an event and hand it to a step waiting for it; returns (event id, step run id)."""
    from engine.runtime import notify
    from engine.store.log import write_log
    from engine.store.models import EventRow

    now = utcnow()
    event = EventRow(
        id=next_id(session, EventRow),
        name=name,
        key=key,
        data=data,
        published_by=actor,
        received_at=now,
    )
    session.add(event)
    tx = Tx.of(session)
    table = StepRunRec.table()
    waits = (
        select(table)
        .where(
            table.c.wait_event == name,
            table.c.wait_key == key,
            table.c.status == StepStatus.IN_PROGRESS,
        )
        .order_by(table.c.id)
        .limit(1)
    )
    # The run is locked before the step, as everywhere (see _lock_step_and_run); a step that
    # stopped waiting meanwhile sends us to the next one waiting.
    while True:
        candidates = tx.query(StepRunRec, waits)
        if not candidates:
            return event.id, None
        run = lock_run(session, candidates[0].run_id)
        waiting = tx.get(StepRunRec, candidates[0].id, lock=True)
        if waiting is None or (waiting.wait_event, waiting.wait_key, waiting.status) == (
            name,
            key,
            StepStatus.IN_PROGRESS,
        ):
            break
    if waiting is None or run is None or run.status != RunStatus.IN_PROGRESS:
        return event.id, None
    engine = RunEngine(session, run, actor=actor)
    stage_run = tx.get_one(StageRunRec, waiting.stage_run_id)
    step = next(
        s for s in stage_of(engine.definition, stage_run.stage).steps if s.name == waiting.step
    )
    assert isinstance(step, BackgroundStep)
    action = step.actions[waiting.action_index]
    output = getattr(action, "output", None)
    if output:
        waiting.outputs = {**(waiting.outputs or {}), output: data}
    event.consumed_at = now
    event.consumed_by_step_run_id = waiting.id
    waiting.wait_event = waiting.wait_key = None
    waiting.action_index += 1
    waiting.available_at = now
    write_log(
        session,
        run.id,
        "event_received",
        actor=actor,
        stage=stage_run.stage,
        step=waiting.step,
        message=f"{name} [{key}]",
    )
    notify.background_work_ready(session)
    return event.id, waiting.id
