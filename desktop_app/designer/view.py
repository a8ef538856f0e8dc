"""The canvas view: zoom with Ctrl+wheel or the keyboard, pan by dragging the background or
with the scroll bars, fit everything in view."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPen, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsView

from desktop_app.designer.layout import STEP_H, STEP_W
from desktop_app.designer.palette import Palette

MIN_ZOOM, MAX_ZOOM = 0.15, 4.0


class CanvasView(QGraphicsView):
    navigate = Signal(str)  # left | right | up | down
    zoomed = Signal(float)
    placed = Signal(str, QPointF)  # a kind from the palette, let go at this scene point
    clicked_entry = Signal(str)  # a palette entry clicked without dragging it anywhere

    def __init__(self, *, palette: bool = False) -> None:
        """``palette``: offer the palette to drag new stages, decisions and steps from (the
        Designer's canvas; a canvas that only shows a definition has none)."""
        super().__init__()
        self.setObjectName("designCanvas")
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.placing: str | None = None
        self._ghost: QGraphicsRectItem | None = None
        self.toolbox = Palette(self)
        self.show_palette(palette)

    def show_palette(self, shown: bool) -> None:
        """The palette beside the canvas, or none (a read-only version: nothing to add)."""
        self.toolbox.setVisible(shown)
        self.setViewportMargins(self.toolbox.sizeHint().width() if shown else 0, 0, 0, 0)
        if not shown:
            self.placing = None
            self.viewport().unsetCursor()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        frame = self.frameWidth()
        self.toolbox.setGeometry(
            frame, frame, self.toolbox.sizeHint().width(), self.viewport().height()
        )

    # ------------------------------------------------------------ placing from the palette

    def begin_placing(self, kind: str) -> None:
        self.placing = kind
        self.viewport().setCursor(Qt.CursorShape.DragCopyCursor)

    def place_at(self, where: QPoint) -> None:
        """The pointer, at ``where`` on the screen, carries the kind being placed."""
        self._follow(self.viewport().mapFromGlobal(where))

    def place_done(self, where: QPoint) -> None:
        self._drop(self.viewport().mapFromGlobal(where))

    def _follow(self, at: QPoint) -> None:
        scene = self.scene()
        if self.placing is None or scene is None:
            return
        if self._ghost is None or self._ghost.scene() is not scene:
            self._ghost = QGraphicsRectItem(0, 0, STEP_W, STEP_H)
            pen = QPen(QColor("#ff9f1a"), 2)
            pen.setStyle(Qt.PenStyle.DashLine)
            self._ghost.setPen(pen)
            self._ghost.setZValue(8)
            scene.addItem(self._ghost)
        point = self.mapToScene(at)
        self._ghost.setPos(point.x() - STEP_W / 2, point.y() - STEP_H / 2)
        self._ghost.setVisible(self.viewport().rect().contains(at))

    def _drop(self, at: QPoint) -> None:
        kind, self.placing = self.placing, None
        self.viewport().unsetCursor()
        if self._ghost is not None and self._ghost.scene() is not None:
            self._ghost.scene().removeItem(self._ghost)
        self._ghost = None
        if kind is None:
            return
        if self.viewport().rect().contains(at):
            self.placed.emit(kind, self.mapToScene(at))
        elif self.toolbox.rect().contains(
            self.toolbox.mapFrom(self, self.viewport().mapTo(self, at))
        ):
            self.clicked_entry.emit(kind)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.placing is not None:
            self._follow(event.position().toPoint())
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.placing is not None:
            self._drop(event.position().toPoint())
            return
        super().mouseReleaseEvent(event)

    @property
    def zoom(self) -> float:
        return float(self.transform().m11())

    def set_zoom(self, factor: float) -> None:
        factor = max(MIN_ZOOM, min(MAX_ZOOM, factor))
        self.resetTransform()
        self.scale(factor, factor)
        self.zoomed.emit(factor)

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * 1.25)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / 1.25)

    def fit(self) -> None:
        scene = self.scene()
        if scene is not None:
            self.fitInView(scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
            if self.zoom > 1.0:
                self.set_zoom(1.0)
            self.zoomed.emit(self.zoom)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            if event.angleDelta().y() > 0:
                self.zoom_in()
            else:
                self.zoom_out()
            event.accept()
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        keys = {
            Qt.Key.Key_Left: "left",
            Qt.Key.Key_Right: "right",
            Qt.Key.Key_Up: "up",
            Qt.Key.Key_Down: "down",
        }
        if event.key() in keys and not event.modifiers():
            self.navigate.emit(keys[Qt.Key(event.key())])
            event.accept()
            return
        super().keyPressEvent(event)
