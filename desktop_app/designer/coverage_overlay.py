"""The Tests tab's canvas overlays, as canvas statuses: coverage (what no scenario reached is
dimmed, the rest says how many scenarios reached it) and one scenario's path (green when it
passed, red when it failed, with the failure on the element where its run stopped)."""

from __future__ import annotations

from collections.abc import Iterable

from desktop_app.designer.items import DIMMED
from desktop_app.designer.layout import Edge
from desktop_app.designer.scene import EdgeKey, Status
from engine.scenarios.coverage import Coverage, Item
from engine.scenarios.results import ScenarioResult

Key = tuple[str, str | None]
REACHED = ""  # no colour of its own: drawn as usual, with how many scenarios reached it
UNREACHED = "no scenario reaches this"


def _count(item: Item) -> str:
    n = len(item.scenarios)
    return f"reached by {n} scenario{'s' if n != 1 else ''}: " + ", ".join(item.scenarios)


def coverage_statuses(coverage: Coverage) -> dict[Key, Status]:
    """(stage, step) → status: unreached stages, steps and decisions dimmed; a decision
    counts as reached when any of its outcomes was taken, and says which were not."""
    out: dict[Key, Status] = {}
    outcomes: dict[str, list[Item]] = {}
    for item in coverage.items:
        if item.kind == "stage":
            key: Key = (item.element, None)
        elif item.kind == "step":
            key = (item.element, item.name)
        else:
            if item.kind == "outcome":
                outcomes.setdefault(item.element, []).append(item)
            continue
        out[key] = (REACHED, _count(item)) if item.reached else (DIMMED, UNREACHED)
    for decision, items in outcomes.items():
        taken = [i for i in items if i.reached]
        if not taken:
            out[(decision, None)] = (DIMMED, UNREACHED)
            continue
        missed = [i.name for i in items if not i.reached]
        text = ", ".join(f"{i.name}: {len(i.scenarios)}" for i in taken)
        if missed:
            text += "\nnever taken: " + ", ".join(missed)
        out[(decision, None)] = (REACHED, text)
    return out


def dimmed_edges(coverage: Coverage, edges: Iterable[Edge]) -> set[EdgeKey]:
    """The arrows no scenario took: a decision's outcome (or default) never chosen, a loop
    back never gone round, and every arrow leaving an element nobody reached."""
    missed = {i.key for i in coverage.items if not i.reached}
    known = {i.key for i in coverage.items}
    reached = {i.element for i in coverage.items if i.kind in ("stage", "outcome") and i.reached}
    out: set[EdgeKey] = set()
    for edge in edges:
        if edge.port.startswith("outcome:") or edge.port == "default":
            key = f"outcome:{edge.source}.{edge.port.removeprefix('outcome:')}"
        else:
            key = f"edge:{edge.source}>{edge.target}"
        if key in missed or (key not in known and edge.source not in reached):
            out.add((edge.source, edge.port, edge.target))
    return out


def path_statuses(result: ScenarioResult) -> dict[Key, Status]:
    """The elements and steps the scenario's run reached, green when it passed, red when it
    failed; the element its run stopped at carries the failure."""
    colour = "Completed" if result.passed else "Error"
    said = "passed" if result.passed else "failed"
    out: dict[Key, Status] = {}
    for element in result.path:
        out[(element, None)] = (colour, f"{result.name}: {said}")
    for key in result.reached:
        if key.startswith("step:"):
            stage, _, step = key.removeprefix("step:").partition(".")
            out[(stage, step)] = (colour, f"{result.name}: {said}")
    if result.failure is not None and result.path:
        happened = "; ".join(result.failure.happened) or result.failure.expectation
        out[(result.path[-1], None)] = (colour, f"line {result.failure.line}: {happened}")
    return out


def combined(path: dict[Key, Status], coverage: dict[Key, Status] | None) -> dict[Key, Status]:
    """A scenario's path over the coverage overlay: what nobody reached stays dimmed, and
    what the path reached says its coverage after the scenario's own line."""
    out = dict(coverage or {})
    for key, (status, detail) in path.items():
        _, reached = out.get(key, ("", None))
        out[key] = (status, "\n".join(t for t in (detail, reached) if t))
    return out
