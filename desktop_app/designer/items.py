"""What the canvas draws: lanes, step cards, decision diamonds, the end, and the arrows.

Items only draw and report gestures; they never change the definition themselves. Each one
reads legibly when zoomed out: below half size only its name is drawn, larger.
"""

from __future__ import annotations

import functools
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from desktop_app import theme
from desktop_app.designer.document import Key
from desktop_app.designer.layout import Box, Edge, Port

INTERACTIVE = QColor("#2f6fdb")
BACKGROUND = QColor("#7b4bc4")
DECISION = QColor("#d98e04")
FAULT = QColor("#c0392b")
LINE = QColor("#5d6773")
TEXT = QColor("#1d232b")
MUTED = QColor("#6b7480")
# Colours that differ between the light and the dark theme: (light, dark). The QColor objects
# themselves change (``apply_theme``), so whatever paints with them follows the theme.
CANVAS = QColor("#fbfcfd")
LANE_FILL = QColor("#f1f3f6")
LANE_EDGE = QColor("#c9cfd6")
STEP_FILL = QColor("white")
STEP_EDGE = QColor("#b8c0ca")
DECISION_FILL = QColor("#fff4dc")
DEPENDENCY = QColor("#8a95a3")
PORT_FILL = QColor("white")
SELECTED = QColor("#ff9f1a")
SEVERITY = {
    "error": QColor("#c0392b"),
    "critical": QColor("#c0392b"),
    "high": QColor("#e67e22"),
    "medium": QColor("#d4ac0d"),
}
RANK = {"error": 0, "critical": 1, "high": 2, "medium": 3}
STATUS = {
    "Completed": QColor("#d5f0dc"),
    "InProgress": QColor("#d6e6ff"),
    "Error": QColor("#f8d4d0"),
    "Suspended": QColor("#fff1c2"),
    "Skipped": QColor("#eceef1"),
    "Discontinued": QColor("#eceef1"),
    "Canceled": QColor("#eceef1"),
}
TONES: list[tuple[QColor, str, str]] = [
    (CANVAS, "#fbfcfd", "#181c21"),
    (LANE_FILL, "#f1f3f6", "#232a32"),
    (LANE_EDGE, "#c9cfd6", "#3d4650"),
    (STEP_FILL, "#ffffff", "#2b323b"),
    (STEP_EDGE, "#b8c0ca", "#4a5460"),
    (DECISION_FILL, "#fff4dc", "#3a3222"),
    (DEPENDENCY, "#8a95a3", "#6f7a88"),
    (PORT_FILL, "#ffffff", "#2b323b"),
    (LINE, "#5d6773", "#98a2ae"),
    (TEXT, "#1d232b", "#e7eaee"),
    (MUTED, "#6b7480", "#9aa3ad"),
    (STATUS["Completed"], "#d5f0dc", "#1f3b29"),
    (STATUS["InProgress"], "#d6e6ff", "#1e3150"),
    (STATUS["Error"], "#f8d4d0", "#4a2220"),
    (STATUS["Suspended"], "#fff1c2", "#453a1a"),
    (STATUS["Skipped"], "#eceef1", "#2c3138"),
    (STATUS["Discontinued"], "#eceef1", "#2c3138"),
    (STATUS["Canceled"], "#eceef1", "#2c3138"),
]


def apply_theme(dark: bool) -> None:
    """The canvas's colours for the light or the dark theme (scenes redraw: ``CanvasScene``)."""
    for colour, light, night in TONES:
        colour.setRgb(QColor(night if dark else light).rgb())


theme.on_change(apply_theme)
# A status that dims what it is given to (coverage: no scenario reaches it).
DIMMED = "Unreached"
DIMMED_OPACITY = 0.28
STATUS_EDGE = {
    "Completed": QColor("#2e9e4f"),
    "InProgress": QColor("#2f6fdb"),
    "Error": QColor("#c0392b"),
    "Suspended": QColor("#d98e04"),
}


def _font(size: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(size)
    font.setBold(bold)
    return font


def _zoomed_out(painter: QPainter, option: QStyleOptionGraphicsItem) -> bool:
    return option.levelOfDetailFromTransform(painter.worldTransform()) < 0.4


def _elide(painter: QPainter, text: str, width: float) -> str:
    return painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, int(width))


LEGIBLE = 7.0  # the smallest text size, in points as seen on the screen, a title shrinks to


def _wrap(metrics: QFontMetricsF, text: str, width: float) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and metrics.horizontalAdvance(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


@functools.lru_cache(maxsize=4096)  # painted often, with the same few titles and sizes
def fit_text(
    text: str, width: float, height: float, largest: float, smallest: float
) -> tuple[QFont, tuple[str, ...]]:
    """The largest bold font, from ``largest`` down to ``smallest`` points, at which ``text``
    wrapped into lines fits ``width`` × ``height``, and those lines. Text that does not fit
    even at the smallest size is cut with "…" (the item's tooltip has all of it)."""
    size = max(largest, smallest)
    while True:
        font = _font(size, True)
        metrics = QFontMetricsF(font)
        lines = _wrap(metrics, text, width)
        room = max(1, int(height // metrics.lineSpacing()))
        if len(lines) <= room and all(metrics.horizontalAdvance(x) <= width for x in lines):
            return font, tuple(lines)
        if size <= smallest:
            kept = [*lines[: room - 1], " ".join(lines[room - 1 :])]
            elide = Qt.TextElideMode.ElideRight
            return font, tuple(metrics.elidedText(line, elide, width) for line in kept)
        size = max(smallest, size - 0.5)


def draw_fitted(
    painter: QPainter,
    option: QStyleOptionGraphicsItem,
    rect: QRectF,
    text: str,
    largest: float,
    *,
    centre: bool = False,
) -> None:
    """``text`` in ``rect``: wrapped, shrunk if need be but never below legible on screen."""
    scale = max(option.levelOfDetailFromTransform(painter.worldTransform()), 1e-3)
    font, lines = fit_text(text, rect.width(), rect.height(), largest, LEGIBLE / scale)
    painter.setFont(font)
    spacing = QFontMetricsF(font).lineSpacing()
    top = rect.top() + (rect.height() - spacing * len(lines)) / 2 if centre else rect.top()
    flags = Qt.AlignmentFlag.AlignHCenter if centre else Qt.AlignmentFlag.AlignLeft
    for number, line in enumerate(lines):
        painter.drawText(
            QRectF(rect.left(), top + number * spacing, rect.width(), spacing),
            flags | Qt.AlignmentFlag.AlignVCenter,
            line,
        )


class CanvasItem(QGraphicsRectItem):
    """Something with a key that can be selected, marked by review and coloured by status."""

    def __init__(self, key: Key, box: Box, data: dict[str, Any]) -> None:
        super().__init__(0, 0, box.w, box.h)
        self.setPos(box.x, box.y)
        self.key = key
        self.data_ = data
        self.marks: list[Any] = []
        self._tips: list[str] = []
        self.status: str | None = None
        self.detail: str | None = None  # what it waits on, in Try it and run detail
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self._show_tips()

    @property
    def label(self) -> str:
        name = str(self.data_.get("name") or "")
        return str(self.data_.get("label") or name.replace("_", " ").capitalize())

    def set_marks(self, marks: list[Any]) -> None:
        self.marks = sorted(marks, key=lambda m: RANK.get(m.severity, 9))
        self._tips = [
            f"{m.severity}: {m.message}" + (f" — {m.fix}" if m.fix else "") for m in marks
        ]
        self._show_tips()

    def set_status(self, status: str | None, detail: str | None = None) -> None:
        """``detail``'s first line is drawn on the card; all of it is in the tooltip."""
        self.status = status
        self.detail = detail
        self.setOpacity(DIMMED_OPACITY if status == DIMMED else 1.0)
        self._show_tips()

    def tip_head(self) -> str:
        """The first lines of the tooltip: the whole title (the card may have cut it)."""
        return self.label

    def _show_tips(self) -> None:
        tips = [self.tip_head(), *([self.detail] if self.detail else []), *self._tips]
        self.setToolTip("\n".join(t for t in tips if t))
        self.update()

    def paint_badge(self, painter: QPainter, x: float, y: float) -> None:
        if not self.marks:
            return
        color = SEVERITY.get(self.marks[0].severity, MUTED)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawEllipse(QPointF(x, y), 10, 10)
        painter.setPen(QColor("white"))
        painter.setFont(_font(9, True))
        painter.drawText(QRectF(x - 10, y - 10, 20, 20), Qt.AlignmentFlag.AlignCenter, "!")

    def outline(self, base: QColor) -> QPen:
        if self.isSelected():
            return QPen(SELECTED, 3)
        if self.status in STATUS_EDGE:
            return QPen(STATUS_EDGE[self.status], 2.5)
        return QPen(base, 1.2)


class LaneItem(CanvasItem):
    """A stage: a lane with its name and exit condition on the left, its steps inside."""

    def __init__(self, key: Key, box: Box, data: dict[str, Any], header: float) -> None:
        super().__init__(key, box, data)
        self.header = header
        self.setZValue(-1)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        rect = self.rect()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fill = STATUS.get(self.status or "", LANE_FILL)
        painter.setBrush(fill)
        painter.setPen(self.outline(LANE_EDGE))
        painter.drawRoundedRect(rect, 8, 8)
        painter.setPen(QPen(LANE_EDGE, 1))
        painter.drawLine(QPointF(self.header, 8), QPointF(self.header, rect.height() - 8))
        painter.setPen(TEXT)
        if _zoomed_out(painter, option):
            draw_fitted(
                painter, option, QRectF(10, 4, self.header - 24, rect.height() - 8), self.label, 22
            )
            self.paint_badge(painter, self.header - 14, 14)
            return
        painter.setFont(_font(8))
        painter.setPen(MUTED)
        painter.drawText(QRectF(12, 10, self.header - 20, 14), "STAGE")
        painter.setPen(TEXT)
        draw_fitted(painter, option, QRectF(12, 26, self.header - 20, 38), self.label, 11)
        painter.setFont(_font(8))
        painter.setPen(MUTED)
        lines = [_exit_text(self.data_)]
        if "max_visits" in self.data_:
            lines.append(f"at most {self.data_['max_visits']} visits")
        if self.status:
            lines.append(self.status)
        text = "\n".join(lines)
        painter.drawText(
            QRectF(12, 66, self.header - 20, rect.height() - 70), Qt.TextFlag.TextWordWrap, text
        )
        self.paint_badge(painter, self.header - 14, 14)


def _exit_text(stage: dict[str, Any]) -> str:
    exit_ = stage.get("exit") or {}
    when = exit_.get("when", "all_steps")
    if when == "steps":
        return "ends when " + ", ".join(exit_.get("steps") or []) + " end"
    if when == "expression":
        return "ends when: " + str(exit_.get("expression") or "")
    return "ends when all steps end"


class StepItem(CanvasItem):
    """A step card: a person icon and its assignee, or a gear and its actions."""

    def __init__(self, key: Key, box: Box, data: dict[str, Any]) -> None:
        super().__init__(key, box, data)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsFocusable)
        self.setZValue(2)

    @property
    def interactive(self) -> bool:
        return self.data_.get("kind") != "background"

    def tip_head(self) -> str:
        return f"{self.label}\n{self.summary()}"

    def summary(self) -> str:
        if self.interactive:
            assignee = self.data_.get("assignee") or {}
            who = next((f"{k} {v}" for k, v in assignee.items() if v), "no assignee")
            due = self.data_.get("due")
            return who + (f" · due {due}" if due else "")
        actions = [str(a.get("type")) for a in self.data_.get("actions") or [] if a]
        return ", ".join(actions) if actions else "no actions"

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        rect = self.rect()
        color = INTERACTIVE if self.interactive else BACKGROUND
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(STATUS.get(self.status or "", STEP_FILL))
        painter.setPen(self.outline(STEP_EDGE))
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(QRectF(0, 0, 6, rect.height()), 3, 3)
        if _zoomed_out(painter, option):
            painter.setPen(TEXT)
            draw_fitted(painter, option, rect.adjusted(12, 4, -16, -4), self.label, 20, centre=True)
            self.paint_badge(painter, rect.width() - 8, 8)
            return
        _icon(painter, self.interactive, color, QPointF(24, 22))
        painter.setPen(TEXT)
        draw_fitted(painter, option, QRectF(42, 5, rect.width() - 56, 30), self.label, 10)
        painter.setFont(_font(8))
        painter.setPen(MUTED)
        kind = "Interactive" if self.interactive else "Background"
        start = self.data_.get("start") or {}
        if start.get("when") == "expression":
            kind += " · when …"
        painter.drawText(QRectF(42, 34, rect.width() - 52, 14), kind)
        painter.setPen(TEXT)
        line = self.detail.split("\n", 1)[0] if self.detail else self.summary()
        painter.drawText(QRectF(12, 50, rect.width() - 22, 18), _elide(painter, line, 176))
        self.paint_badge(painter, rect.width() - 8, 8)


def _icon(painter: QPainter, person: bool, color: QColor, at: QPointF) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    if person:
        painter.drawEllipse(QPointF(at.x(), at.y() - 5), 5, 5)
        painter.drawChord(QRectF(at.x() - 9, at.y() + 1, 18, 16), 0, 180 * 16)
        return
    painter.setPen(QPen(color, 3))
    for angle in range(0, 360, 45):
        painter.save()
        painter.translate(at)
        painter.rotate(angle)
        painter.drawLine(QPointF(0, 6), QPointF(0, 10))
        painter.restore()
    painter.setPen(QPen(color, 2.5))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawEllipse(at, 5.5, 5.5)


class DecisionItem(CanvasItem):
    def __init__(self, key: Key, box: Box, data: dict[str, Any]) -> None:
        super().__init__(key, box, data)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable)
        self.setZValue(1)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addPolygon(self._diamond())
        return path

    def _diamond(self) -> QPolygonF:
        r = self.rect()
        return QPolygonF(
            [
                QPointF(r.center().x(), 0),
                QPointF(r.width(), r.height() / 2),
                QPointF(r.center().x(), r.height()),
                QPointF(0, r.height() / 2),
            ]
        )

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(STATUS.get(self.status or "", DECISION_FILL))
        painter.setPen(self.outline(DECISION))
        painter.drawPolygon(self._diamond())
        painter.setPen(TEXT)
        big = _zoomed_out(painter, option)
        r = self.rect()
        inner = QRectF(r.width() / 4, r.height() / 4, r.width() / 2, r.height() / 2)
        draw_fitted(painter, option, inner, self.label, 18 if big else 10, centre=True)
        self.paint_badge(painter, self.rect().width() * 0.75, 14)


class EndItem(CanvasItem):
    def __init__(self, box: Box) -> None:
        super().__init__(("end", None), box, {"name": "end", "label": "End"})
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QColor("#3b4450"))
        painter.setPen(Qt.PenStyle.NoPen)
        r = self.rect()
        painter.drawRoundedRect(r, r.height() / 2, r.height() / 2)
        painter.setPen(QColor("white"))
        painter.setFont(_font(10, True))
        painter.drawText(r, Qt.AlignmentFlag.AlignCenter, "End")


class EdgeItem(QGraphicsPathItem):
    """An arrow between elements (or between steps of a stage), with its label."""

    def __init__(self, edge: Edge | None, points: tuple[tuple[float, float], ...]) -> None:
        super().__init__()
        self.edge = edge
        kind = edge.kind if edge else "dependency"
        path = QPainterPath(QPointF(*points[0]))
        for point in points[1:]:
            path.lineTo(QPointF(*point))
        self.setPath(path)
        color = {"fault": FAULT, "back": DECISION, "dependency": DEPENDENCY}.get(kind, LINE)
        pen = QPen(color, 1.6 if kind != "dependency" else 1.3)
        if kind in ("fault", "default"):
            pen.setStyle(Qt.PenStyle.DashLine)
        self.setPen(pen)
        self.color = color
        self.points = points
        self.setZValue(0 if kind != "dependency" else 3)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        line = QPen(self.pen())
        line.setColor(self.color)  # the theme's colour now (the pen kept a copy)
        painter.setPen(line)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())
        (x1, y1), (x2, y2) = self.points[-2], self.points[-1]
        tip = QPointF(x2, y2)
        dx, dy = (x2 - x1), (y2 - y1)
        length = max((dx * dx + dy * dy) ** 0.5, 1e-6)
        ux, uy = dx / length, dy / length
        left = QPointF(x2 - 9 * ux + 4.5 * uy, y2 - 9 * uy - 4.5 * ux)
        right = QPointF(x2 - 9 * ux - 4.5 * uy, y2 - 9 * uy + 4.5 * ux)
        painter.setBrush(QBrush(self.color))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawPolygon(QPolygonF([tip, left, right]))
        box = self.edge.label_box if self.edge else None
        if self.edge and self.edge.label and box is not None:
            painter.setPen(self.color)
            painter.setFont(_font(8, True))
            painter.drawText(
                QRectF(box.x, box.y, box.w, box.h),
                Qt.AlignmentFlag.AlignLeft
                | Qt.AlignmentFlag.AlignVCenter
                | Qt.TextFlag.TextDontClip,
                self.edge.label,
            )

    def boundingRect(self) -> QRectF:
        rect = super().boundingRect()
        box = self.edge.label_box if self.edge else None
        return rect.united(QRectF(box.x, box.y, box.w, box.h)) if box else rect


class PortItem(QGraphicsEllipseItem):
    """A handle where an arrow leaves a stage or decision: drag it onto the element (or End)
    it should go to. While dragging, a dashed arrow follows the pointer; on release the scene
    is asked to connect (the item never changes the definition itself)."""

    RADIUS = 7.0

    def __init__(self, port: Port, on_drop: Any) -> None:
        r = self.RADIUS
        super().__init__(-r, -r, 2 * r, 2 * r)
        self.port = port
        self._on_drop = on_drop
        self.setPos(port.x, port.y)
        self.setZValue(6)
        self.setBrush(PORT_FILL)
        self.setPen(QPen(LINE, 1.6))
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        source = port.source
        self.setToolTip(
            {
                "next": f"Drag onto what comes after {source}",
                "fault": f"Drag onto where {source} goes when a step fails",
                "default": f"Drag onto where {source} goes otherwise",
            }.get(
                port.port,
                f"Drag onto where {source} goes when “{port.label or port.port[8:]}”",
            )
        )
        self.rubber: QGraphicsPathItem | None = None

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.setBrush(SELECTED)
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.setBrush(PORT_FILL)
        super().hoverLeaveEvent(event)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        hovered = self.brush().color() == SELECTED
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(SELECTED if hovered else PORT_FILL)  # the theme's colours now
        painter.setPen(QPen(LINE, 1.6))
        painter.drawEllipse(self.rect())

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        event.accept()
        scene = self.scene()
        if scene is not None:
            self.rubber = QGraphicsPathItem()
            pen = QPen(SELECTED, 2)
            pen.setStyle(Qt.PenStyle.DashLine)
            self.rubber.setPen(pen)
            self.rubber.setZValue(7)
            scene.addItem(self.rubber)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self.rubber is not None:
            path = QPainterPath(self.scenePos())
            path.lineTo(event.scenePos())
            self.rubber.setPath(path)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self.rubber is not None:
            scene = self.rubber.scene()
            if scene is not None:
                scene.removeItem(self.rubber)
            self.rubber = None
            self._on_drop(self.port, event.scenePos())
