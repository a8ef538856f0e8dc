"""Emptying a layout: the widgets it holds (past the first ``keep``) taken out and deleted,
as a panel does before it shows the next entry, form or form's buttons."""

from __future__ import annotations

from PySide6.QtWidgets import QLayout


def empty(layout: QLayout, *, keep: int = 0) -> None:
    while layout.count() > keep:
        taken = layout.takeAt(keep)
        widget = taken.widget() if taken is not None else None
        if widget is not None:
            widget.deleteLater()
