"""Where everything goes on the canvas, worked out from the data alone (no Qt).

Elements run top to bottom in their order: a stage is a lane holding its steps side by side
(a step that starts after others gets an arrow from them, arched over the cards); a decision
is a diamond. Flow to
the next element goes straight down; jumps, Go To loops and "end" run in channels on the
right, fault paths in channels on the left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

HEADER = 170  # the lane's own column: its name and exit condition
STEP_W, STEP_H = 200, 76
GAP_X = 26
PAD = 16
ELEMENT_GAP = 64
DECISION_W, DECISION_H = 200, 96
CHANNEL = 22
END_W, END_H = 90, 34


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def right(self) -> float:
        return self.x + self.w


@dataclass(frozen=True)
class Edge:
    """A connection between elements: its route as points, its label and its kind."""

    source: str
    target: str  # an element name or 'end'
    kind: str  # next | outcome | default | fault | back
    label: str
    points: tuple[tuple[float, float], ...]


@dataclass
class Layout:
    elements: dict[str, Box] = field(default_factory=dict)
    steps: dict[tuple[str, str], Box] = field(default_factory=dict)
    dependencies: list[tuple[tuple[str, str], tuple[str, str]]] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    end: Box | None = None
    width: float = 0


def _columns(stage: dict[str, Any]) -> int:
    """Steps stand side by side, one column each."""
    return max(sum(1 for s in stage.get("steps") or [] if isinstance(s, dict)), 1)


def _target_of(data: dict[str, Any], index: int) -> str:
    """Where a stage at ``index`` goes next ('end' after the last)."""
    items = data["elements"]
    explicit = items[index].get("next")
    if explicit:
        return str(explicit)
    return str(items[index + 1]["name"]) if index + 1 < len(items) else "end"


def compute(data: dict[str, Any]) -> Layout:
    layout = Layout()
    items = [e for e in data.get("elements") or [] if isinstance(e, dict)]
    data = {**data, "elements": items}
    widest = max((_columns(e) for e in items if e.get("kind") == "stage"), default=1)
    content_w = max(widest * (STEP_W + GAP_X) - GAP_X, DECISION_W)
    lane_w = HEADER + PAD + content_w + PAD
    layout.width = lane_w
    y = 0.0
    for element in items:
        name = str(element.get("name"))
        if element.get("kind") == "stage":
            height = PAD * 2 + STEP_H
            layout.elements[name] = Box(0, y, lane_w, height)
            steps = [s for s in element.get("steps") or [] if isinstance(s, dict)]
            names = {str(s.get("name")) for s in steps}
            for column, step in enumerate(steps):
                step_name = str(step.get("name"))
                layout.steps[(name, step_name)] = Box(
                    HEADER + PAD + column * (STEP_W + GAP_X), y + PAD, STEP_W, STEP_H
                )
                start = step.get("start")
                for before in (start.get("steps") if isinstance(start, dict) else None) or []:
                    if before in names:
                        layout.dependencies.append(((name, str(before)), (name, step_name)))
        else:
            height = DECISION_H
            layout.elements[name] = Box(
                HEADER + PAD + (content_w - DECISION_W) / 2, y, DECISION_W, DECISION_H
            )
        y += height + ELEMENT_GAP
    layout.end = Box(HEADER + PAD + (content_w - END_W) / 2, y, END_W, END_H)
    _route(data, layout)
    return layout


def _route(data: dict[str, Any], layout: Layout) -> None:
    items = data["elements"]
    order = {str(e.get("name")): i for i, e in enumerate(items)}
    right_channels = 0
    left_channels = 0
    assert layout.end is not None
    for index, element in enumerate(items):
        name = str(element.get("name"))
        box = layout.elements[name]
        links: list[tuple[str, str, str]] = []  # (target, kind, label)
        if element.get("kind") == "stage":
            links.append((_target_of(data, index), "next", ""))
            if element.get("fault"):
                links.append((str(element["fault"]), "fault", "on failure"))
        else:
            for outcome in element.get("outcomes") or []:
                if isinstance(outcome, dict) and outcome.get("next"):
                    label = str(outcome.get("label") or outcome.get("name") or "")
                    links.append((str(outcome["next"]), "outcome", label))
            if element.get("default"):
                links.append((str(element["default"]), "default", "otherwise"))
        straight_used = False
        for target, kind, label in links:
            if target != "end" and target not in order:
                continue  # a broken reference: validation reports it
            goal = layout.end if target == "end" else layout.elements[target]
            following = order.get(target, len(items)) == index + 1 or (
                target == "end" and index == len(items) - 1
            )
            points: tuple[tuple[float, float], ...]
            x: float
            if kind == "fault":
                left_channels += 1
                x = -CHANNEL * left_channels
                start_y = box.y + box.h / 2 + 8
                points = ((box.x, start_y), (x, start_y), (x, goal.y + 14), (goal.x, goal.y + 14))
            elif following and not straight_used:
                straight_used = True
                points = ((goal.cx, box.bottom), (goal.cx, goal.y))
            else:
                right_channels += 1
                x = layout.width + CHANNEL * right_channels
                backward = target != "end" and order[target] <= index
                if backward:
                    kind = "back"
                    label = (f"{label}: " if label else "") + f"go to {target}"
                start_y = box.y + box.h / 2 - 8 + 8 * (right_channels % 3)
                end_y = goal.y + (goal.h / 2 if target == "end" else 18)
                points = (
                    (box.right, start_y),
                    (x, start_y),
                    (x, end_y),
                    (goal.right, end_y),
                )
            layout.edges.append(Edge(name, target, kind, label, points))
