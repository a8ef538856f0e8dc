"""Change a run's variables from its detail window: fix what made a step fail, then retry it.

Each declared variable has a typed editor holding its current value; only what was changed is
sent, with the reason the supervisor gives; the engine checks the types and logs every old and
new value. A refusal shows at the fields and changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.messages import describe
from desktop_app.panels.form import FieldEditor, show_refusal
from desktop_app.session import AppSession
from desktop_app.start_run import FIELD_KIND, parse_json
from engine.definitions.model import Orchestration
from engine.errors import InvalidInput


class VariablesDialog(QDialog):
    """``changed(dict)`` with the engine's {name: {"old", "new"}} once the change is made."""

    changed = Signal(object)

    def __init__(
        self,
        session: AppSession,
        run_id: int,
        definition: Orchestration,
        values: dict[str, Any],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("runVariables")
        self.setWindowTitle(f"Change the variables of run {run_id}")
        self.session, self.run_id = session, run_id
        self.before: dict[str, Any] = {}
        self.editors: dict[str, FieldEditor] = {}
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Change what the run holds, then retry what failed on it. Only the values you "
            "change are sent; the run's history keeps the old and new values and your reason."
        )
        intro.setWordWrap(True)
        intro.setProperty("role", "muted")
        layout.addWidget(intro)
        box = QWidget()
        form = QFormLayout(box)
        for variable in definition.variables:
            kind = FIELD_KIND.get(variable.type.value, "text")
            current = values.get(variable.name)
            shown = json.dumps(current) if kind == "long_text" and current is not None else current
            editor = FieldEditor(
                {
                    "name": variable.name,
                    "type": kind,
                    "default": shown,
                    "variable_type": variable.type.value,
                }
            )
            self.editors[variable.name] = editor
            self.before[variable.name] = editor.value()
            holder = QWidget()
            column = QVBoxLayout(holder)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(editor.widget)
            column.addWidget(editor.error)
            label = variable.label or variable.name
            editor.widget.setAccessibleName(label)
            form.addRow(f"{label} ({variable.type.value})", holder)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(box)
        layout.addWidget(scroll, 1)
        self.reason = QLineEdit()
        self.reason.setObjectName("variablesReason")
        self.reason.setPlaceholderText("Why (kept in the run's history)")
        reasons = QFormLayout()
        reasons.addRow("Reason *", self.reason)
        layout.addLayout(reasons)
        self.problem = QLabel()
        self.problem.setObjectName("variablesProblem")
        self.problem.setProperty("role", "error")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Change")
        self.ok.setObjectName("changeVariables")
        self.buttons.accepted.connect(self._change)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(520, 460)

    def _change(self) -> None:
        changed: dict[str, Any] = {}
        local: dict[str, str] = {}
        for name, editor in self.editors.items():
            editor.show_error(None)
            value = editor.value()
            if value == self.before[name]:
                continue
            if value is not None and editor.kind == "long_text":
                parsed, problem = parse_json(value, self._type_of(name))
                if problem:
                    local[name] = problem
                    continue
                value = parsed
            changed[name] = value
        if local:
            self._show(InvalidInput("the variables were not changed", fields=local))
            return
        if not changed:
            self._show(InvalidInput("change a value first"))
            return
        runs, run_id, reason = self.session.service.runs, self.run_id, self.reason.text()
        self.ok.setEnabled(False)
        tasks.run(lambda: runs.set_variables(run_id, changed, reason), self._done, self._refused)

    def _type_of(self, name: str) -> str:
        return str(self.editors[name].spec["variable_type"])

    def _done(self, changes: dict[str, Any]) -> None:
        self.changed.emit(changes)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.ok.setEnabled(True)
        if isinstance(exc, InvalidInput):
            self._show(exc)
        else:
            self.problem.setText(describe(exc))
            self.problem.show()

    def _show(self, exc: InvalidInput) -> None:
        show_refusal(self.editors, self.problem, exc)
