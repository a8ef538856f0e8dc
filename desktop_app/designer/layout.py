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
LABEL_H = 14  # an arrow's label, one line of small bold text
LABEL_GAP = LABEL_H + 6  # between the legs leaving one element sideways: labels never touch
CHAR_W = 7.0  # an estimate of the label font's average character width


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
    def cy(self) -> float:
        return self.y + self.h / 2

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
    port: str = "next"  # what of the source it is: next | fault | default | outcome:NAME
    label_box: Box | None = None  # where its label is written


@dataclass(frozen=True)
class Port:
    """Where an arrow can be dragged from: a stage's next or fault, a decision's default or one
    of its outcomes."""

    source: str
    port: str
    x: float
    y: float
    label: str


@dataclass
class Layout:
    elements: dict[str, Box] = field(default_factory=dict)
    steps: dict[tuple[str, str], Box] = field(default_factory=dict)
    dependencies: list[tuple[tuple[str, str], tuple[str, str]]] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    ports: list[Port] = field(default_factory=list)
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
            height = max(DECISION_H, LABEL_GAP * len(_links(element, data, items)) + 2 * LABEL_H)
            layout.elements[name] = Box(
                HEADER + PAD + (content_w - DECISION_W) / 2, y, DECISION_W, height
            )
        y += height + ELEMENT_GAP
    layout.end = Box(HEADER + PAD + (content_w - END_W) / 2, y, END_W, END_H)
    _route(data, layout)
    return layout


def _links(element: dict[str, Any], data: dict[str, Any], items: list[Any]) -> list[Link]:
    """(target, kind, label, port) of each arrow leaving ``element``."""
    links: list[Link] = []
    if element.get("kind") == "stage":
        links.append((_target_of(data, items.index(element)), "next", "", "next"))
        if element.get("fault"):
            links.append((str(element["fault"]), "fault", "on failure", "fault"))
        return links
    for outcome in element.get("outcomes") or []:
        if isinstance(outcome, dict) and outcome.get("next"):
            label = str(outcome.get("label") or outcome.get("name") or "")
            links.append((str(outcome["next"]), "outcome", label, f"outcome:{outcome.get('name')}"))
    if element.get("default"):
        links.append((str(element["default"]), "default", "otherwise", "default"))
    return links


Link = tuple[str, str, str, str]


def _label_box(label: str, x: float, y: float) -> Box | None:
    return Box(x, y, CHAR_W * len(label) + 8, LABEL_H) if label else None


def _route(data: dict[str, Any], layout: Layout) -> None:
    items = data["elements"]
    order = {str(e.get("name")): i for i, e in enumerate(items)}
    right_channels = 0
    left_channels = 0
    assert layout.end is not None
    for index, element in enumerate(items):
        name = str(element.get("name"))
        box = layout.elements[name]
        links = [
            link
            for link in _links(element, data, items)
            if link[0] == "end" or link[0] in order  # a broken reference: validation reports it
        ]
        straight = next(
            (
                link
                for link in links
                if link[1] != "fault"
                and (
                    order.get(link[0], len(items)) == index + 1
                    or (link[0] == "end" and index == len(items) - 1)
                )
            ),
            None,
        )
        sideways = [link for link in links if link is not straight and link[1] != "fault"]
        # The legs leaving sideways are LABEL_GAP apart, centred on the element's middle, so
        # the label over each never touches the next one's.
        first_y = box.y + box.h / 2 - LABEL_GAP * (len(sideways) - 1) / 2 + LABEL_H / 2
        leg_y = {link: first_y + i * LABEL_GAP for i, link in enumerate(sideways)}
        for link in links:
            target, kind, label, port = link
            goal = layout.end if target == "end" else layout.elements[target]
            points: tuple[tuple[float, float], ...]
            label_box: Box | None
            x: float
            if kind == "fault":
                left_channels += 1
                x = -CHANNEL * left_channels
                start_y = box.y + box.h / 2 + 8
                points = ((box.x, start_y), (x, start_y), (x, goal.y + 14), (goal.x, goal.y + 14))
                label_box = _label_box(label, box.x - CHAR_W * len(label) - 12, start_y - 16)
            elif link is straight:
                x = box.cx if element.get("kind") == "decision" else goal.cx
                points = ((x, box.bottom), (x, goal.y))
                label_box = _label_box(label, x + 6, box.bottom + 2)
            else:
                right_channels += 1
                x = layout.width + CHANNEL * right_channels
                if target != "end" and order[target] <= index:
                    kind = "back"
                    label = (f"{label}: " if label else "") + f"go to {target}"
                start_y = leg_y[link]
                end_y = goal.y + (goal.h / 2 if target == "end" else 18)
                points = ((box.right, start_y), (x, start_y), (x, end_y), (goal.right, end_y))
                label_box = _label_box(label, box.right + 4, start_y - LABEL_H - 2)
            layout.edges.append(Edge(name, target, kind, label, points, port, label_box))
            layout.ports.append(Port(name, port, *points[0], label))
        ported = {link[3] for link in links}
        if element.get("kind") == "stage" and "next" not in ported:
            layout.ports.append(Port(name, "next", box.cx, box.bottom, ""))
        if element.get("kind") == "decision" and "default" not in ported:
            layout.ports.append(Port(name, "default", box.x, box.y + box.h / 2, "otherwise"))
