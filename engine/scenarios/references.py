"""Names a scenario uses, checked against the definition and the setup before anything runs:
a step, stage, field, outcome, user or record that does not exist is refused with its line
and the nearest name that does."""

from __future__ import annotations

from collections.abc import Iterable

from engine.definitions.model import InteractiveStep, Orchestration
from engine.definitions.problems import DefinitionError, Path, Problem
from engine.scenarios.format import Scenario, ScenarioFile
from engine.scenarios.model import (
    Claim,
    Complete,
    Expect,
    Intervene,
    LogExpect,
    PublishEvent,
    Reassign,
    SaveRecord,
    Start,
)
from engine.scenarios.setup import World
from engine.text import did_you_mean


class _Checker:
    def __init__(self, file: ScenarioFile, world: World) -> None:
        self.file = file
        self.world = world
        definition: Orchestration = world.definition
        self.steps = {s.name: s for stage in definition.stages() for s in stage.steps}
        self.qualified = {
            f"{stage.name}.{s.name}" for stage in definition.stages() for s in stage.steps
        }
        self.stages = {s.name for s in definition.stages()}
        self.elements = {e.name for e in definition.elements}
        self.problems: list[Problem] = []
        self.aliases = set(world.records)

    def refuse(self, where: Path, what: str, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        hint = did_you_mean(name, known) or (
            f" (there are: {', '.join(known[:8])})" if known else ""
        )
        self.problems.append(
            Problem(where, f"there is no {what} '{name}'{hint}", self.file.line_of(where))
        )

    def user(self, where: Path, name: str | None) -> None:
        if name is not None and name not in self.world.users:
            self.refuse(where, "user", name, self.world.users)

    def step(self, where: Path, name: str) -> InteractiveStep | None:
        if name in self.qualified:
            name = name.split(".", 1)[1]
        found = self.steps.get(name)
        if found is None:
            self.refuse(where, f"step in {self.world.definition.name}", name, self.steps)
            return None
        return found if isinstance(found, InteractiveStep) else None

    def assignee(self, where: Path, text: str) -> None:
        kind, _, name = text.partition(":")
        if not name:
            kind, name = "user", kind
        pools: dict[str, set[str]] = {
            "user": set(self.world.users),
            "queue": set(self.world.queues),
            "group": set(self.world.groups),
        }
        if kind not in pools:
            self.problems.append(
                Problem(
                    where,
                    f"'{text}': write user:NAME, queue:NAME or group:NAME",
                    self.file.line_of(where),
                )
            )
        elif name not in pools[kind]:
            self.refuse(where, kind, name, pools[kind])

    def complete(self, where: Path, body: Complete) -> None:
        self.user(where, body.as_)
        step = self.step(where, body.step)
        if step is None or step.form is None:
            if body.step in self.steps and not isinstance(self.steps[body.step], InteractiveStep):
                self.problems.append(
                    Problem(
                        where,
                        f"'{body.step}' is a background step: no one completes it",
                        self.file.line_of(where),
                    )
                )
            return
        form = self.world.definition.forms.get(step.form)
        if form is None:
            self.refuse(where, "form", step.form, self.world.definition.forms)
            return
        fields = {f.name for f in form.fields}
        for name in body.fields:
            if name not in fields:
                self.refuse(where, f"field of form '{step.form}'", name, fields)
        outcomes = {o.name for o in form.outcomes}
        if body.outcome is not None and body.outcome not in outcomes:
            self.refuse(where, f"outcome of form '{step.form}'", body.outcome, outcomes)

    def record(self, where: Path, alias: str | int | None) -> None:
        if isinstance(alias, str) and alias not in self.aliases:
            self.refuse(where, "record named", alias, self.aliases)

    def record_type(self, where: Path, name: str | None, values: Iterable[str]) -> None:
        if name is None:
            return
        fields = self.world.object_types.get(name)
        if fields is None:
            self.refuse(where, "object type", name, self.world.object_types)
            return
        for value in values:
            if value != "owner" and value not in fields:
                self.refuse(where, f"field of {name}", value, fields)

    def start(self, scenario: Scenario, body: Start) -> None:
        where = (*scenario.path, "start")
        self.user(where, body.as_)
        variables = {v.name for v in self.world.definition.variables if v.input}
        for name in body.inputs:
            if name not in variables:
                self.refuse(
                    where, f"input variable of {self.world.definition.name}", name, variables
                )
        if isinstance(body.record, str):
            self.record(where, body.record)
            kinds = {a: s.type for a, s in self.file.setup.records.items()}
            self.record_type(where, kinds.get(body.record), body.values)
        elif body.record is not None:
            self.record_type(where, body.record.type, body.record.values)

    def expect(self, where: Path, body: Expect) -> None:
        for name in body.steps:
            self.step(where, name)
        for name in body.outputs:
            self.step(where, name)
        for name in body.stages:
            if name not in self.stages:
                self.refuse(where, "stage", name, self.stages)
        if body.stage is not None and body.stage not in self.elements:
            self.refuse(where, "stage", body.stage, self.elements)
        for item in body.work:
            self.step(where, item.step)
            self.user(where, item.claimed_by)
            self.user(where, item.completed_by)
            if item.assigned_to is not None:
                self.assignee(where, item.assigned_to)
        for alias in body.records:
            self.record(where, alias)
        for email in body.emails:
            if email.to is not None and "@" not in email.to:
                self.user(where, email.to)
        for entry in body.log:
            if isinstance(entry, LogExpect) and entry.step is not None:
                self.step(where, entry.step)

    def check(self, scenario: Scenario) -> None:
        self.start(scenario, scenario.start)
        for stub in scenario.stubs:
            if stub.step is not None:
                self.step((*scenario.path, "stubs"), stub.step)
        for step in scenario.steps:
            body, where = step.body, step.path
            if isinstance(body, Complete):
                self.complete(where, body)
            elif isinstance(body, Reassign):
                self.step(where, body.step)
                self.user(where, body.as_)
                self.assignee(where, body.to)
            elif isinstance(body, Claim):
                self.step(where, body.step)
                self.user(where, body.as_)
            elif isinstance(body, Expect):
                self.expect(where, body)
            elif isinstance(body, PublishEvent):
                self.user(where, body.as_)
            elif isinstance(body, SaveRecord):
                self.user(where, body.as_)
                self.record(where, body.record)
                self.record_type(where, body.type, body.values)
                if body.alias:
                    self.aliases.add(body.alias)
            elif isinstance(body, Intervene):
                self.user(where, body.as_)
                if body.step is not None:
                    self.step(where, body.step)
                if body.stage is not None and body.stage not in self.stages:
                    self.refuse(where, "stage", body.stage, self.stages)
            elif step.action == "run_background" and body != "all":
                self.step(where, str(body))


def check_references(file: ScenarioFile, world: World) -> None:
    """Raise DefinitionError naming every unknown name in every scenario of the file."""
    checker = _Checker(file, world)
    for stub in file.setup.stubs:
        if stub.step is not None:
            checker.step(("setup", "stubs"), stub.step)
    for scenario in file.scenarios:
        checker.aliases = set(world.records)
        checker.check(scenario)
    if checker.problems:
        raise DefinitionError(sorted(checker.problems, key=lambda p: p.line or 0), file.path)
