"""Try it: a draft run for real in a scratch database, with the same people, queues, calendars
and record types as the real one, and nothing of it reaching the real one.

    trial = Trial.open(baton, draft_data, "/tmp/scratch")
    run_id = trial.start({"amount": 5000})
    trial.complete(item_id, "alice", {"risk": "low"}, outcome="approve")
    state = trial.state(run_id)   # statuses of stages and steps, open work and who may do it
    trial.advance(by="2 business days")   # time travel: timers, waits, escalations fire

A trial keeps a time of its own (``trial.clock``): travelling in it never moves the real
database's time, and what was done is journaled so the session can be recorded as a scenario
(``engine.scenarios.recording``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.clock import Clock, using
from engine.definitions import DefinitionError, load_data
from engine.definitions.objects import ObjectType
from engine.errors import BatonError, InvalidInput
from engine.runtime import timetravel
from engine.services.baton import Baton
from engine.services.definitions import definition_error
from engine.services.dto import LogEntry, RunSummary, WorkItemInfo
from engine.services.runs import canvas_statuses
from engine.statuses import WorkStatus

# A run of a draft that loops forever must not keep the designer busy forever.
MAX_WORKER_PASSES = 200


@dataclass(frozen=True)
class OpenItem:
    item: WorkItemInfo
    people: list[str]  # who may do it


@dataclass
class TrialState:
    run: RunSummary
    statuses: dict[tuple[str, str | None], tuple[str, str | None]]  # key → (status, detail)
    items: list[OpenItem] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Done:
    """One thing done in a trial, at the trial's time: for recording it as a scenario."""

    at: dt.datetime
    action: str  # start | complete | advance
    details: dict[str, Any]


class Trial:
    def __init__(self, scratch: Baton, name: str, owner: str) -> None:
        self.scratch = scratch
        self.name = name
        self.owner = owner
        self.clock = Clock()
        self.journal: list[Done] = []

    @classmethod
    def open(cls, source: Baton, data: dict[str, Any], folder: str | Path) -> Trial:
        """A scratch database in ``folder`` holding the draft (active) and a copy of the real
        database's people, groups, queues, calendars and record types."""
        try:
            definition = load_data(data)
        except DefinitionError as exc:
            raise definition_error(exc) from None
        path = Path(folder) / "try-it.db"
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        scratch = Baton(str(path))
        system = scratch.as_user(None)
        users = source.directory.users()
        for user in users:
            system.directory.create_user(
                user.username, display_name=user.display_name, email=user.email, role=user.role
            )
        for kind in ("group", "queue"):
            for group in source.directory.groups(kind):
                system.directory.create_group(kind, group.name, label=group.label)
                for member in group.members:
                    system.directory.add_member(kind, group.name, member)
        for calendar in source.calendars.list():
            system.calendars.define(
                calendar.name,
                timezone=calendar.timezone,
                hours=calendar.hours,
                holidays=calendar.holidays,
            )
        for object_type in source.records.types():
            system.records.define_type(
                ObjectType.model_validate(
                    {
                        "name": object_type.name,
                        "label": object_type.label,
                        "title_field": object_type.title_field,
                        "fields": object_type.fields,
                    }
                )
            )
        system.definitions.save(definition, activate=True)
        owner = source.actor or next((u.username for u in users if u.role == "admin"), "")
        return cls(scratch.as_user(owner or None), definition.name, owner)

    def start(self, inputs: dict[str, Any], record: dict[str, Any] | None = None) -> int:
        """Start a run: with ``record`` (record-triggered drafts) by creating that record."""
        at = self.clock.now()
        with using(self.clock):
            run_id = self._start(inputs, record)
        self.journal.append(
            Done(at, "start", {"inputs": dict(inputs), "record": record, "run": run_id})
        )
        return run_id

    def _start(self, inputs: dict[str, Any], record: dict[str, Any] | None) -> int:
        _, definition = self.scratch.definitions.get(self.name)
        if definition.trigger is not None:
            before = {r.id for r in self.scratch.runs.list(orchestration=self.name)}
            self.scratch.records.create(definition.trigger.object, dict(record or {}))
            self.drive()
            runs = [
                r for r in self.scratch.runs.list(orchestration=self.name) if r.id not in before
            ]
            if not runs:
                raise InvalidInput(
                    "the record did not meet the trigger's criteria, so no run started"
                )
            return runs[0].id
        run = self.scratch.runs.start(self.name, inputs)
        self.drive()
        return run.id

    def drive(self) -> int:
        """Run background steps and due timers until nothing is left to do now."""
        with using(self.clock):
            return self._drive()

    def _drive(self) -> int:
        passes = 0
        while passes < MAX_WORKER_PASSES:
            report = self.scratch.worker.run_once()
            passes += 1
            if not (report.steps_run or report.timers_fired):
                break
        return passes

    def complete(
        self,
        item_id: int,
        user: str,
        values: dict[str, Any],
        *,
        outcome: str | None = None,
        comment: str | None = None,
    ) -> None:
        at = self.clock.now()
        with using(self.clock):
            item = self.scratch.as_user(user).work.complete(
                item_id, values, outcome=outcome, comment=comment or None
            )
            self._drive()
        self.journal.append(
            Done(
                at,
                "complete",
                {
                    "run": item.run_id,
                    "step": item.step,
                    "as": user,
                    "fields": dict(values),
                    "outcome": outcome,
                    "comment": comment or None,
                },
            )
        )

    def advance(self, *, by: str | None = None, next_due: bool = False) -> dt.datetime:
        """Travel in the trial's time: ``by`` a duration ('3 hours', '2 business days' in the
        orchestration's calendar) or to the ``next_due`` moment (the next timer, wait or retry). What
        falls due on the way happens at its own moment. Returns the trial's new time."""
        if (by is None) == (not next_due):
            raise InvalidInput("advance by a duration, or to the next due moment")
        if by is not None and by.strip().startswith("-"):
            raise InvalidInput(f"'{by}': a trial's time only moves forward")
        with using(self.clock):
            if by is not None:
                _, definition = self.scratch.definitions.get(self.name)
                target = self.scratch.calendars.due(self.clock.now(), by, definition.calendar)
                journey = timetravel.travel(self.scratch.db, self.clock, target, self._drive)
                if journey.cut_short:
                    raise InvalidInput(
                        f"time stopped after {timetravel.MAX_STOPS} due moments: a step keeps falling due"
                    )
            elif timetravel.to_next_due(self.scratch.db, self.clock, self._drive) is None:
                raise InvalidInput("nothing in this trial is waiting on time")
        self.journal.append(Done(self.clock.now(), "advance", {"by": by}))
        return self.clock.now()

    def now(self) -> dt.datetime:
        """The trial's time."""
        return self.clock.now()

    def details(self, item_id: int, user: str) -> Any:
        with using(self.clock):
            return self.scratch.as_user(user).work.details(item_id)

    def state(self, run_id: int) -> TrialState:
        with using(self.clock):
            return self._state(run_id)

    def _state(self, run_id: int) -> TrialState:
        detail = self.scratch.runs.show(run_id, log_limit=200)
        open_items = [
            OpenItem(item, self._people(item))
            for item in detail.work_items
            if item.status in WorkStatus.OPEN
        ]
        return TrialState(
            detail.run, canvas_statuses(detail), open_items, detail.log, detail.variables
        )

    def _people(self, item: WorkItemInfo) -> list[str]:
        if item.claimed_by:
            return [item.claimed_by]
        if item.assignee_kind == "user":
            return [item.assignee]
        try:
            group = next(
                g
                for g in self.scratch.directory.groups(item.assignee_kind)
                if g.name == item.assignee
            )
        except (StopIteration, BatonError):
            return []
        return list(group.members)

    def close(self) -> None:
        self.scratch.close()
