"""The draft being designed: its data, its undo stack, and what is selected.

Commands change the data (never the canvas items); every change is announced by ``changed``
and the canvas, property panel and review redraw from the data.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from engine.definitions.editing import Data

# What is selected: (element, step); (None, None) is the orchestration itself.
Key = tuple[str | None, str | None]
NOTHING: Key = (None, None)


class DesignDocument(QObject):
    changed = Signal()
    selection_changed = Signal(object)  # Key
    read_only_changed = Signal(bool)
    saved = Signal()  # what is shown is now what is stored

    def __init__(self, data: Data, *, read_only: bool = False) -> None:
        super().__init__()
        self._data = copy.deepcopy(data)
        self.saved_data = copy.deepcopy(data)
        self.read_only = read_only
        self.selection: Key = NOTHING
        self.stack = QUndoStack(self)
        self.stack.setUndoLimit(500)

    @property
    def data(self) -> Data:
        """The current data. Treat it as read-only: change it with commands."""
        return self._data

    @property
    def name(self) -> str:
        return str(self._data.get("name") or "")

    @property
    def modified(self) -> bool:
        return self._data != self.saved_data

    def replace(self, data: Data, selection: Key | None = None) -> None:
        """Called by commands only."""
        self._data = data
        self.changed.emit()
        if selection is not None:
            self.select(selection)

    def select(self, key: Key) -> None:
        if key != self.selection:
            self.selection = key
            self.selection_changed.emit(key)

    def load(self, data: Data, *, read_only: bool) -> None:
        """Start afresh on ``data`` (another version, an imported file): no undo history."""
        self.stack.clear()
        self._data = copy.deepcopy(data)
        self.saved_data = copy.deepcopy(data)
        self.stack.setClean()
        self.selection = NOTHING
        self.read_only = read_only
        self.changed.emit()
        self.selection_changed.emit(NOTHING)
        self.read_only_changed.emit(read_only)

    def mark_saved(self) -> None:
        self.saved_data = copy.deepcopy(self._data)
        self.stack.setClean()
        self.saved.emit()

    def set_read_only(self, read_only: bool) -> None:
        self.read_only = read_only
        self.read_only_changed.emit(read_only)

    def push(self, command: Any) -> None:
        """Do ``command`` and keep it for undo (refused quietly while read-only)."""
        if not self.read_only:
            self.stack.push(command)
