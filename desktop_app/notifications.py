"""Desktop notifications, through the system tray when the desktop has one.

The tray shows Baton's icon; a click on a notification opens what it was about (a
``baton://`` link, handed to whoever registered with ``on_click``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

_tray: QSystemTrayIcon | None = None
_last_link: str | None = None
_open: Callable[[str], None] | None = None


def baton_icon() -> QIcon:
    """Baton's icon (resources/icons/baton.svg, also inside the installed bundle)."""
    from engine.clients.demo import resources_dir

    return QIcon(str(Path(resources_dir()) / "icons" / "baton.svg"))


def on_click(handler: Callable[[str], None] | None) -> None:
    """Who opens a notification's link when it is clicked (the main window)."""
    global _open
    _open = handler


def _clicked() -> None:
    if _open is not None and _last_link is not None:
        _open(_last_link)


def tray() -> QSystemTrayIcon | None:
    global _tray
    if not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    if _tray is None:
        app = QApplication.instance()
        icon = app.windowIcon() if isinstance(app, QApplication) else QIcon()
        _tray = QSystemTrayIcon(icon if not icon.isNull() else baton_icon())
        _tray.setToolTip("Baton")
        _tray.messageClicked.connect(_clicked)
        _tray.show()
    return _tray


def notify(title: str, message: str, link: str | None = None) -> None:
    """Tell the person; clicking the notification opens ``link`` (when given)."""
    global _last_link
    shown = tray()
    if shown is None:
        return  # the status bar already says it
    _last_link = link
    shown.showMessage(title, message, shown.icon())
