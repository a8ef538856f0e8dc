"""Running scenarios: each in a fresh copy of its file's template database, with a clock of
its own that moves only when the scenario travels in time, and external calls answered by its
stubs. A scenario stops at its first step that does not hold and says where, what was
expected, what happened, and the run's history up to then."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.clock import Clock, using
from engine.errors import BatonError
from engine.expressions import ExpressionError, evaluate
from engine.runtime.actions import answered_by
from engine.runtime.escalation import fire_due_timers
from engine.runtime.passes import run_due
from engine.runtime.timetravel import MAX_STOPS, to_next_due, travel
from engine.scenarios.expectations import Snapshot, check
from engine.scenarios.format import Scenario, ScenarioFile, Step, parse_moment
from engine.scenarios.model import (
    Advance,
    Claim,
    Complete,
    Expect,
    Intervene,
    PublishEvent,
    Reassign,
    SaveRecord,
)
from engine.scenarios.observe import reached_by, stuck_at
from engine.scenarios.results import Failure, ScenarioResult, history_lines
from engine.scenarios.setup import Slot, World, fresh_copy, remove_database
from engine.scenarios.stubs import Answers
from engine.services.baton import Baton
from engine.services.dto import RunDetail
from engine.statuses import RunStatus, StepStatus, WorkStatus
from engine.store.models import StepRunRow, WorkItemRow

# Worker passes in one "run what is due now": more means background work that never ends.
MAX_PASSES = 200
TEMPLATE = "{{"


class ScenarioFailed(Exception):
    def __init__(self, line: int, said: str, happened: list[str]) -> None:
        self.line, self.said, self.happened = line, said, happened


def _said(step: Step) -> str:
    body = step.body
    if hasattr(body, "model_dump"):
        shown = json.dumps(body.model_dump(mode="json", exclude_defaults=True, by_alias=True))
    else:
        shown = json.dumps(body)
    return f"{step.action}: {shown}"


@dataclass(frozen=True)
class _Item:
    """What acting on a work item needs to know of it."""

    id: int
    step: str
    status: str
    assignee_kind: str
    assignee: str
    claimed_by: str | None


def _stores_a_version(scenario: Scenario) -> bool:
    return any(
        isinstance(step.body, Intervene) and step.body.definition is not None
        for step in scenario.steps
    )


class ScenarioRun:
    """One scenario, from its start to its last step."""

    def __init__(
        self,
        file: ScenarioFile,
        world: World,
        scenario: Scenario,
        folder: str,
        slot: Slot | None = None,
    ) -> None:
        self.slot = None if _stores_a_version(scenario) else slot
        self.file = file
        self.world = world
        self.scenario = scenario
        self.folder = folder
        self.clock = Clock(frozen_at=scenario.now)
        self.records = dict(world.records)
        self.run_id: int | None = None
        self.worker_errors: list[str] = []
        self.answers = Answers([*scenario.stubs, *file.setup.stubs], world.definition, self.clock)
        self.baton: Baton | None = None

    # ------------------------------------------------------------ running

    def run(self) -> ScenarioResult:
        began = time.perf_counter()
        scenario = self.scenario
        failure: Failure | None = None
        path = str(Path(self.folder) / f"scenario-{id(self)}.sqlite3")
        with ExitStack() as stack:
            stack.enter_context(using(self.clock))
            stack.enter_context(answered_by(self.answers))
            if self.slot is not None:
                self.baton = self.slot.fresh()
            else:
                fresh_copy(self.world, path)
                self.baton = Baton(path)
                stack.callback(remove_database, path)
                stack.callback(self.baton.close)
            line, said = scenario.start_line, "start"
            try:
                self.start()
                for step in scenario.steps:
                    line, said = step.line, _said(step)
                    self.do(step)
            except ScenarioFailed as exc:
                failure = Failure(exc.line, exc.said, exc.happened, self.history())
            except Exception as exc:  # a scenario that breaks is its failure, never a crash
                broke = f"the scenario could not go on: {type(exc).__name__}: {exc}"
                failure = Failure(line, said, [broke], self.history())
            try:
                reached, elements = self.reached()
            except Exception:  # coverage of a scenario that broke the database: none
                reached, elements = set(), []
        return ScenarioResult(
            self.file.path,
            scenario.name,
            scenario.line,
            self.world.definition.name,
            failure is None,
            time.perf_counter() - began,
            failure,
            elements,
            frozenset(reached),
        )

    @property
    def system(self) -> Baton:
        assert self.baton is not None
        return self.baton.as_user(None)

    def acting(self, who: str | None) -> Baton:
        assert self.baton is not None
        return self.baton.as_user(who)

    def history(self) -> list[str]:
        if self.run_id is None or self.baton is None:
            return []
        try:
            return history_lines(self.system.runs.show(self.run_id).log, self.scenario.zone)
        except Exception:  # the history is help for the reader; its absence is no failure
            return []

    @contextmanager
    def refusal(self, line: int, said: str, refused: str | None) -> Iterator[None]:
        """Run an action: a refusal fails the scenario unless ``refused`` expects it."""
        try:
            yield
        except BatonError as exc:
            message = exc.describe()
            if refused is None:
                raise ScenarioFailed(line, said, [f"it was refused: {message}"]) from None
            if refused.lower() not in message.lower():
                raise ScenarioFailed(
                    line, said, [f"it was refused, but saying: {message}"]
                ) from None
            return
        if refused is not None:
            raise ScenarioFailed(line, said, [f"expected it refused ('{refused}'); it was done"])

    def start(self) -> None:
        body = self.scenario.start
        line = self.scenario.start_line
        said = "start"
        definition = self.world.definition
        who = self.acting(body.as_)
        inputs = self.render(body.inputs)
        with self.refusal(line, said, body.refused):
            if definition.trigger is not None:
                before = {r.id for r in self.system.runs.list(orchestration=definition.name)}
                if isinstance(body.record, str):
                    who.records.update(self.records[body.record], self.render(dict(body.values)))
                elif body.record is not None:
                    made = who.records.create(
                        body.record.type,
                        self.render(dict(body.record.values)),
                        owner=body.record.owner,
                    )
                    self.records["record"] = made.id
                else:
                    raise ScenarioFailed(
                        line,
                        said,
                        ["a record-triggered orchestration starts with start: {record: …}"],
                    )
                runs = [
                    r
                    for r in self.system.runs.list(orchestration=definition.name)
                    if r.id not in before
                ]
                if not runs:
                    raise BatonError(
                        "the record did not meet the trigger's criteria: no run started"
                    )
                self.run_id = min(r.id for r in runs)
            else:
                record_id = self.records.get(body.record) if isinstance(body.record, str) else None
                if body.record is not None and not isinstance(body.record, str):
                    record_id = who.records.create(
                        body.record.type,
                        self.render(dict(body.record.values)),
                        owner=body.record.owner,
                    ).id
                self.run_id = who.runs.start(definition.name, inputs, record_id=record_id).id

    def do(self, step: Step) -> None:
        body, line, said = step.body, step.line, _said(step)
        if step.action not in ("expect", "save_record") and self.run_id is None:
            raise ScenarioFailed(line, said, ["no run was started"])
        if isinstance(body, Expect):
            self.expect(body, line, said)
        elif isinstance(body, Complete):
            item = self.item(body.step, line, said)
            who = body.as_ or self.default_person(item, line, said)
            with self.refusal(line, said, body.refused):
                self.acting(who).work.complete(
                    item.id,
                    self.render(dict(body.fields)),
                    user=who,
                    outcome=body.outcome,
                    comment=body.comment,
                )
        elif isinstance(body, Reassign):
            item = self.item(body.step, line, said)
            with self.refusal(line, said, body.refused):
                outcome = self.acting(body.as_).work.reassign(
                    [item.id], _target(body.to), body.reason
                )[0]
                if not outcome.done:
                    raise BatonError(outcome.message)
        elif isinstance(body, Claim):
            item = self.item(body.step, line, said)
            who = body.as_ or self.default_person(item, line, said)
            with self.refusal(line, said, body.refused):
                work = self.acting(who).work
                (work.claim if step.action == "claim" else work.release)(item.id, user=who)
        elif step.action == "run_background":
            self.run_background(str(body))
        elif isinstance(body, Advance):
            self.advance(body, line, said)
        elif isinstance(body, PublishEvent):
            with self.refusal(line, said, body.refused):
                self.acting(body.as_).events.publish(
                    body.name, str(self.render(body.key)), self.render(dict(body.data))
                )
        elif isinstance(body, SaveRecord):
            self.save_record(body, line, said)
        elif isinstance(body, Intervene):
            self.intervene(body, line, said)

    # ------------------------------------------------------------ steps

    def item(self, step: str, line: int, said: str) -> _Item:
        """The step's open work item in the run, else its latest one (to be refused)."""
        assert self.baton is not None
        name = step.split(".", 1)[1] if "." in step else step
        with self.baton.db.read() as session:
            rows = session.execute(
                select(
                    WorkItemRow.id,
                    WorkItemRow.step,
                    WorkItemRow.status,
                    WorkItemRow.assignee_kind,
                    WorkItemRow.assignee,
                    WorkItemRow.claimed_by,
                )
                .where(WorkItemRow.run_id == self.run_id, WorkItemRow.step == name)
                .order_by(WorkItemRow.id)
            ).all()
        items = [_Item(*row) for row in rows]
        open_items = [i for i in items if i.status in WorkStatus.OPEN]
        if open_items:
            return open_items[-1]
        if items:
            return items[-1]
        raise ScenarioFailed(line, said, [f"there is no work on {name}; {self.waiting()}"])

    def default_person(self, item: _Item, line: int, said: str) -> str:
        if item.claimed_by:
            return item.claimed_by
        if item.assignee_kind == "user":
            return item.assignee
        raise ScenarioFailed(
            line,
            said,
            [
                f"{item.step} is assigned to {item.assignee_kind} {item.assignee}: say who acts with as:"
            ],
        )

    def settle(self) -> None:
        """Run everything due now: background steps and timers, until nothing moves."""
        assert self.baton is not None
        db = self.baton.db
        for _ in range(MAX_PASSES):
            steps = run_due(db, owner="baton-test")
            timers = fire_due_timers(db)
            self.worker_errors += [*steps.errors, *timers.errors]
            if not (steps.steps_run or timers.fired):
                return

    def run_background(self, which: str) -> None:
        if which == "all":
            self.settle()
            return
        from engine.runtime.worker import StepRunner

        assert self.baton is not None
        name = which.split(".", 1)[1] if "." in which else which
        with self.baton.db.read() as session:
            ids = list(
                session.scalars(
                    select(StepRunRow.id).where(
                        StepRunRow.run_id == self.run_id,
                        StepRunRow.step == name,
                        StepRunRow.status == StepStatus.IN_PROGRESS,
                        StepRunRow.available_at <= self.clock.now(),
                    )
                )
            )
        for step_run_id in ids:
            StepRunner(self.baton.db, step_run_id, "baton-test").run()

    def advance(self, body: Advance, line: int, said: str) -> None:
        assert self.baton is not None
        db = self.baton.db
        if body.by is not None:
            calendar = self.world.definition.calendar
            target = self.system.calendars.due(self.clock.now(), body.by, calendar)
            journey = travel(db, self.clock, target, self.settle)
            if journey.cut_short:
                raise ScenarioFailed(
                    line, said, [f"time stopped after {MAX_STOPS} due moments: {self.waiting()}"]
                )
            return
        until = body.until
        if until == "next timer":
            if to_next_due(db, self.clock, self.settle) is None:
                raise ScenarioFailed(line, said, [f"nothing is waiting on time: {self.waiting()}"])
            return
        if until == "done":
            self.settle()
            for _ in range(MAX_STOPS):
                if self.detail().run.status != RunStatus.IN_PROGRESS:
                    return
                if to_next_due(db, self.clock, self.settle) is None:
                    raise ScenarioFailed(line, said, [self.waiting()])
            raise ScenarioFailed(
                line, said, [f"still running after {MAX_STOPS} due moments: {self.waiting()}"]
            )
        target = parse_moment(until, self.scenario.zone)
        if target < self.clock.now():
            raise ScenarioFailed(
                line,
                said,
                [
                    f"that is before now ({self.clock.now().astimezone(self.scenario.zone):%Y-%m-%d %H:%M}): time only moves forward"
                ],
            )
        travel(db, self.clock, target, self.settle)

    def save_record(self, body: SaveRecord, line: int, said: str) -> None:
        """Create or update a record; before the scenario has a run, a save that starts
        one (a record trigger) gives it its run."""
        name = self.world.definition.name
        before = {r.id for r in self.system.runs.list(orchestration=name, limit=1000)}
        self._save_record(body, line, said)
        if self.run_id is None and body.refused is None:
            new = [r.id for r in self.system.runs.list(orchestration=name) if r.id not in before]
            if not new:
                raise ScenarioFailed(line, said, ["the save started no run of " + name])
            self.run_id = min(new)

    def _save_record(self, body: SaveRecord, line: int, said: str) -> None:
        who = self.acting(body.as_)
        values = self.render(dict(body.values))
        with self.refusal(line, said, body.refused):
            if body.type is not None and body.record is None:
                made = who.records.create(body.type, values, owner=body.owner)
                if body.alias:
                    self.records[body.alias] = made.id
                return
            if isinstance(body.record, str):
                record_id: int | None = self.records[body.record]
            elif isinstance(body.record, int):
                record_id = body.record
            else:
                record_id = self.detail().run.record_id if self.run_id is not None else None
            if record_id is None:
                raise ScenarioFailed(line, said, ["the run has no record: name one with record:"])
            if body.owner is not None:
                values["owner"] = body.owner
            who.records.update(record_id, values)

    def intervene(self, body: Intervene, line: int, said: str) -> None:
        assert self.run_id is not None
        runs = self.acting(body.as_).runs
        run_id, reason = self.run_id, body.reason
        with self.refusal(line, said, body.refused):
            if body.action == "migrate":
                version = body.version
                if body.definition is not None:
                    stored = self.system.definitions.import_file(
                        self.file.resolve(body.definition), activate=True
                    )
                    version = stored.number
                if version is None:
                    raise ScenarioFailed(
                        line, said, ["say which version: version: N or definition: FILE"]
                    )
                runs.migrate(run_id, version, reason)
            elif body.action == "retry":
                runs.retry_step(run_id, reason, step=body.step)
            elif body.action == "skip":
                runs.skip_step(run_id, body.step or "", reason, self.render(dict(body.outputs)))
            elif body.action == "jump":
                runs.jump_to_stage(run_id, body.stage or "", reason)
            else:
                getattr(runs, body.action)(run_id, reason)

    # ------------------------------------------------------------ looking

    def detail(self) -> RunDetail:
        assert self.run_id is not None
        return self.system.runs.show(self.run_id)

    def expect(self, body: Expect, line: int, said: str) -> None:
        if self.run_id is None:
            raise ScenarioFailed(line, said, ["no run was started"])
        detail = self.detail()
        record = None
        if detail.run.record_id is not None:
            record = self.system.records.get(detail.run.record_id).data
        records = {
            alias: self.system.records.get(record_id).data
            for alias, record_id in self.records.items()
            if alias in body.records
        }
        emails = list(reversed(self.system.mail.list(limit=1000)))
        snapshot = Snapshot(detail, emails, record, records, self.world.users, self.scenario.zone)
        wrong = check(body, snapshot)
        if wrong:
            if detail.run.status == RunStatus.IN_PROGRESS:
                wrong.append(self.waiting(detail))
            if self.answers.unanswered:
                wrong.append(
                    f"external calls no stub answered: {', '.join(self.answers.unanswered)}"
                )
            if self.worker_errors:
                wrong.append(f"the worker met: {'; '.join(self.worker_errors[:3])}")
            raise ScenarioFailed(line, said, wrong)

    def waiting(self, detail: RunDetail | None = None) -> str:
        """``stuck at review: waiting for …``: what the run waits on now."""
        if self.run_id is None:
            return "no run was started"
        assert self.baton is not None
        return stuck_at(
            self.baton,
            self.world.definition,
            detail or self.detail(),
            self.clock.now(),
            self.scenario.zone,
        )

    def reached(self) -> tuple[set[str], list[str]]:
        """Coverage keys the scenario's runs of the tested orchestration reached, and the
        path of elements its own run took."""
        if self.baton is None:
            return set(), []
        return reached_by(self.baton, self.world.definition.name, self.run_id)

    # ------------------------------------------------------------ templates

    def render(self, value: Any) -> Any:
        """``{{ run.id }}``, ``{{ records.acme.id }}``, ``{{ vars.amount }}`` in values."""
        if isinstance(value, dict):
            return {k: self.render(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v) for v in value]
        if not isinstance(value, str) or TEMPLATE not in value:
            return value
        names = {
            "run": {"id": self.run_id},
            "records": {alias: {"id": rid} for alias, rid in self.records.items()},
            "vars": self.detail().variables if self.run_id is not None else {},
        }
        stripped = value.strip()
        if stripped.startswith("{{") and stripped.endswith("}}") and stripped.count("{{") == 1:
            return _evaluate(stripped[2:-2].strip(), names)
        out, rest = [], value
        while "{{" in rest:
            before, _, after = rest.partition("{{")
            expression, _, rest = after.partition("}}")
            out += [before, str(_evaluate(expression.strip(), names))]
        return "".join([*out, rest])


def _evaluate(expression: str, names: dict[str, Any]) -> Any:
    try:
        return evaluate(expression, names)
    except (ExpressionError, ValueError, TypeError, KeyError) as exc:
        raise BatonError(f"'{{{{ {expression} }}}}' cannot be worked out: {exc}") from None


def _target(text: str) -> str:
    return text if ":" in text else f"user:{text}"


def run_scenarios(
    file: ScenarioFile, world: World, names: list[str] | None = None
) -> list[ScenarioResult]:
    """Run the file's scenarios (or those named) one after another in this process."""
    with tempfile.TemporaryDirectory(prefix="baton-test-") as folder:
        slot = Slot(world, folder)
        try:
            return [
                ScenarioRun(file, world, scenario, folder, slot).run()
                for scenario in file.scenarios
                if names is None or scenario.name in names
            ]
        finally:
            slot.close()


# ScenarioResult and Failure live in engine.scenarios.results; they are named here too, where
# callers have always found them.
__all__ = ["Failure", "ScenarioFailed", "ScenarioResult", "ScenarioRun", "run_scenarios"]
