"""Window sizes that fit the screen they open on (a 1366×768 laptop included)."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget


def fit_to_screen(widget: QWidget, width: int, height: int) -> None:
    """Resize ``widget`` to ``width``×``height``, or less where the screen is smaller."""
    room = (widget.screen() or QGuiApplication.primaryScreen()).availableGeometry()
    widget.resize(min(width, int(room.width() * 0.96)), min(height, int(room.height() * 0.92)))
