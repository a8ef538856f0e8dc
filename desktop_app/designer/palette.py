"""The palette beside the canvas: a stage, a decision, a task (a person's step) and an action
(a background step), each dragged onto the canvas to add it where it is let go.

The drag is the view's own (not Qt's drag and drop, whose event loop would block the GUI
thread): pressing an entry starts placing its kind, the view follows the pointer, and letting
go over the canvas places it. An entry clicked without leaving the palette adds its kind after
the selection, like the tool bar."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from desktop_app.designer.view import CanvasView

ENTRIES = (
    ("stage", "▭ Stage", "A stage: drag it between the stages where it goes"),
    ("decision", "◇ Decision", "A decision: drag it between the stages where it goes"),
    ("interactive", "● Task", "A step a person does: drag it onto a stage's lane"),
    ("background", "⚙ Action", "A background step: drag it onto a stage's lane"),
)


class PaletteEntry(QLabel):
    def __init__(self, kind: str, text: str, tip: str, view: CanvasView) -> None:
        super().__init__(text)
        self.kind = kind
        self.view = view
        self.setObjectName(f"palette.{kind}")
        self.setToolTip(tip)
        self.setProperty("role", "paletteEntry")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMargin(6)
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    # While the button is down Qt sends the moves and the release here, wherever the pointer
    # is: they are handed to the view at the same place on the screen.
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.isEnabled():
            self.view.begin_placing(self.kind)
            event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.view.place_at(self._global(event))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self.view.place_done(self._global(event))

    def _global(self, event: QMouseEvent) -> QPoint:
        return self.mapToGlobal(event.position().toPoint())


class Palette(QWidget):
    def __init__(self, view: CanvasView) -> None:
        super().__init__(view)
        self.setObjectName("designerPalette")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 6, 4, 6)
        layout.setSpacing(4)
        heading = QLabel("Drag onto\nthe canvas")
        heading.setProperty("role", "muted")
        layout.addWidget(heading)
        self.entries = {}
        for kind, text, tip in ENTRIES:
            entry = PaletteEntry(kind, text, tip, view)
            self.entries[kind] = entry
            layout.addWidget(entry)
        layout.addStretch(1)
