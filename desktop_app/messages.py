"""Telling people what went wrong, in their words (a BatonError's message, never a traceback)."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QMessageBox, QWidget

from engine.errors import BatonError

log = logging.getLogger(__name__)


def describe(exc: BaseException) -> str:
    if isinstance(exc, BatonError):
        return exc.describe()
    log.error("unexpected error", exc_info=exc)
    return f"Something went wrong that Baton did not expect ({type(exc).__name__}: {exc})."


def show_error(parent: QWidget | None, exc: BaseException, title: str = "Baton") -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, describe(exc), parent=parent)
    box.open()
