"""Creating and deleting records from the Records panel.

Deleting a record that runs are still about asks what to do with them — cancel them with a
reason, or keep them going without it — so no run's work is left open for good by accident.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.messages import describe
from desktop_app.panels.form import FieldEditor
from desktop_app.session import AppSession
from engine.errors import BatonError
from engine.services.dto import ObjectTypeInfo, RecordInfo, RunSummary
from engine.services.queries import RunFilter
from engine.services.records import RecordRemoval

OPEN = ("InProgress", "Suspended", "Error")  # the run statuses that are not over


def _problem_label(name: str) -> QLabel:
    problem = QLabel()
    problem.setObjectName(name)
    problem.setProperty("role", "error")
    problem.setWordWrap(True)
    problem.hide()
    return problem


def field_problems(exc: BaseException) -> dict[str, str]:
    """A refusal's problems by field (the services say which field each is about)."""
    return dict(exc.fields) if isinstance(exc, BatonError) else {}


class NewRecordDialog(QDialog):
    """A new record of one object type, its fields checked by the records service."""

    created = Signal(object)  # RecordInfo

    def __init__(
        self, session: AppSession, kind: ObjectTypeInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.kind = kind
        self.setObjectName("newRecordDialog")
        self.setWindowTitle(f"New {kind.label}")
        self.editors: dict[str, FieldEditor] = {}
        body = QWidget()
        form = QFormLayout(body)
        for spec in kind.fields:
            editor = FieldEditor(spec)
            editor.widget.setObjectName(f"new_{spec['name']}")
            self.editors[spec["name"]] = editor
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(editor.widget)
            column.addWidget(editor.error)
            form.addRow(spec.get("label") or spec["name"].replace("_", " ").capitalize(), box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        self.problem = _problem_label("newRecordProblem")
        self.create_button = QPushButton("Create")
        self.create_button.setObjectName("createRecord")
        self.create_button.setProperty("role", "primary")
        self.create_button.clicked.connect(self._create)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(self.create_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def _create(self) -> None:
        values = {
            name: value
            for name, editor in self.editors.items()
            if (value := editor.value()) is not None
        }
        records, kind = self.session.service.records, self.kind.name
        for editor in self.editors.values():
            editor.show_error(None)
        self.problem.hide()
        self.create_button.setEnabled(False)
        tasks.run(lambda: records.create(kind, values), self._created, self._refused)

    def _created(self, record: RecordInfo) -> None:
        self.created.emit(record)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.create_button.setEnabled(True)
        for name, problem in field_problems(exc).items():
            if name in self.editors:
                self.editors[name].show_error(problem)
        self.problem.setText(describe(exc))
        self.problem.show()


class DeleteRecordDialog(QDialog):
    """Delete a record; with open runs about it, say what becomes of them first."""

    deleted = Signal(str)  # what was done, for the status bar

    def __init__(
        self, session: AppSession, record: RecordInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.record = record
        self.open_runs: list[RunSummary] | None = None
        self.setObjectName("deleteRecordDialog")
        self.setWindowTitle(f"Delete {record.title}")
        self.effect = QLabel(f"Looking for runs about {record.title}…")
        self.effect.setObjectName("deleteEffect")
        self.effect.setWordWrap(True)
        self.cancel_runs = QRadioButton("Cancel them, because:")
        self.cancel_runs.setObjectName("cancelOpenRuns")
        self.reason = QLineEdit()
        self.reason.setObjectName("cancelReason")
        self.reason.setPlaceholderText("why (kept in each run's log)")
        self.keep_runs = QRadioButton("Keep them going without the record")
        self.keep_runs.setObjectName("keepOpenRuns")
        self.choice = QButtonGroup(self)
        self.choice.addButton(self.cancel_runs)
        self.choice.addButton(self.keep_runs)
        self.cancel_runs.setChecked(True)
        self.reason.textEdited.connect(lambda _: self.cancel_runs.setChecked(True))
        self.choices = QWidget()
        column = QVBoxLayout(self.choices)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.cancel_runs)
        column.addWidget(self.reason)
        column.addWidget(self.keep_runs)
        self.choices.hide()
        self.problem = _problem_label("deleteProblem")
        self.confirm = QPushButton("Delete")
        self.confirm.setObjectName("confirmDelete")
        self.confirm.setEnabled(False)
        self.confirm.clicked.connect(self._delete)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(self.confirm, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.effect)
        layout.addWidget(self.choices)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        console, record_id = session.service.console, record.id
        tasks.run(
            lambda: console.runs(RunFilter(record_id=record_id, statuses=OPEN), limit=1000),
            self._found,
            self._refused,
        )

    def _found(self, runs: list[RunSummary]) -> None:
        self.open_runs = runs
        self.confirm.setEnabled(True)
        if not runs:
            self.effect.setText(f"Delete {self.record.title}? No run is still about it.")
            return
        listed = ", ".join(f"{r.id} ({r.orchestration}, {r.status})" for r in runs[:8])
        more = f" and {len(runs) - 8} more" if len(runs) > 8 else ""
        self.effect.setText(
            f"{len(runs)} run(s) are still about {self.record.title}: {listed}{more}. "
            "What should become of them?"
        )
        self.choices.show()

    def _delete(self) -> None:
        records, record_id = self.session.service.records, self.record.id
        choice: Any = None
        reason = ""
        if self.open_runs:
            choice = "cancel" if self.cancel_runs.isChecked() else "keep"
            reason = self.reason.text().strip()
        self.problem.hide()
        self.confirm.setEnabled(False)
        tasks.run(
            lambda: records.delete(record_id, open_runs=choice, reason=reason),
            self._deleted,
            self._refused,
        )

    def _deleted(self, removal: RecordRemoval) -> None:
        said = f"Deleted {removal.title}"
        if removal.runs_canceled:
            said += f"; canceled run(s) {', '.join(map(str, removal.runs_canceled))}"
        if removal.runs_kept:
            said += f"; run(s) {', '.join(map(str, removal.runs_kept))} go on without it"
        self.deleted.emit(said)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.confirm.setEnabled(self.open_runs is not None)
        self.problem.setText(describe(exc))
        self.problem.show()
