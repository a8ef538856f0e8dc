"""Coverage: which stages, steps, decision outcomes and loop-backs of an orchestration the
scenarios reached, as data (for a table, or an overlay on the canvas) per element."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.definitions.model import Decision, Orchestration, Stage

if TYPE_CHECKING:
    from engine.scenarios.results import ScenarioResult


@dataclass(frozen=True)
class Item:
    """One thing that can be reached: ``key`` is what results carry in ``reached``."""

    key: str
    kind: str  # stage | step | outcome | loop
    element: str  # the stage or decision it belongs to (for the canvas)
    name: str  # the step, the outcome ('default' for a decision's default), the loop's target
    scenarios: tuple[str, ...] = ()  # which scenarios reached it

    @property
    def reached(self) -> bool:
        return bool(self.scenarios)


@dataclass(frozen=True)
class Coverage:
    orchestration: str
    items: list[Item]

    @property
    def reached(self) -> int:
        return sum(1 for i in self.items if i.reached)

    @property
    def percent(self) -> float:
        return 100.0 * self.reached / len(self.items) if self.items else 100.0

    def missed(self) -> list[Item]:
        return [i for i in self.items if not i.reached]

    def of_element(self, name: str) -> list[Item]:
        return [i for i in self.items if i.element == name]


def _loop_backs(definition: Orchestration) -> list[tuple[str, str, str]]:
    """(source, via, target) of every ``next`` that points back to an earlier element (or
    itself): the Go To arrows that make loops."""
    index = definition.element_index
    out = []
    for position, element in enumerate(definition.elements):
        targets: list[tuple[str, str | None]] = []
        if isinstance(element, Stage):
            targets.append(("next", definition.next_of(element)))
        else:
            targets += [(o.name, o.next) for o in element.outcomes]
            targets.append(("default", element.default))
        for via, target in targets:
            if target is not None and target in index and index[target] <= position:
                out.append((element.name, via, target))
    return out


def items_of(definition: Orchestration) -> list[Item]:
    """Everything of ``definition`` a scenario can reach, in the order of the file."""
    items: list[Item] = []
    for element in definition.elements:
        if isinstance(element, Stage):
            items.append(Item(f"stage:{element.name}", "stage", element.name, element.name))
            for step in element.steps:
                key = f"step:{element.name}.{step.name}"
                items.append(Item(key, "step", element.name, step.name))
        elif isinstance(element, Decision):
            for outcome in element.outcomes:
                key = f"outcome:{element.name}.{outcome.name}"
                items.append(Item(key, "outcome", element.name, outcome.name))
            items.append(
                Item(f"outcome:{element.name}.default", "outcome", element.name, "default")
            )
    for source, via, target in _loop_backs(definition):
        items.append(Item(f"edge:{source}>{target}", "loop", source, f"{via} → {target}"))
    return items


def coverage_of(definition: Orchestration, results: Iterable[ScenarioResult]) -> Coverage:
    """How much of ``definition`` the results (of scenarios testing it) reached."""
    results = [r for r in results if r.orchestration == definition.name]
    items = [
        Item(
            item.key,
            item.kind,
            item.element,
            item.name,
            tuple(r.name for r in results if item.key in r.reached),
        )
        for item in items_of(definition)
    ]
    return Coverage(definition.name, items)


@dataclass(frozen=True)
class Logged:
    """What coverage reads of a log entry."""

    event: str
    stage: str | None
    step: str | None
    details: dict[str, object] | None


def elements_entered(log: Iterable[Logged]) -> list[str]:
    """The stages and decisions a run entered, in order, from its log."""
    return [e.stage for e in log if e.event in ("stage_started", "decision") and e.stage]


def coverage_keys(log: Iterable[Logged], path: list[str]) -> set[str]:
    """What a run reached, from its log: the keys ``items_of`` lists."""
    keys: set[str] = set()
    for entry in log:
        if entry.event == "stage_started" and entry.stage:
            keys.add(f"stage:{entry.stage}")
        elif entry.event == "step_started" and entry.stage and entry.step:
            keys.add(f"step:{entry.stage}.{entry.step}")
        elif entry.event == "decision" and entry.stage:
            outcome = (entry.details or {}).get("outcome")
            keys.add(f"outcome:{entry.stage}.{outcome or 'default'}")
    for source, target in itertools.pairwise(path):
        keys.add(f"edge:{source}>{target}")
    return keys
