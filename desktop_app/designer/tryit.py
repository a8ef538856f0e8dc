"""Try it: run the draft in a scratch database from a side panel — give its inputs, act as
each assignee in turn, travel in the trial's own time (escalations and waits fall due on the
way), and watch the canvas colour stages and steps as the run moves. The session can be
recorded as a scenario for the Tests tab. The real database never sees any of it."""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app import layouts, tasks
from desktop_app.designer.fields import parse_value
from desktop_app.panels.form import FormView
from engine.clients.trial import OpenItem, Trial, TrialState
from engine.errors import BatonError
from engine.scenarios.recording import record_trial, to_yaml

if TYPE_CHECKING:
    from desktop_app.designer.panel import DesignerPanel

# The units time travels in ("2 business days"); one of each is said in the singular.
UNITS = ["hours", "business hours", "days", "business days"]

# How a variable's type is asked for in the inputs form.
FIELD_OF = {
    "text": "text",
    "number": "number",
    "boolean": "checkbox",
    "date": "date",
    "datetime": "datetime",
    "list": "long_text",
    "object": "long_text",
}


def inputs_form(data: dict[str, Any], object_fields: dict[str, list[dict[str, Any]]]) -> dict:  # type: ignore[type-arg]
    """The form that starts a trial run: the draft's inputs, or its trigger record's fields."""
    trigger = data.get("trigger") or {}
    if trigger.get("object"):
        fields = [dict(f) for f in object_fields.get(str(trigger["object"]), [])]
        return {
            "title": f"A new {trigger['object']} record",
            "instructions": "Saving it starts the run when it meets the trigger's criteria"
            + (f": {trigger['criteria']}" if trigger.get("criteria") else "."),
            "fields": fields,
            "outcomes": [{"name": "start", "label": "Create the record and start"}],
        }
    fields = []
    for variable in data.get("variables") or []:
        if isinstance(variable, dict) and variable.get("input"):
            fields.append(
                {
                    "name": variable["name"],
                    "label": variable.get("label"),
                    "type": FIELD_OF.get(str(variable.get("type", "text")), "text"),
                    "required": bool(variable.get("required")),
                    "default": variable.get("default"),
                }
            )
    return {
        "title": "Inputs of the run",
        "instructions": "The run starts in a scratch database: nothing reaches the real one.",
        "fields": fields,
        "outcomes": [{"name": "start", "label": "Start the run"}],
    }


def _parsed(values: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Lists and objects are typed as YAML."""
    kinds = {
        v.get("name"): v.get("type") for v in data.get("variables") or [] if isinstance(v, dict)
    }
    out = {}
    for name, value in values.items():
        if value is None or value == "":
            continue
        if kinds.get(name) in ("list", "object") and isinstance(value, str):
            value = parse_value(value)
        out[name] = value
    return out


class TryItPanel(QWidget):
    finished = Signal()

    def __init__(self, panel: DesignerPanel) -> None:
        super().__init__()
        self.setObjectName("tryItPanel")
        self.panel = panel
        self.trial: Trial | None = None
        self.run_id: int | None = None
        self.state: TrialState | None = None
        self.folder: tempfile.TemporaryDirectory[str] | None = None
        self.data: dict[str, Any] = {}
        self._ticket = 0  # which trial answers are for; each new or ended trial moves it on
        self._busy = 0  # background calls on trials still running
        self._ended: list[tuple[Trial | None, tempfile.TemporaryDirectory[str] | None]] = []
        layout = QVBoxLayout(self)
        heading = QLabel("Try it")
        heading.setProperty("role", "title")
        self.summary = QLabel()
        self.summary.setObjectName("trySummary")
        self.summary.setWordWrap(True)
        self.items = QListWidget()
        self.items.setObjectName("tryItems")
        # The lists give up height before the form does (a laptop's 768 pixels left the form
        # 90 of them); the form's buttons stay in sight under it, whatever it scrolls.
        self.items.setMinimumHeight(48)
        self.items.setMaximumHeight(130)
        self.person = QComboBox()
        self.person.setObjectName("tryPerson")
        acting = QHBoxLayout()
        acting.addWidget(QLabel("Act as"))
        acting.addWidget(self.person, 1)
        self.form_area = QScrollArea()
        self.form_area.setWidgetResizable(True)
        self.form_area.setMinimumHeight(180)
        self.form_actions = QHBoxLayout()
        self.form_actions.setContentsMargins(0, 0, 0, 0)
        self.error = QLabel()
        self.error.setObjectName("tryError")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.clock = QLabel()
        self.clock.setObjectName("tryClock")
        self.clock.setProperty("role", "muted")
        self.amount = QSpinBox()
        self.amount.setObjectName("tryAdvanceAmount")
        self.amount.setRange(1, 999)
        self.unit = QComboBox()
        self.unit.setObjectName("tryAdvanceUnit")
        self.unit.addItems(UNITS)
        self.unit.setCurrentText("business days")
        self.advance_button = QPushButton("Advance time")
        self.advance_button.setObjectName("tryAdvance")
        self.advance_button.setToolTip(
            "Travel in the trial's time: timers, waits and escalations fall due on the way"
        )
        self.advance_button.clicked.connect(self.advance)
        self.next_due = QPushButton("To next due")
        self.next_due.setObjectName("tryNextDue")
        self.next_due.setToolTip("Travel to the next moment something falls due")
        self.next_due.clicked.connect(lambda: self.advance(next_due=True))
        travel = QHBoxLayout()
        travel.addWidget(self.amount)
        travel.addWidget(self.unit)
        travel.addWidget(self.advance_button)
        travel.addWidget(self.next_due)
        self.history = QListWidget()
        self.history.setObjectName("tryHistory")
        self.history.setMinimumHeight(48)
        self.history.setMaximumHeight(96)
        self.history.setToolTip("What happened in the run, latest first")
        self.record = QPushButton("Record as scenario…")
        self.record.setObjectName("tryRecord")
        self.record.setToolTip(
            "Keep this session as a scenario: what was done, and the state it reached as "
            "its expectations (shown in the Tests tab, to run and save)"
        )
        self.record.clicked.connect(self.record_scenario)
        buttons = QHBoxLayout()
        self.again = QPushButton("Start again")
        self.again.setObjectName("tryAgain")
        self.again.clicked.connect(self.begin)
        stop = QPushButton("Back to editing")
        stop.setObjectName("tryStop")
        stop.clicked.connect(self.stop)
        buttons.addWidget(self.again)
        buttons.addWidget(self.record)
        buttons.addStretch(1)
        buttons.addWidget(stop)
        layout.addWidget(heading)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("Open work"))
        layout.addWidget(self.items)
        layout.addLayout(acting)
        layout.addWidget(self.error)
        layout.addWidget(self.form_area, 1)
        layout.addLayout(self.form_actions)
        layout.addWidget(self.clock)
        layout.addLayout(travel)
        layout.addWidget(QLabel("What happened"))
        layout.addWidget(self.history)
        layout.addLayout(buttons)
        self.items.currentRowChanged.connect(self._item_chosen)
        self.person.currentTextChanged.connect(lambda _: self._show_form())
        self._running(False)

    def _running(self, running: bool) -> None:
        """Time travel and recording need a run to act on."""
        for widget in (self.advance_button, self.next_due, self.record):
            widget.setEnabled(running)

    # ------------------------------------------------------------ starting

    def begin(self) -> None:
        """Open a fresh scratch database with the draft, and ask for the run's inputs."""
        self.close_trial()
        self.data = copy.deepcopy(self.panel.document.data)
        self.folder = tempfile.TemporaryDirectory(prefix="baton-try-")
        folder, data, baton = self.folder.name, self.data, self.panel.session.service
        self.summary.setText("Preparing a scratch database…")
        self.items.clear()
        self.history.clear()
        self.clock.setText("")
        self._running(False)
        self._set_form(None)
        self._run(lambda: Trial.open(baton, data, folder), self._opened)

    def _opened(self, trial: Trial) -> None:
        self.trial = trial
        self.summary.setText(
            f"Scratch database ready with {trial.name}. Give the inputs and start the run."
        )
        form = FormView(inputs_form(self.data, self.panel.catalog.object_fields))
        form.setObjectName("tryInputs")
        form.submitted.connect(lambda _o, values, _c: self._start(values))
        self._set_form(form)

    def _start(self, values: dict[str, Any]) -> None:
        trial = self.trial
        if trial is None:
            return
        record = bool((self.data.get("trigger") or {}).get("object"))
        inputs = _parsed(values, self.data)

        def start() -> int:
            return trial.start({} if record else inputs, inputs if record else None)

        self._run(start, self._started)

    def _started(self, run_id: int) -> None:
        self.run_id = run_id
        self.refresh()

    # ------------------------------------------------------------ following the run

    def refresh(self) -> None:
        trial, run_id = self.trial, self.run_id
        if trial is None or run_id is None:
            return
        self._run(lambda: trial.state(run_id), self._show_state)

    def _show_state(self, state: TrialState) -> None:
        self.state = state
        self.error.hide()
        self._running(True)
        if self.trial is not None:
            self.clock.setText(f"Trial time: {self.trial.now().astimezone():%a %d %b %Y %H:%M}")
        self.history.clear()
        for logged in sorted(state.log, key=lambda e: e.at, reverse=True):
            where = ".".join(p for p in (logged.stage, logged.step) if p)
            text = f"{logged.at.astimezone():%d %b %H:%M}  {logged.event}"
            text += f" {where}" if where else ""
            self.history.addItem(text + (f": {logged.message}" if logged.message else ""))
        self.panel.scene.set_statuses(state.statuses)
        run = state.run
        where = f" at {run.current_element}" if run.current_element else ""
        text = f"Run {run.id}: {run.status}{where}."
        if run.error:
            text += f" {run.error}"
        if not state.items and run.status == "InProgress":
            text += " Nobody has work in it now (it waits on time or an event)."
        self.summary.setText(text)
        chosen = self.items.currentItem()
        chosen_id = chosen.data(Qt.ItemDataRole.UserRole) if chosen else None
        self.items.blockSignals(True)
        self.items.clear()
        for open_item in state.items:
            item = open_item.item
            entry = QListWidgetItem(f"{item.title} — {item.assignee_kind} {item.assignee}")
            entry.setData(Qt.ItemDataRole.UserRole, item.id)
            self.items.addItem(entry)
            if item.id == chosen_id:
                self.items.setCurrentItem(entry)
        self.items.blockSignals(False)
        if self.items.currentRow() < 0 and self.items.count():
            self.items.setCurrentRow(0)
        else:
            self._item_chosen(self.items.currentRow())

    def _open_item(self) -> OpenItem | None:
        if self.state is None:
            return None
        row = self.items.currentRow()
        return self.state.items[row] if 0 <= row < len(self.state.items) else None

    def _item_chosen(self, row: int) -> None:
        chosen = self._open_item()
        self.person.blockSignals(True)
        self.person.clear()
        if chosen is not None:
            self.person.addItems(chosen.people)
        self.person.blockSignals(False)
        self._show_form()

    def _show_form(self) -> None:
        chosen, trial = self._open_item(), self.trial
        person = self.person.currentText()
        if chosen is None or trial is None or not person:
            self._set_form(None if chosen is None else QLabel("Nobody may do this item."))
            return
        item_id = chosen.item.id
        self._run(
            lambda: trial.details(item_id, person),
            lambda details: self._form_for(item_id, person, details),
        )

    def _form_for(self, item_id: int, person: str, details: Any) -> None:
        form = FormView(details.form)
        form.setObjectName("tryForm")
        form.submitted.connect(
            lambda outcome, values, comment: self._complete(
                form, item_id, person, outcome, values, comment
            )
        )
        self._set_form(form)

    def _complete(
        self,
        form: FormView,
        item_id: int,
        person: str,
        outcome: str | None,
        values: dict[str, Any],
        comment: str,
    ) -> None:
        trial = self.trial
        if trial is None:
            return
        form.set_busy(True)

        def refused(exc: BaseException) -> None:
            form.set_busy(False)
            if isinstance(exc, BatonError):
                form.show_errors(str(exc), exc.fields)
            else:
                self._failed(exc)

        self._run(
            lambda: trial.complete(item_id, person, values, outcome=outcome, comment=comment),
            lambda _: self.refresh(),
            refused,
        )

    # ------------------------------------------------------------ time travel and recording

    def advance(self, *, next_due: bool = False) -> None:
        """Travel in the trial's time by the amount chosen, or to the next due moment."""
        trial = self.trial
        if trial is None or self.run_id is None:
            return
        unit = self.unit.currentText()
        amount = self.amount.value()
        by = None if next_due else f"{amount} {unit if amount != 1 else unit.rstrip('s')}"
        self.advance_button.setEnabled(False)
        self.next_due.setEnabled(False)

        def refused(exc: BaseException) -> None:
            self._running(True)
            self._failed(exc)

        self._run(
            lambda: trial.advance(by=by, next_due=next_due), lambda _: self.refresh(), refused
        )

    def record_scenario(self) -> None:
        trial, run_id = self.trial, self.run_id
        if trial is None or run_id is None:
            return
        name, ok = QInputDialog.getText(
            self, "Record as a scenario", "Name of the scenario:", text=f"tried {trial.name}"
        )
        name = name.strip()
        if not ok or not name:
            return

        def record() -> str:
            return to_yaml(record_trial(trial, run_id, name=name, orchestration=trial.name))

        self._run(record, lambda text: self.panel.record_into_tests(name, text))

    def _run(
        self,
        work: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Work on the trial in the background. An answer for a trial that has since ended
        is dropped, and an ended trial's scratch database is removed only once nothing is
        still working on it."""
        ticket = self._ticket
        self._busy += 1

        def finish(callback: Callable[[Any], None], value: Any) -> None:
            self._busy -= 1
            if ticket == self._ticket:
                callback(value)
            elif isinstance(value, Trial):
                self._ended.append((value, None))  # opened after it was given up
            self._release()

        tasks.run(
            work,
            lambda value: finish(done, value),
            lambda exc: finish(failed or self._failed, exc),
        )

    def _release(self) -> None:
        if self._busy:
            return
        ended, self._ended = self._ended, []
        for trial, folder in ended:
            if trial is not None:
                trial.close()
            if folder is not None:
                folder.cleanup()

    def _set_form(self, widget: QWidget | None) -> None:
        layouts.empty(self.form_actions)  # the buttons of the form shown before
        old = self.form_area.takeWidget()
        if old is not None:
            old.deleteLater()
        if widget is not None:
            self.form_area.setWidget(widget)
            bar = getattr(widget, "action_bar", None)
            if isinstance(bar, QWidget):
                self.form_actions.addWidget(bar)

    def _failed(self, exc: BaseException) -> None:
        details = list(getattr(exc, "details", []) or [])
        self.error.setText("\n".join([str(exc), *details[:10]]))
        self.error.show()

    # ------------------------------------------------------------ ending

    def stop(self) -> None:
        self.close_trial()
        self.panel.scene.set_statuses({})
        self.finished.emit()

    def close_trial(self) -> None:
        self._ticket += 1
        self._ended.append((self.trial, self.folder))
        self.trial, self.folder, self.run_id, self.state = None, None, None, None
        self._running(False)
        self._release()
