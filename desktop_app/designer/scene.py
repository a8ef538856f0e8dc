"""The canvas scene: drawn afresh from the document's data after every change, so what is on
the canvas is always exactly what is in the definition."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from PySide6.QtCore import QPointF, QTimer, Signal
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneMouseEvent

from desktop_app import theme
from desktop_app.designer import layout as geometry
from desktop_app.designer.document import NOTHING, DesignDocument, Key
from desktop_app.designer.items import (
    CANVAS,
    DIMMED_OPACITY,
    CanvasItem,
    DecisionItem,
    EdgeItem,
    EndItem,
    LaneItem,
    PortItem,
    StepItem,
)

Status = tuple[str, str | None]  # a status, and the detail shown with it
EdgeKey = tuple[str, str, str]  # an arrow: its source, its port (next, outcome:NAME…), its target


class DesignScene(QGraphicsScene):
    move_step_requested = Signal(str, str, str, int)  # stage, step, to stage, index
    move_element_requested = Signal(str, int)  # element, index
    open_requested = Signal(object)  # Key: double-clicked
    connect_requested = Signal(str, str, str)  # element, port, target (an element or 'end')
    add_element_requested = Signal(str, int)  # stage | decision, index
    add_step_requested = Signal(str, str, int)  # stage, interactive | background, index
    refused = Signal(str)  # a gesture that cannot be done, and why

    def __init__(self, document: DesignDocument) -> None:
        super().__init__()
        self.document = document
        self.items_by_key: dict[Key, CanvasItem] = {}
        self.edges: list[EdgeItem] = []
        self.ports: list[PortItem] = []
        self.layout = geometry.Layout()
        self._marks: list[Any] = []
        self._statuses: dict[Key, tuple[str, str | None]] = {}
        self._dimmed_edges: frozenset[EdgeKey] = frozenset()
        self._syncing = False
        self.setBackgroundBrush(CANVAS)
        document.changed.connect(self.rebuild)
        document.selection_changed.connect(self._show_selection)
        document.read_only_changed.connect(lambda _: self.rebuild())
        self.selectionChanged.connect(self._selection_from_canvas)
        self.rebuild()
        theme.on_change(self.apply_theme, now=False)

    def apply_theme(self, _dark: bool) -> None:
        """The theme changed (``items.apply_theme`` changed the colours): draw again."""
        self.setBackgroundBrush(CANVAS)
        self.update()

    # ------------------------------------------------------------ building

    def rebuild(self) -> None:
        self._syncing = True
        try:
            self.clear()
            self.items_by_key.clear()
            self.edges.clear()
            data = self.document.data
            self.layout = geometry.compute(data)
            for element in data.get("elements") or []:
                if not isinstance(element, dict):
                    continue
                name = str(element.get("name"))
                box = self.layout.elements[name]
                if element.get("kind") == "stage":
                    self._add(LaneItem((name, None), box, element, geometry.HEADER))
                    for step in element.get("steps") or []:
                        if isinstance(step, dict):
                            key = (name, str(step.get("name")))
                            self._add(StepItem(key, self.layout.steps[key], step))
                else:
                    self._add(DecisionItem((name, None), box, element))
            if self.layout.end is not None:
                self.addItem(EndItem(self.layout.end))
            for edge in self.layout.edges:
                self._edge(EdgeItem(edge, edge.points))
            for before, after in self.layout.dependencies:
                a, b = self.layout.steps.get(before), self.layout.steps.get(after)
                if a and b:
                    self._edge(EdgeItem(None, _arch(a, b)))
            self.ports = []
            if not self.document.read_only:
                for port in self.layout.ports:
                    handle = PortItem(port, self._port_dropped)
                    self.addItem(handle)
                    self.ports.append(handle)
            rect = self.itemsBoundingRect().adjusted(-60, -40, 60, 40)
            self.setSceneRect(rect)
            self._apply_marks()
            self._apply_statuses()
        finally:
            self._syncing = False
        self._show_selection(self.document.selection)

    def _add(self, item: CanvasItem) -> None:
        self.addItem(item)
        self.items_by_key[item.key] = item

    def _edge(self, item: EdgeItem) -> None:
        self.addItem(item)
        self.edges.append(item)

    # ------------------------------------------------------------ review marks and statuses

    def set_marks(self, marks: list[Any]) -> None:
        """Review findings and problems, each on its step, else its element, else nowhere."""
        self._marks = list(marks)
        self._apply_marks()

    def _apply_marks(self) -> None:
        by_key: dict[Key, list[Any]] = {}
        for mark in self._marks:
            key: Key = (mark.element, mark.step)
            if key not in self.items_by_key:
                key = (mark.element, None)
            if key in self.items_by_key:
                by_key.setdefault(key, []).append(mark)
        for key, item in self.items_by_key.items():
            item.set_marks(by_key.get(key, []))

    def set_statuses(
        self,
        statuses: Mapping[Key, Status] | Mapping[tuple[str, str | None], Status],
        dimmed_edges: Collection[EdgeKey] = (),
    ) -> None:
        """Colour elements and steps by status (Try it, run detail, tests); empty clears.
        The status ``items.DIMMED`` dims an element, and ``dimmed_edges`` the arrows named
        (coverage: what no scenario reached)."""
        self._statuses = dict(statuses.items())
        self._dimmed_edges = frozenset(dimmed_edges)
        self._apply_statuses()

    def _apply_statuses(self) -> None:
        for key, item in self.items_by_key.items():
            status, detail = self._statuses.get(key, (None, None))
            item.set_status(status, detail)
        for edge in self.edges:
            spec = edge.edge
            dimmed = (
                spec is not None and (spec.source, spec.port, spec.target) in self._dimmed_edges
            )
            edge.setOpacity(DIMMED_OPACITY if dimmed else 1.0)

    # ------------------------------------------------------------ selection

    def _show_selection(self, key: Key) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self.clearSelection()
            item = self.items_by_key.get(key)
            if item is not None:
                item.setSelected(True)
                for view in self.views():
                    view.ensureVisible(item, 40, 40)
        finally:
            self._syncing = False

    def _selection_from_canvas(self) -> None:
        if self._syncing:
            return
        selected = [i for i in self.selectedItems() if isinstance(i, CanvasItem)]
        self.document.select(selected[0].key if selected else NOTHING)

    # ------------------------------------------------------------ gestures

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        item = self._canvas_item_at(event.scenePos())
        if item is not None:
            self.open_requested.emit(item.key)
        super().mouseDoubleClickEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        moved = [
            i
            for i in self.selectedItems()
            if isinstance(i, CanvasItem) and i.pos() != self._home(i)
        ]
        super().mouseReleaseEvent(event)
        for item in moved[:1]:
            request = self._drop(item)
            # The request rebuilds the scene: do it after this event, not inside it.
            QTimer.singleShot(0, request if request else self.rebuild)

    def _home(self, item: CanvasItem) -> QPointF:
        box = (
            self.layout.steps.get(item.key)  # type: ignore[arg-type]
            if isinstance(item, StepItem)
            else self.layout.elements.get(str(item.key[0]))
        )
        return QPointF(box.x, box.y) if box else item.pos()

    def _drop(self, item: CanvasItem) -> Any:
        centre = item.sceneBoundingRect().center()
        if isinstance(item, StepItem):
            stage, step = str(item.key[0]), str(item.key[1])
            lane = next(
                (
                    k[0]
                    for k, i in self.items_by_key.items()
                    if isinstance(i, LaneItem) and i.sceneBoundingRect().contains(centre)
                ),
                None,
            )
            if lane is None:
                return None
            others = [
                b for (s, n), b in self.layout.steps.items() if s == lane and (s, n) != item.key
            ]
            index = sum(1 for b in others if b.cx < centre.x())
            return lambda: self.move_step_requested.emit(stage, step, str(lane), index)
        name = str(item.key[0])
        others = [b for n, b in self.layout.elements.items() if n != name]
        index = sum(1 for b in others if b.y + b.h / 2 < centre.y())
        return lambda: self.move_element_requested.emit(name, index)

    def _port_dropped(self, port: geometry.Port, point: QPointF) -> None:
        """An arrow dragged from ``port`` let go at ``point``: connect it to what is there."""
        target = self._element_at(point)
        if target is None:
            self.refused.emit("Let go of the arrow on a stage, a decision or End to connect it")
            return
        source, name = port.source, port.port
        # Connecting rebuilds the scene, which holds the handle still finishing its event.
        QTimer.singleShot(0, lambda: self.connect_requested.emit(source, name, target))

    def _element_at(self, point: QPointF) -> str | None:
        """The stage (also under one of its cards), decision or 'end' at ``point``."""
        for item in self.items(point):
            if isinstance(item, EndItem):
                return "end"
            if isinstance(item, CanvasItem):
                return str(item.key[0])
        return None

    def drop_new(self, kind: str, point: QPointF) -> None:
        """Something dragged from the palette let go at ``point``: a stage or decision goes
        between the elements above and below it; a step into the lane under it, between the
        cards left and right of it."""
        if kind in ("stage", "decision"):
            boxes = self.layout.elements.values()
            index = sum(1 for b in boxes if b.y + b.h / 2 < point.y())
            self.add_element_requested.emit(kind, index)
            return
        lane = self._element_at(point)
        stages = {
            str(e.get("name"))
            for e in self.document.data.get("elements") or []
            if isinstance(e, dict) and e.get("kind") == "stage"
        }
        if lane not in stages:
            self.refused.emit("Drop a step onto a stage's lane: steps live in stages")
            return
        others = [b for (s, _), b in self.layout.steps.items() if s == lane]
        index = sum(1 for b in others if b.cx < point.x())
        self.add_step_requested.emit(str(lane), kind, index)

    def _canvas_item_at(self, point: QPointF) -> CanvasItem | None:
        for item in self.items(point):
            if isinstance(item, CanvasItem) and not isinstance(item, EndItem):
                return item
        return None

    # ------------------------------------------------------------ keyboard navigation

    def neighbour(self, key: Key, direction: str) -> Key:
        """The key to the left, right, above or below ``key``, in definition order."""
        data = self.document.data
        names = [str(e.get("name")) for e in data.get("elements") or [] if isinstance(e, dict)]
        if not names:
            return NOTHING
        element, step = key
        if element not in names:
            return (names[0], None)
        index = names.index(element)
        if direction in ("up", "down"):
            index = max(0, min(len(names) - 1, index + (1 if direction == "down" else -1)))
            return (names[index], None)
        steps = [n for (s, n) in self.layout.steps if s == element]
        if not steps:
            return key
        if step is None:
            return (element, steps[0] if direction == "right" else steps[-1])
        position = steps.index(step) + (1 if direction == "right" else -1)
        if position < 0:
            return (element, None)
        return (element, steps[min(position, len(steps) - 1)])


def _arch(a: geometry.Box, b: geometry.Box) -> tuple[tuple[float, float], ...]:
    """A dependency arrow from one step card to another, over the cards between them."""
    if abs(a.right + geometry.GAP_X - b.x) < 1:  # neighbours: straight across
        return ((a.right, a.y + a.h / 2), (b.x, b.y + b.h / 2))
    top = a.y + 6
    return ((a.cx + 20, a.y), (a.cx + 20, top - 12), (b.cx - 20, top - 12), (b.cx - 20, b.y))
