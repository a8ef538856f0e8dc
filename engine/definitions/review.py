"""Design review: mistakes that validate but hurt in production, each with a one-line fix.

Validation (``checks.py``) refuses what cannot run. Review flags what will run badly: work no
one is assigned, failures no one hears of, loops that never end. It works on a model that has
only been shape-checked, so the designer can show it live on a draft.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from engine.definitions.loading import load_file_located
from engine.definitions.model import (
    BackgroundStep,
    Decision,
    InteractiveStep,
    Orchestration,
    PythonAction,
    Stage,
)
from engine.definitions.problems import Path, describe_position, format_path
from engine.definitions.reader import RawDefinition

# What an importer writes as a Python action's name where it could not carry something over
# (e.g. an Apex action): the action fails with that name until someone replaces it.
NOT_CARRIED_OVER = "not carried over from Salesforce"


class Severity(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    element: str | None  # the stage or decision it is about (for marking the canvas)
    step: str | None
    message: str
    fix: str
    path: Path = ()  # where in the definition, e.g. ('elements', 2, 'steps', 0)
    line: int | None = None  # where in the file, when it was read from one
    column: int | None = None

    @property
    def location(self) -> str:
        return format_path(self.path)

    @property
    def position(self) -> str:
        """``line 12, column 5``, or '' when the finding is not from a file."""
        return describe_position(self.line, self.column) if self.line is not None else ""


VAGUE = re.compile(
    r"^(stage|step|phase|part|task)[ _-]?\d+$|^(processing|process|misc|general|todo|new[ _]stage|"
    r"untitled|stuff|other|work)$",
    re.IGNORECASE,
)


def _edges(definition: Orchestration) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for element in definition.elements:
        targets: set[str | None]
        if isinstance(element, Stage):
            targets = {definition.next_of(element), element.fault}
        else:
            targets = {element.default, *(o.next for o in element.outcomes)}
        edges[element.name] = {t for t in targets if t and t != "end" and definition.element(t)}
    return edges


def _reachable(edges: Mapping[str, set[str]], start: str) -> set[str]:
    seen, pending = {start}, [start]
    while pending:
        for target in edges.get(pending.pop(), ()):
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return seen


def _loops(definition: Orchestration, edges: Mapping[str, set[str]]) -> list[set[str]]:
    """Strongly connected groups of elements that can repeat (Tarjan's algorithm, with an
    explicit stack: a chain of thousands of stages must not exhaust Python's)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def enter(node: str) -> tuple[str, Iterator[str]]:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        return node, iter(edges.get(node, ()))

    for element in definition.elements:
        if element.name in index:
            continue
        work = [enter(element.name)]
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    work.append(enter(target))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    if len(group) > 1 or node in edges.get(node, ()):
                        groups.append(group)
    return groups


def _names(names: Iterable[str], shown: int = 6) -> str:
    """A few names, then how many more: a loop through 5,000 stages stays one short line."""
    ordered = sorted(names)
    text = ", ".join(ordered[:shown])
    return text if len(ordered) <= shown else f"{text} and {len(ordered) - shown:,} more"


def review(
    definition: Orchestration, *, queue_members: Mapping[str, int] | None = None
) -> list[Finding]:
    """Every finding, most severe first. ``queue_members`` (name → active members), when
    known, lets review flag work sent to an empty queue. Each finding carries the path of
    what it is about; ``locate`` turns that into a line and column of the file."""
    found: list[Finding] = []

    def add(
        rule: str,
        severity: Severity,
        path: Path,
        element: str | None,
        step: str | None,
        message: str,
        fix: str,
    ) -> None:
        found.append(Finding(rule, severity, element, step, message, fix, path))

    if not definition.error_recipients:
        add(
            "no_error_recipient",
            Severity.critical,
            ("error_recipients",),
            None,
            None,
            "nobody is told when a run fails",
            "add error_recipients (an address, a user, or queue:NAME)",
        )

    for index, stage in enumerate(definition.elements):
        if not isinstance(stage, Stage):
            continue
        for number, step in enumerate(stage.steps):
            where = f"{stage.name}.{step.name}"
            step_path: Path = ("elements", index, "steps", number)
            if isinstance(step, InteractiveStep):
                if step.assignee is None:
                    add(
                        "no_assignee",
                        Severity.critical,
                        step_path,
                        stage.name,
                        step.name,
                        f"step '{where}' is assigned to nobody",
                        "give it an assignee rule",
                    )
                elif (
                    step.assignee.queue
                    and queue_members is not None
                    and not queue_members.get(step.assignee.queue)
                ):
                    add(
                        "empty_queue",
                        Severity.critical,
                        (*step_path, "assignee", "queue"),
                        stage.name,
                        step.name,
                        f"step '{where}' goes to queue '{step.assignee.queue}', which has no members",
                        f"add people to queue {step.assignee.queue}, or assign it elsewhere",
                    )
            if isinstance(step, BackgroundStep):
                for number_, action in enumerate(step.actions):
                    if isinstance(action, PythonAction) and action.action.startswith(
                        NOT_CARRIED_OVER
                    ):
                        add(
                            "not_carried_over",
                            Severity.critical,
                            (*step_path, "actions", number_),
                            stage.name,
                            step.name,
                            f"step '{where}' holds a placeholder: {action.action}",
                            "replace it with Baton actions that do the same work",
                        )
            if isinstance(step, BackgroundStep) and step.on_failure is None and not stage.fault:
                add(
                    "no_failure_handling",
                    Severity.high,
                    step_path,
                    stage.name,
                    step.name,
                    f"if step '{where}' fails, the whole run stops in Error",
                    "give the stage a fault path, or set on_failure: continue",
                )
        label = stage.label or stage.name
        if VAGUE.match(stage.name) or VAGUE.match(label):
            add(
                "vague_stage_name",
                Severity.medium,
                ("elements", index, "name" if VAGUE.match(stage.name) else "label"),
                stage.name,
                None,
                f"stage '{label}' does not say which business milestone it is",
                "name it for the milestone, e.g. 'Credit Check' or 'Contract Signed'",
            )

    edges = _edges(definition)
    positions = definition.element_index
    for group in _loops(definition, edges):
        members = _names(group)
        leaves = any(target not in group for name in group for target in edges.get(name, ()))
        ends = any(
            (isinstance(e := definition.element(name), Stage) and definition.next_of(e) is None)
            or (
                isinstance(e, Decision)
                and ("end" in {o.next for o in e.outcomes} or e.default == "end")
            )
            for name in group
        )
        if not leaves and not ends:
            first = min(group)
            add(
                "loop_without_exit",
                Severity.high,
                ("elements", positions[first]),
                first,
                None,
                f"the loop through {members} has no way out",
                "give a decision in it an outcome that leaves",
            )
        for name in sorted(group):
            element = definition.element(name)
            if isinstance(element, Stage) and "max_visits" not in element.model_fields_set:
                add(
                    "loop_without_limit",
                    Severity.high,
                    ("elements", positions[name]),
                    name,
                    None,
                    f"stage '{name}' is in a loop ({members}) but sets no max_visits",
                    "set max_visits to how many rounds the business allows",
                )

    if definition.elements:
        reached = _reachable(edges, definition.elements[0].name)
        for index, element in enumerate(definition.elements):
            if element.name not in reached:
                add(
                    "unreachable",
                    Severity.medium,
                    ("elements", index),
                    element.name,
                    None,
                    f"'{element.name}' can never be reached",
                    "connect something to it, or delete it",
                )
    for index, element in enumerate(definition.elements):
        if isinstance(element, Decision) and element.default is None:
            add(
                "decision_without_default",
                Severity.high,
                ("elements", index),
                element.name,
                None,
                f"decision '{element.name}' has nowhere to go when no outcome is true",
                "give it a default",
            )

    stages = definition.stages()
    if len(stages) == 1 and len(definition.elements) == 1:
        people = {
            (s.assignee.describe() if s.assignee else None)
            for s in stages[0].steps
            if isinstance(s, InteractiveStep)
        }
        only_people = all(isinstance(s, InteractiveStep) for s in stages[0].steps)
        if only_people and len(people) == 1:
            add(
                "plain_form_would_do",
                Severity.medium,
                ("elements", 0),
                stages[0].name,
                None,
                "one stage done by one person: a plain form would serve better",
                "use a form, or add the stages and people this process really has",
            )

    order = {Severity.critical: 0, Severity.high: 1, Severity.medium: 2}
    return sorted(found, key=lambda f: order[f.severity])


def locate(findings: Iterable[Finding], raw: RawDefinition) -> list[Finding]:
    """The findings with the line and column of what each is about in the file ``raw`` was
    read from (the nearest enclosing value when the thing itself is absent, e.g. a missing
    default), as validation's problems have them."""
    located = []
    for finding in findings:
        position = raw.position_of(finding.path)
        if position is not None:
            finding = replace(finding, line=position[0], column=position[1])
        located.append(finding)
    return located


def review_file(path: str, *, queue_members: Mapping[str, int] | None = None) -> list[Finding]:
    """Validate the file at ``path`` and review it, each finding placed in the file; raises
    ``DefinitionError`` when the file does not validate."""
    definition, raw = load_file_located(path)
    return locate(review(definition, queue_members=queue_members), raw)
