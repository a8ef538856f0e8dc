"""Desktop notifications, through the system tray when the desktop has one."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QSystemTrayIcon

_tray: QSystemTrayIcon | None = None


def notify(title: str, message: str) -> None:
    global _tray
    if not QSystemTrayIcon.isSystemTrayAvailable():
        return  # the status bar already says it
    if _tray is None:
        app = QApplication.instance()
        icon = app.windowIcon() if isinstance(app, QApplication) else None
        _tray = QSystemTrayIcon(icon) if icon is not None else QSystemTrayIcon()
        _tray.show()
    _tray.showMessage(title, message)
