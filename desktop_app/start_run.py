"""Start a run from the app: choose an orchestration, fill in its inputs, start it.

The form is built from the active version's input variables (their types, required marks and
defaults); what the engine refuses comes back by field and shows at the field, in the engine's
own words, and nothing is started until everything is right. The new run opens in its detail
window.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.messages import describe
from desktop_app.panels.form import FieldEditor, show_refusal
from desktop_app.session import AppSession
from engine.definitions.model import Orchestration, Variable
from engine.errors import InvalidInput
from engine.services.dto import RunSummary

# How each variable type is typed in: the form field kinds the Inbox's forms use.
FIELD_KIND = {
    "text": "text",
    "number": "number",
    "boolean": "checkbox",
    "date": "date",
    "datetime": "datetime",
    "list": "long_text",
    "object": "long_text",
}


@dataclass(frozen=True)
class Startable:
    """An orchestration that can be started now: its name, label and active definition."""

    name: str
    label: str
    definition: Orchestration


def startable(session: AppSession, object_type: str | None = None) -> list[Startable]:
    """Called off the GUI thread: orchestrations with an active version. For a record's page
    (``object_type``), those triggered by its type of record, and the autolaunched ones."""
    service = session.service
    found = []
    for info in service.definitions.list():
        if info.active_version is None:
            continue
        _, definition = service.definitions.get(info.name, info.active_version)
        trigger = definition.trigger
        if object_type is not None and trigger is not None and trigger.object != object_type:
            continue
        found.append(Startable(info.name, info.label or info.name, definition))
    return found


class StartRunDialog(QDialog):
    """``started(RunSummary)`` once the engine has started the run."""

    started = Signal(object)

    def __init__(
        self,
        session: AppSession,
        parent: QWidget | None = None,
        *,
        orchestration: str | None = None,
        record_id: int | None = None,
        object_type: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("startRun")
        self.setWindowTitle("Start a run")
        self.session = session
        self.record_id = record_id
        self.wanted = orchestration
        self.choices: list[Startable] = []
        self.editors: dict[str, FieldEditor] = {}
        layout = QVBoxLayout(self)
        self.orchestrations = QComboBox()
        self.orchestrations.setObjectName("startOrchestration")
        self.orchestrations.currentIndexChanged.connect(self._chosen)
        top = QFormLayout()
        top.addRow("Orchestration", self.orchestrations)
        layout.addLayout(top)
        self.about = QLabel()
        self.about.setProperty("role", "muted")
        self.about.setWordWrap(True)
        layout.addWidget(self.about)
        self.inputs_box = QWidget()
        self.inputs = QFormLayout(self.inputs_box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.inputs_box)
        layout.addWidget(scroll, 1)
        self.problem = QLabel()
        self.problem.setObjectName("startProblem")
        self.problem.setProperty("role", "error")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.start_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.start_button.setText("Start run")
        self.start_button.setObjectName("startRunButton")
        self.start_button.setEnabled(False)  # until the orchestrations are loaded
        self.buttons.accepted.connect(self._start)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(520, 480)
        tasks.run(lambda: startable(session, object_type), self._loaded, self._failed)

    # ------------------------------------------------------------ loading

    def _loaded(self, choices: list[Startable]) -> None:
        self.choices = choices
        self.orchestrations.blockSignals(True)
        self.orchestrations.clear()
        for choice in choices:
            self.orchestrations.addItem(choice.label, choice.name)
        wanted = self.orchestrations.findData(self.wanted) if self.wanted else 0
        self.orchestrations.setCurrentIndex(max(wanted, 0))
        self.orchestrations.blockSignals(False)
        if not choices:
            self.about.setText("No orchestration has an active version to start.")
            return
        self._chosen(self.orchestrations.currentIndex())

    def _failed(self, exc: BaseException) -> None:
        self.problem.setText(describe(exc))
        self.problem.show()

    def _chosen(self, index: int) -> None:
        while self.inputs.rowCount():
            self.inputs.removeRow(0)
        self.editors = {}
        self.problem.hide()
        if not 0 <= index < len(self.choices):
            self.start_button.setEnabled(False)
            return
        definition = self.choices[index].definition
        self.about.setText(definition.description or "")
        self.about.setVisible(bool(definition.description))
        inputs = [v for v in definition.variables if v.input]
        for variable in inputs:
            editor = FieldEditor(_field_of(variable))
            self.editors[variable.name] = editor
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(editor.widget)
            column.addWidget(editor.error)
            label = variable.label or variable.name.replace("_", " ").capitalize()
            self.inputs.addRow(label + (" *" if variable.required else ""), box)
            editor.widget.setAccessibleName(label + (" (required)" if variable.required else ""))
        if not inputs:
            self.inputs.addRow(QLabel("This orchestration takes no inputs."))
        self.start_button.setEnabled(True)
        first = next(iter(self.editors.values()), None)
        if first is not None:
            first.widget.setFocus()

    # ------------------------------------------------------------ starting

    def _start(self) -> None:
        index = self.orchestrations.currentIndex()
        if not 0 <= index < len(self.choices):
            return
        name = self.choices[index].name
        values: dict[str, Any] = {}
        local: dict[str, str] = {}
        for field_name, editor in self.editors.items():
            editor.show_error(None)
            value = editor.value()
            if value is not None and FIELD_KIND.get(editor.spec["variable_type"]) == "long_text":
                value, problem = parse_json(value, editor.spec["variable_type"])
                if problem:
                    local[field_name] = problem
                    continue
            if value is not None:
                values[field_name] = value
        if local:
            self._show_problems(InvalidInput("the inputs are not right", fields=local))
            return
        self.problem.hide()
        self.start_button.setEnabled(False)
        runs, record_id = self.session.service.runs, self.record_id
        start: Callable[[], RunSummary] = lambda: runs.start(name, values, record_id=record_id)  # noqa: E731
        tasks.run(start, self._done, self._refused)

    def _done(self, run: RunSummary) -> None:
        self.started.emit(run)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.start_button.setEnabled(True)
        if isinstance(exc, InvalidInput):
            self._show_problems(exc)
        else:
            self._failed(exc)

    def _show_problems(self, exc: InvalidInput) -> None:
        show_refusal(self.editors, self.problem, exc)


def _field_of(variable: Variable) -> dict[str, Any]:
    kind = FIELD_KIND.get(variable.type.value, "text")
    default = variable.default
    if kind == "long_text" and default is not None:
        default = json.dumps(default)
    return {
        "name": variable.name,
        "type": kind,
        "required": variable.required,
        "default": default,
        "variable_type": variable.type.value,
    }


def parse_json(text: str, kind: str) -> tuple[Any, str | None]:
    """A list or object typed as JSON, or why it is not one."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        return None, f"is not JSON ({exc.args[0].split(':')[0]})"
    wanted = list if kind == "list" else dict
    if not isinstance(value, wanted):
        return None, f"expected {'a list' if kind == 'list' else 'an object'} in JSON"
    return value, None
