"""A draft as the designer sees it, live: its problems and review findings, each placed on the
element or step it is about, and the names an expression in it may use."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.definitions.checks import INTERACTIVE_OUTPUTS, RUN_FIELDS, STEP_FIELDS, Checker
from engine.definitions.loading import validate_raw
from engine.definitions.model import Orchestration
from engine.definitions.problems import DefinitionError, Path, Problem
from engine.definitions.reader import RawDefinition
from engine.definitions.review import Finding, review
from engine.expressions.helpers import HELPERS


@dataclass(frozen=True)
class Placed:
    """A problem or finding with the element and step it marks on the canvas."""

    severity: str  # error | critical | high | medium
    element: str | None
    step: str | None
    message: str
    fix: str = ""
    where: str = ""


@dataclass
class Inspection:
    definition: Orchestration | None  # None while the draft has problems
    problems: list[Placed] = field(default_factory=list)
    findings: list[Placed] = field(default_factory=list)

    @property
    def all(self) -> list[Placed]:
        return [*self.problems, *self.findings]

    @property
    def valid(self) -> bool:
        return self.definition is not None


def place(data: Mapping[str, Any], path: Path) -> tuple[str | None, str | None]:
    """The element and step named by a problem's path, e.g. ('elements', 1, 'steps', 0, …)."""
    if len(path) < 2 or path[0] != "elements" or not isinstance(path[1], int):
        return None, None
    items = data.get("elements") or []
    if not 0 <= path[1] < len(items) or not isinstance(items[path[1]], dict):
        return None, None
    owner = items[path[1]]
    element = str(owner.get("name"))
    if len(path) >= 4 and path[2] == "steps" and isinstance(path[3], int):
        steps = owner.get("steps") or []
        if 0 <= path[3] < len(steps) and isinstance(steps[path[3]], dict):
            return element, str(steps[path[3]].get("name"))
    return element, None


def _placed_problem(data: Mapping[str, Any], problem: Problem) -> Placed:
    element, step = place(data, problem.path)
    return Placed("error", element, step, problem.message, "", problem.location)


def _placed_finding(finding: Finding) -> Placed:
    return Placed(
        finding.severity.value,
        finding.element,
        finding.step,
        finding.message,
        finding.fix,
        finding.location,
    )


def inspect(data: dict[str, Any], *, queue_members: Mapping[str, int] | None = None) -> Inspection:
    """Validate ``data`` and, when it is valid, review it."""
    copy = json.loads(json.dumps(data, default=str))
    try:
        definition = validate_raw(RawDefinition(copy))
    except DefinitionError as exc:
        return Inspection(None, [_placed_problem(data, p) for p in exc.problems])
    found = review(definition, queue_members=queue_members)
    return Inspection(definition, [], [_placed_finding(f) for f in found])


def check_expression(
    data: dict[str, Any], text: str, *, local: tuple[str, ...] = (), record: bool = True
) -> str:
    """What is wrong with expression ``text`` in this draft, or '' when nothing is."""
    checker = Checker(data)
    checker.expression((), text, local=local, record=record)
    return "; ".join(p.message.split(": ", 1)[-1] for p in checker.problems)


def expression_names(data: dict[str, Any], record_fields: Iterable[str] = ()) -> list[str]:
    """Every name an expression in this draft may use, for completion: variables, record
    fields, stages and their steps' outputs, run fields and helper functions."""
    checker = Checker(data)
    names = [f"vars.{v}" for v in sorted(checker.variables)]
    names += ["record.id", "record.owner", *(f"record.{f}" for f in record_fields)]
    names += [f"run.{f}" for f in RUN_FIELDS]
    for stage_name, stage in checker.stages.items():
        names += [f"{stage_name}.status", f"{stage_name}.visits"]
        for step in stage.get("steps") or []:
            if not isinstance(step, dict) or not isinstance(step.get("name"), str):
                continue
            prefix = f"{stage_name}.{step['name']}"
            names += [f"{prefix}.{f}" for f in STEP_FIELDS if f != "outputs"]
            outputs = checker._step_outputs(step)
            if outputs is None and step.get("kind") == "interactive":
                outputs = set(INTERACTIVE_OUTPUTS)
            names += [f"{prefix}.outputs.{o}" for o in sorted(outputs or ())]
    names += [f"{h}(" for h in sorted(HELPERS)]
    return names
