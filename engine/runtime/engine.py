"""The orchestration engine: moves one run from transition to transition.

Every method works inside the caller's transaction (a ``Session`` that commits or rolls back
as a whole), writing the run's rows, its log entries and any outbox messages together. No
run state is kept in memory between transitions: a ``RunEngine`` lives for one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from engine.definitions.model import (
    BackgroundStep,
    Decision,
    ExitOn,
    InteractiveStep,
    OnFailure,
    Stage,
    StartOn,
    WaitMode,
    label_of,
)
from engine.expressions import ExpressionError, evaluate, evaluate_condition
from engine.runtime import access, notify
from engine.runtime.assignment import AssignmentError, resolve_assignee
from engine.runtime.calendar import BusinessCalendar, CalendarError, load_calendar
from engine.runtime.context import Pinned, definition_for, run_names, stage_of
from engine.statuses import PRIORITIES, RunStatus, StageStatus, StepStatus, WorkStatus
from engine.store.base import utcnow
from engine.store.log import write_log
from engine.store.rows import RunRec, StageRunRec, StepRunRec, TimerRec, Tx, WorkItemRec

MAX_HOPS = 1000  # elements entered in one transition; more means decisions loop on themselves


class RunFailed(Exception):
    """Raised inside the engine to put the run into Error with this message."""


class StepFailed(RunFailed):
    """A step could not start (its work item could not be made: a queue that is gone, an
    assignee that resolves to nobody). Its stage's fault path takes over, as for a background
    step that failed; a stage without one puts the run into Error with this message."""

    def __init__(self, message: str, row: StepRunRec) -> None:
        super().__init__(message)
        self.row = row


class RunEngine:
    def __init__(self, session: Session, run: RunRec, *, actor: str | None = None) -> None:
        self.session = session
        self.tx = Tx.of(session)
        self.run = run
        self.actor = actor
        self.pinned: Pinned = definition_for(session, run.version_id)
        self.definition = self.pinned.definition
        self._names: dict[str, Any] | None = None
        self._hops = 0
        # Set while a worker runs a step's actions, so their log entries name the stage.
        self.acting_stage: str | None = None
        # The stage in progress, looked up once per transaction.
        self._stage_run: StageRunRec | None = None

    # ------------------------------------------------------------ helpers

    def log(self, event: str, **kwargs: Any) -> None:
        kwargs.setdefault("actor", self.actor)
        if kwargs.get("stage") is None and kwargs.get("step") is not None:
            kwargs["stage"] = self.acting_stage
        write_log(self.session, self.run.id, event, **kwargs)

    def names(self) -> dict[str, Any]:
        if self._names is None:
            self._names = run_names(self.session, self.run, self.pinned)
        return self._names

    def changed(self) -> None:
        """Something expressions can see has changed; rebuild the names when next needed."""
        self._names = None

    def condition(self, expression: str, where: str) -> bool:
        try:
            return evaluate_condition(expression, self.names())
        except ExpressionError as exc:
            raise RunFailed(
                f"{where}: expression '{expression}' failed: {exc.describe()}"
            ) from None

    def value(self, expression: str, where: str) -> Any:
        try:
            return evaluate(expression, self.names())
        except ExpressionError as exc:
            raise RunFailed(
                f"{where}: expression '{expression}' failed: {exc.describe()}"
            ) from None

    def _set_state(self, stage: str, step: str | None, values: dict[str, Any]) -> None:
        """Update the snapshot expressions read: a stage's entry, or one step's within it."""
        state = dict(self.run.state or {})
        entry = dict(state.get(stage, {}))
        if step is None:
            entry.update(values)
        else:
            step_entry = dict(entry.get(step, {}))
            step_entry.update(values)
            entry[step] = step_entry
        state[stage] = entry
        self.run.state = state
        self.changed()

    def set_variables(self, values: dict[str, Any]) -> None:
        self.run.variables = {**(self.run.variables or {}), **values}
        self.changed()

    def current_stage_run(self) -> StageRunRec | None:
        if self._stage_run is None or self._stage_run.status != StageStatus.IN_PROGRESS:
            self._stage_run = access.current_stage_run(self.session, self.run.id)
        return self._stage_run

    def step_runs(self, stage_run: StageRunRec) -> list[StepRunRec]:
        return access.steps_of_stage(self.session, stage_run)

    def touch(self) -> None:
        self.run.updated_at = utcnow()
        self.run.row_version = (self.run.row_version or 0) + 1

    # ------------------------------------------------------------ running

    def start(self) -> None:
        """Enter the first element of a new run."""
        self.log(
            "run_started", message=f"started {self.pinned.orchestration} v{self.pinned.version}"
        )
        first = self.definition.elements[0].name if self.definition.elements else None
        self.guarded(lambda: self.enter(first))

    def guarded(self, action: Any) -> None:
        """Run ``action``; a RunFailed puts the run into Error instead of escaping."""
        try:
            action()
        except StepFailed as exc:  # caught here, outside the loop that was starting the steps
            stage = stage_of(self.definition, self._stage_name(exc.row))
            if stage.fault:
                self._take_fault_path(stage, exc.row, str(exc))
            else:
                self.fail_run(str(exc))
        except RunFailed as exc:
            self.fail_run(str(exc))
        self.touch()

    def enter(self, name: str | None) -> None:
        while True:
            self._hops += 1
            if self._hops > MAX_HOPS:
                raise RunFailed(
                    f"decisions sent the run round {MAX_HOPS} times without reaching a stage; "
                    f"check the outcomes leading to '{name}'"
                )
            if name is None:
                self.complete_run()
                return
            element = self.definition.element(name)
            if element is None:
                raise RunFailed(f"no element named '{name}'")
            self.run.current_element = name
            if isinstance(element, Decision):
                name = self.decide(element)
                continue
            self.enter_stage(element)
            return

    def decide(self, decision: Decision) -> str | None:
        for outcome in decision.outcomes:
            where = f"decision '{decision.name}', outcome '{outcome.name}'"
            if self.condition(outcome.when, where):
                self.log(
                    "decision",
                    stage=decision.name,
                    message=f"outcome '{outcome.name}' → {outcome.next}",
                    details={"outcome": outcome.name},
                )
                return None if outcome.next == "end" else outcome.next
        target = decision.default
        self.log(
            "decision",
            stage=decision.name,
            message=f"no outcome was true → default {target}",
            details={"outcome": None},
        )
        return None if target in (None, "end") else target

    def enter_stage(self, stage: Stage) -> None:
        visits = int((self.run.state or {}).get(stage.name, {}).get("visits", 0)) + 1
        if visits > stage.max_visits:
            raise RunFailed(
                f"stage '{stage.name}' was entered {visits} times, more than its max_visits "
                f"({stage.max_visits}): the loop back to '{stage.name}' never ends"
            )
        now = utcnow()
        stage_run = StageRunRec(
            run_id=self.run.id,
            stage=stage.name,
            visit=visits,
            status=StageStatus.IN_PROGRESS,
            started_at=now,
        )
        self.tx.add(stage_run)
        fresh = {s.name: {"status": StepStatus.NOT_STARTED, "outputs": {}} for s in stage.steps}
        self._set_state(
            stage.name, None, {"status": StageStatus.IN_PROGRESS, "visits": visits, **fresh}
        )
        steps = [self.fresh_step_run(stage_run, step) for step in stage.steps]
        for step_row in steps:
            self.tx.add(step_row)
        self._stage_run = stage_run
        self.tx.steps_by_stage[stage_run.id] = steps
        self.log(
            "stage_started", stage=stage.name, message=f"visit {visits}" if visits > 1 else None
        )
        self.evaluate_stage(stage_run, steps, first=True)

    def fresh_step_run(
        self, stage_run: StageRunRec, step: InteractiveStep | BackgroundStep
    ) -> StepRunRec:
        """A new run of ``step`` in ``stage_run``, not started (the caller adds it)."""
        return StepRunRec(
            run_id=self.run.id,
            stage_run_id=stage_run.id,
            orchestration_id=self.run.orchestration_id,
            stage=stage_run.stage,
            step=step.name,
            kind=step.kind,
            status=StepStatus.NOT_STARTED,
            outputs={},
            action_index=0,
            attempt=0,
        )

    def evaluate_stage(
        self,
        stage_run: StageRunRec | None = None,
        steps: list[StepRunRec] | None = None,
        *,
        first: bool = False,
    ) -> None:
        """Start what may start, complete what may complete, and exit the stage when it is done.

        Called after anything in the run changes, so conditions that wait see every change.
        """
        if self.run.status != RunStatus.IN_PROGRESS:
            return
        stage_run = stage_run or self.current_stage_run()
        if stage_run is None:
            return
        stage = stage_of(self.definition, stage_run.stage)
        steps = steps if steps is not None else self.step_runs(stage_run)
        by_name = {s.step: s for s in steps}
        progress = True
        while progress:
            progress = False
            for step in stage.steps:
                row = by_name[step.name]
                if row.status == StepStatus.NOT_STARTED:
                    decision = self.may_start(stage, step, row, by_name, first)
                    if decision == "start":
                        self.start_step(stage, step, row)
                        progress = True
                    elif decision == "skip":
                        self.finish_step(
                            stage, row, StepStatus.SKIPPED, message="start condition was false"
                        )
                        progress = True
                elif (
                    row.status == StepStatus.IN_PROGRESS
                    and isinstance(step, InteractiveStep)
                    and step.completion
                    and self.condition(
                        step.completion, f"completion of step '{stage.name}.{step.name}'"
                    )
                ):
                    self.close_work_items(
                        row, WorkStatus.CANCELED, "completed by its completion condition"
                    )
                    self.finish_step(
                        stage, row, StepStatus.COMPLETED, message="completion condition became true"
                    )
                    progress = True
            first = False
            if self.run.status != RunStatus.IN_PROGRESS:
                return
        if self.should_exit(stage, by_name):
            self.exit_stage(stage, stage_run, steps)

    def may_start(
        self,
        stage: Stage,
        step: InteractiveStep | BackgroundStep,
        row: StepRunRec,
        rows: dict[str, StepRunRec],
        first: bool,
    ) -> str:
        start = step.start
        if start.when == StartOn.stage_start:
            return "start"
        if start.when == StartOn.after:
            done = all(rows[name].status in StepStatus.DONE for name in start.steps)
            return "start" if done else "wait"
        assert start.expression is not None
        holds = self.condition(
            start.expression, f"start condition of step '{stage.name}.{step.name}'"
        )
        if holds:
            return "start"
        if start.mode == WaitMode.once:
            return "skip"
        return "wait"

    def should_exit(self, stage: Stage, rows: dict[str, StepRunRec]) -> bool:
        exit_ = stage.exit
        if exit_.when == ExitOn.all_steps:
            return all(r.status in StepStatus.DONE for r in rows.values())
        if exit_.when == ExitOn.steps:
            return all(rows[name].status in StepStatus.DONE for name in exit_.steps)
        assert exit_.expression is not None
        return self.condition(exit_.expression, f"exit condition of stage '{stage.name}'")

    def exit_stage(self, stage: Stage, stage_run: StageRunRec, steps: list[StepRunRec]) -> None:
        for row in steps:
            if row.status in StepStatus.OPEN:
                self.discontinue_step(stage, row, "the stage exited")
        stage_run.status = StageStatus.COMPLETED
        stage_run.ended_at = utcnow()
        self._set_state(stage.name, None, {"status": StageStatus.COMPLETED})
        self.log("stage_completed", stage=stage.name)
        self.enter(self.definition.next_of(stage))

    # ------------------------------------------------------------ steps

    def start_step(
        self, stage: Stage, step: InteractiveStep | BackgroundStep, row: StepRunRec
    ) -> None:
        now = utcnow()
        row.status = StepStatus.IN_PROGRESS
        row.started_at = now
        self._set_state(
            stage.name, step.name, {"status": StepStatus.IN_PROGRESS, "started_at": now.isoformat()}
        )
        self.log("step_started", stage=stage.name, step=step.name)
        if isinstance(step, InteractiveStep):
            try:
                self.create_work_item(stage, step, row)
            except RunFailed as exc:
                self.finish_step(stage, row, StepStatus.ERROR, error=str(exc))
                raise StepFailed(str(exc), row) from None
        else:
            row.available_at = now
            row.fresh_attempts()
            notify.background_work_ready(self.session)

    def create_work_item(self, stage: Stage, step: InteractiveStep, row: StepRunRec) -> WorkItemRec:
        assert step.assignee is not None
        where = f"step '{stage.name}.{step.name}'"
        try:
            kind, assignee = resolve_assignee(
                self.session, step.assignee, lambda e: self.value(e, where)
            )
        except AssignmentError as exc:
            raise RunFailed(f"{where} cannot be assigned: {exc}") from None
        now = utcnow()
        due: dt.datetime | None = None
        calendar: BusinessCalendar | None = None
        if step.due:
            try:
                calendar = load_calendar(self.session, self.definition.calendar)
                due = calendar.shift(now, step.due)
            except CalendarError as exc:
                raise RunFailed(f"{where}: its due date cannot be worked out: {exc}") from None
        item = WorkItemRec(
            run_id=self.run.id,
            step_run_id=row.id,
            orchestration_id=self.run.orchestration_id,
            record_id=self.run.record_id,
            stage=stage.name,
            step=step.name,
            title=label_of(step),
            status=WorkStatus.ASSIGNED,
            assignee_kind=kind,
            assignee=assignee,
            priority=PRIORITIES[step.priority.value],
            due_at=due,
            created_at=now,
            values={},
            row_version=1,
        )
        self.tx.add(item)

        self.log(
            "work_item_assigned",
            stage=stage.name,
            step=step.name,
            work_item_id=item.id,
            message=f"assigned to {kind} {assignee}"
            + (f", due {due:%Y-%m-%d %H:%M} UTC" if due else ""),
        )
        notify.work_assigned(self.session, self.run, item, self.pinned)
        if due is not None and calendar is not None:
            for rung, escalation in enumerate(step.escalations):
                try:
                    fire_at = calendar.shift(due, escalation.offset)
                except CalendarError as exc:
                    raise RunFailed(f"{where}: escalation {rung + 1}: {exc}") from None
                self.tx.add(
                    TimerRec(run_id=self.run.id, work_item_id=item.id, rung=rung, fire_at=fire_at)
                )
        return item

    def finish_step(
        self,
        stage: Stage,
        row: StepRunRec,
        status: str,
        *,
        outputs: dict[str, Any] | None = None,
        message: str | None = None,
        completed_by: str | None = None,
        error: str | None = None,
    ) -> None:
        now = utcnow()
        row.status = status
        row.ended_at = now
        if outputs is not None:
            row.outputs = outputs
        if error is not None:
            row.error = error
        entry: dict[str, Any] = {"status": status, "outputs": dict(row.outputs or {})}
        if status == StepStatus.COMPLETED:
            entry["completed_at"] = now.isoformat()
            entry["completed_by"] = completed_by
        self._set_state(stage.name, row.step, entry)
        event = {
            StepStatus.COMPLETED: "step_completed",
            StepStatus.SKIPPED: "step_skipped",
            StepStatus.DISCONTINUED: "step_discontinued",
            StepStatus.CANCELED: "step_canceled",
            StepStatus.ERROR: "step_failed",
        }[status]
        self.log(
            event,
            stage=stage.name,
            step=row.step,
            message=message or error,
            actor=completed_by or self.actor,
        )

    def discontinue_step(self, stage: Stage, row: StepRunRec, reason: str) -> None:
        self.close_work_items(row, WorkStatus.CANCELED, reason)
        row.lease_owner = None
        row.lease_expires_at = None
        row.available_at = None
        row.wait_event = None
        self.finish_step(stage, row, StepStatus.DISCONTINUED, message=reason)

    def close_work_items(self, row: StepRunRec, status: str, reason: str) -> None:
        items = access.open_items_of_step(self.session, row.id)
        for item in items:
            if item.status not in WorkStatus.OPEN:  # changed earlier in this transaction
                continue
            item.status = status
            item.completed_at = utcnow()
            item.row_version += 1
            self.log(
                "work_item_canceled",
                stage=item.stage,
                step=item.step,
                work_item_id=item.id,
                message=reason,
            )

    def complete_step(
        self,
        row: StepRunRec,
        outputs: dict[str, Any],
        *,
        completed_by: str | None = None,
        message: str | None = None,
    ) -> None:
        """A step finished its work; move the run on."""
        stage_run = self.tx.get_one(StageRunRec, row.stage_run_id)
        if stage_run.status == StageStatus.IN_PROGRESS and self._stage_run is not stage_run:
            self._stage_run = stage_run
        stage = stage_of(self.definition, stage_run.stage)
        row.lease_owner = None
        row.lease_expires_at = None
        row.available_at = None
        self.finish_step(
            stage,
            row,
            StepStatus.COMPLETED,
            outputs=outputs,
            completed_by=completed_by,
            message=message,
        )
        self.guarded(lambda: self.evaluate_stage())

    def fail_step(self, row: StepRunRec, error: str) -> None:
        """A step failed for good: continue, take the fault path, or put the run into Error."""
        stage = stage_of(self.definition, self._stage_name(row))
        step = next(s for s in stage.steps if s.name == row.step)
        policy = step.on_failure if isinstance(step, BackgroundStep) else None
        if policy is None:
            policy = OnFailure.fault_path if stage.fault else OnFailure.error
        row.lease_owner = None
        row.lease_expires_at = None
        row.available_at = None
        self.finish_step(stage, row, StepStatus.ERROR, error=error)
        if policy == OnFailure.continue_:
            self.log(
                "step_failure_ignored",
                stage=stage.name,
                step=row.step,
                message="the step is set to continue on failure",
            )
            self.guarded(lambda: self.evaluate_stage())
            return
        if policy == OnFailure.fault_path and stage.fault:
            self._take_fault_path(stage, row, error)
            return
        self.fail_run(f"step '{stage.name}.{row.step}' failed: {error}")
        self.touch()

    def _take_fault_path(self, stage: Stage, row: StepRunRec, error: str) -> None:
        """The stage ends in Error because of ``row``; the run goes on at its fault path."""
        assert stage.fault is not None
        stage_run = self.tx.get_one(StageRunRec, row.stage_run_id)
        self._end_stage_in_error(stage, stage_run, f"step '{row.step}' failed: {error}")
        self.log("fault_path", stage=stage.name, step=row.step, message=f"→ {stage.fault}")
        fault = stage.fault
        self.guarded(lambda: self.enter(fault))

    def _stage_name(self, row: StepRunRec) -> str:
        return self.tx.get_one(StageRunRec, row.stage_run_id).stage

    def _end_stage_in_error(self, stage: Stage, stage_run: StageRunRec, error: str) -> None:
        for other in self.step_runs(stage_run):
            if other.status in StepStatus.OPEN:
                self.discontinue_step(stage, other, "another step of the stage failed")
        stage_run.status = StageStatus.ERROR
        stage_run.error = error
        stage_run.ended_at = utcnow()
        self._set_state(stage.name, None, {"status": StageStatus.ERROR})
        self.log("stage_failed", stage=stage.name, message=error)

    # ------------------------------------------------------------ the run as a whole

    def complete_run(self) -> None:
        self.run.status = RunStatus.COMPLETED
        self.run.ended_at = utcnow()
        self.run.current_element = None
        self.log("run_completed")
        notify.run_finished(self.session, self.run)

    def fail_run(self, error: str) -> None:
        """SPEC's default error behaviour: run, stage and step in Error, the rest stopped."""
        stage_run = self.current_stage_run()
        if stage_run is not None:
            stage = stage_of(self.definition, stage_run.stage)
            self._end_stage_in_error(stage, stage_run, error)
        self.run.status = RunStatus.ERROR
        self.run.error = error
        self.run.ended_at = utcnow()
        self.log("run_failed", message=error)
        notify.run_failed(self.session, self.run, self.pinned, error)
        notify.run_finished(self.session, self.run)

    def cancel(self, reason: str, stage_run: StageRunRec | None) -> None:
        """End the run as Canceled, closing ``stage_run`` (the visit it is at, in progress or
        suspended: the caller finds it) with its open steps and their work."""
        if stage_run is not None:
            stage = stage_of(self.definition, stage_run.stage)
            for row in self.step_runs(stage_run):
                if row.status in StepStatus.OPEN:
                    self.close_work_items(row, WorkStatus.CANCELED, f"run canceled: {reason}")
                    row.available_at = None
                    row.wait_event = None
                    self.finish_step(stage, row, StepStatus.CANCELED, message=reason)
            stage_run.status = StageStatus.CANCELED
            stage_run.ended_at = utcnow()
            self._set_state(stage.name, None, {"status": StageStatus.CANCELED})
        self.run.status = RunStatus.CANCELED
        self.run.ended_at = utcnow()
        self.log("run_canceled", message=reason)
        self.touch()
        notify.run_finished(self.session, self.run)
