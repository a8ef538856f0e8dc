"""A run's record, edited from the run's detail window: fix a field that made a step fail,
then retry. The record's own page is reused (its typed fields, the stale-edit check, saving
through the records service, which starts what the save triggers)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from desktop_app import tasks
from desktop_app.messages import describe
from desktop_app.panels.records import RecordPage
from desktop_app.screen import fit_to_screen
from desktop_app.session import AppSession
from engine.services.dto import ObjectTypeInfo, RecordInfo


def _load(session: AppSession, record_id: int) -> tuple[ObjectTypeInfo, RecordInfo]:
    records = session.service.records
    record = records.get(record_id)
    kind = next(t for t in records.types() if t.name == record.object_type)
    return kind, record


class RunRecordDialog(QDialog):
    """``saved(str)`` after each save of the record."""

    saved = Signal(str)

    def __init__(self, session: AppSession, record_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runRecord")
        self.setWindowTitle(f"Record #{record_id}")
        layout = QVBoxLayout(self)
        self.status = QLabel("Loading the record…")
        self.status.setProperty("role", "muted")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.page = RecordPage(session)
        self.page.saved.connect(self._saved)
        layout.addWidget(self.page, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        fit_to_screen(self, 720, 640)
        tasks.run(lambda: _load(session, record_id), self._loaded, self._failed)

    def _loaded(self, loaded: Any) -> None:
        kind, record = loaded
        self.status.setText("Change what is wrong and save; then retry what failed on it.")
        self.page.show_record(kind, record)

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(describe(exc))

    def _saved(self, message: str) -> None:
        self.status.setText(message)
        self.saved.emit(message)
