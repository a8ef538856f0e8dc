"""One run, whole: its canvas coloured by status, a timeline of stage and step runs, its
variables and outputs, its log and its work items, with the interventions that apply."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.console.interventions import OPERATIONS, OutcomesDialog, intervene
from desktop_app.console.reassign import ask_reassign
from desktop_app.console.run_record import RunRecordDialog
from desktop_app.console.variables import VariablesDialog
from desktop_app.designer.document import DesignDocument
from desktop_app.designer.scene import DesignScene
from desktop_app.designer.view import CanvasView
from desktop_app.messages import show_error
from desktop_app.screen import fit_to_screen
from desktop_app.session import AppSession
from desktop_app.shown import shown
from engine import clock
from engine.definitions import Orchestration, to_data
from engine.definitions.editing import new_definition
from engine.services.dto import RunDetail, RunOutcome
from engine.services.notices import Change
from engine.services.runs import canvas_statuses
from engine.statuses import StepStatus

# Which operations a run in each status offers (the engine still checks, and says why not).
REFRESH_MS = 1500  # changes announced within this gather into one refresh
OFFERED = {
    "InProgress": ("suspend", "skip_step", "jump_to_stage", "retry_step", "migrate", "cancel"),
    "Suspended": ("resume", "migrate", "cancel"),
    "Error": ("resume_failed", "retry_step", "skip_step", "jump_to_stage", "cancel"),
    "Completed": (),
    "Canceled": (),
}


def when(value: dt.datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else ""


def took(start: dt.datetime | None, end: dt.datetime | None) -> str:
    if start is None:
        return ""
    seconds = ((end or clock.now()) - start).total_seconds()
    text = (
        f"{seconds:.0f} s"
        if seconds < 120
        else f"{seconds / 60:.0f} min"
        if seconds < 7200
        else f"{seconds / 3600:.1f} h"
        if seconds < 172800
        else f"{seconds / 86400:.1f} days"
    )
    return text if end else f"{text} so far"


def _table(name: str, headers: Sequence[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.horizontalHeader().setStretchLastSection(True)
    table.verticalHeader().hide()
    return table


def _fill(table: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.resizeColumnsToContents()


class RunDetailWindow(QDialog):
    changed = Signal()  # an intervention was made

    def __init__(self, session: AppSession, run_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runDetail")
        self.setWindowTitle(f"Run {run_id}")
        self.setWindowFlag(Qt.WindowType.Window)
        # Closed is gone: a hidden window would go on reading its run on every change, and
        # once someone else signed in it would show them the service's refusal.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.session, self.run_id = session, run_id
        self.detail: RunDetail | None = None
        self.definition: Orchestration | None = None
        self.header = QLabel(f"Run {run_id}: loading…")
        self.header.setObjectName("runHeader")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons: dict[str, QPushButton] = {}
        actions = QHBoxLayout()
        for op in OPERATIONS.values():
            button = QPushButton(op.title + "…")
            button.setObjectName(f"run_{op.name}")
            button.clicked.connect(lambda _=False, name=op.name: self.act(name))
            button.setEnabled(False)  # until the run is loaded: then as its status allows
            actions.addWidget(button)
            self.buttons[op.name] = button
        actions.addStretch(1)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.load)
        actions.addWidget(refresh)

        self.document = DesignDocument(new_definition(), read_only=True)
        self.scene = DesignScene(self.document)
        self.canvas = CanvasView()
        self.canvas.setScene(self.scene)
        self.tabs = QTabWidget()
        self.timeline = QTreeWidget()
        self.timeline.setObjectName("runTimeline")
        self.timeline.setHeaderLabels(
            ["Stage / step", "Status", "Started", "Ended", "Took", "Error"]
        )
        self.values = QTreeWidget()
        self.values.setObjectName("runValues")
        self.values.setHeaderLabels(["Name", "Value"])
        values_box = QWidget()
        values_layout = QVBoxLayout(values_box)
        values_layout.setContentsMargins(0, 0, 0, 0)
        self.variables_button = QPushButton("Change variables…")
        self.variables_button.setObjectName("runChangeVariables")
        self.variables_button.setToolTip("Fix what the run holds, then retry what failed on it")
        self.variables_button.setEnabled(False)  # until the run is loaded
        self.variables_button.clicked.connect(self.change_variables)
        self.record_button = QPushButton("Edit the record…")
        self.record_button.setObjectName("runEditRecord")
        self.record_button.setToolTip("Fix a field of the run's record, then retry")
        self.record_button.setEnabled(False)  # until a run with a record is loaded
        self.record_button.clicked.connect(self.edit_record)
        fixes = QHBoxLayout()
        fixes.addWidget(self.variables_button)
        fixes.addWidget(self.record_button)
        fixes.addStretch(1)
        values_layout.addWidget(self.values)
        values_layout.addLayout(fixes)
        self.log = _table("runLog", ["When", "Who", "Event", "Stage", "Step", "Message"])
        self.items = _table(
            "runItems", ["#", "Item", "Status", "Assigned to", "Claimed by", "Due", "Completed"]
        )
        items_box = QWidget()
        items_layout = QVBoxLayout(items_box)
        items_layout.setContentsMargins(0, 0, 0, 0)
        self.reassign_button = QPushButton("Reassign selected…")
        self.reassign_button.setObjectName("runReassign")
        self.reassign_button.clicked.connect(self.reassign)
        items_layout.addWidget(self.items)
        items_layout.addWidget(self.reassign_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.tabs.addTab(self.timeline, "Timeline")
        self.tabs.addTab(values_box, "Variables and outputs")
        self.tabs.addTab(self.log, "Log")
        self.tabs.addTab(items_box, "Work items")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.canvas)
        split.addWidget(self.tabs)
        split.setSizes([420, 320])
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(actions)
        layout.addWidget(split, 1)
        fit_to_screen(self, 1200, 820)
        # Live: changes announced by the engine (a step done, work completed elsewhere) are
        # gathered for a moment, then the run is read again.
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(REFRESH_MS)
        self._pending.timeout.connect(self.load)
        session.changed.connect(self._announced)
        session.user_changed.connect(self._user_changed)
        self.load()

    def _user_changed(self, _user: object) -> None:
        """Nothing of the previous person stays on screen: their run windows close."""
        self.close()

    def _announced(self, change: Change) -> None:
        if self._concerns(change) and not self._pending.isActive():
            self._pending.start()

    def _concerns(self, change: Change) -> bool:
        """Whether the notice may be about this run: its rows, or its work items (a claim
        moves no run row). A notice that does not name its rows may be about anything."""
        if change.touches("runs", self.run_id):
            return True
        work = change.rows("work")
        if work is None or self.detail is None:
            return work is None or bool(work)
        return any(item.id in work for item in self.detail.work_items)

    # ------------------------------------------------------------ loading

    def load(self) -> None:
        service, run_id = self.session.service, self.run_id

        def fetch() -> tuple[RunDetail, Orchestration]:
            detail = service.runs.show(run_id, log_limit=2000)
            _, definition = service.definitions.get(detail.run.orchestration, detail.run.version)
            return detail, definition

        tasks.run(fetch, self._show, lambda exc: show_error(self, exc))

    def _show(self, result: tuple[RunDetail, Orchestration]) -> None:
        detail, definition = result
        # the canvas is drawn anew for a new run, and for a run moved to another version
        first = self.detail is None or self.detail.run.version != detail.run.version
        self.detail, self.definition = detail, definition
        run = detail.run
        where = f" at {run.current_element}" if run.current_element else ""
        text = (
            f"<b>Run {run.id}</b> · {run.orchestration} v{run.version} · <b>{run.status}</b>{where}"
            f" · started {when(run.started_at)} by {run.started_by or 'the system'}"
        )
        if run.record_id:
            text += f" · record #{run.record_id}"
        if run.error:
            text += f"<br><span style='color:#b42318'>{run.error}</span>"
        self.header.setText(text)
        offered = OFFERED.get(run.status, ())
        elsewhere = detail.other_versions
        for name, button in self.buttons.items():
            button.setEnabled(name in offered and (name != "migrate" or bool(elsewhere)))
        self.buttons["migrate"].setToolTip(
            "" if elsewhere else "This orchestration has no other activated version"
        )
        self.variables_button.setEnabled(
            run.status in ("InProgress", "Suspended", "Error") and bool(definition.variables)
        )
        self.record_button.setEnabled(run.record_id is not None)
        if first:
            self.document.load(to_data(definition), read_only=True)
            self.canvas.fit()
        self.scene.set_statuses(canvas_statuses(detail))
        self._timeline(detail)
        self._values(detail)
        _fill(
            self.log,
            [
                (
                    when(e.at),
                    e.actor or "system",
                    e.event,
                    e.stage or "",
                    e.step or "",
                    e.message or "",
                )
                for e in reversed(detail.log)  # newest first: what just happened is on top
            ],
        )
        _fill(
            self.items,
            [
                (
                    str(w.id),
                    w.title,
                    w.status,
                    f"{w.assignee_kind} {w.assignee}",
                    w.claimed_by or "",
                    when(w.due_at),
                    when(w.completed_at),
                )
                for w in detail.work_items
            ],
        )

    def _timeline(self, detail: RunDetail) -> None:
        self.timeline.clear()
        for stage in detail.stages:
            label = stage.stage + (f" (visit {stage.visit})" if stage.visit > 1 else "")
            node = QTreeWidgetItem(
                [
                    label,
                    stage.status,
                    when(stage.started_at),
                    when(stage.ended_at),
                    took(stage.started_at, stage.ended_at),
                    stage.error or "",
                ]
            )
            for step in stage.steps:
                node.addChild(
                    QTreeWidgetItem(
                        [
                            step.step,
                            step.status,
                            when(step.started_at),
                            when(step.ended_at),
                            took(step.started_at, step.ended_at) if step.started_at else "",
                            step.error or "",
                        ]
                    )
                )
            self.timeline.addTopLevelItem(node)
            node.setExpanded(stage is detail.stages[-1] or stage.status != "Completed")
        for column in range(5):
            self.timeline.resizeColumnToContents(column)

    def _values(self, detail: RunDetail) -> None:
        self.values.clear()
        variables = QTreeWidgetItem(["Variables", ""])
        for name, value in sorted(detail.variables.items()):
            variables.addChild(QTreeWidgetItem([name, shown(value)]))
        self.values.addTopLevelItem(variables)
        variables.setExpanded(True)
        for stage in detail.stages:
            for step in stage.steps:
                if not step.outputs:
                    continue
                node = QTreeWidgetItem([f"{stage.stage}.{step.step}", ""])
                for name, value in sorted(step.outputs.items()):
                    node.addChild(QTreeWidgetItem([name, shown(value)]))
                self.values.addTopLevelItem(node)
                node.setExpanded(True)
        self.values.resizeColumnToContents(0)

    # ------------------------------------------------------------ acting

    def stages_and_steps(self) -> tuple[list[str], list[str]]:
        if self.definition is None or self.detail is None:
            return [], []
        stages = [e.name for e in self.definition.elements]
        current = self.detail.stages[-1].steps if self.detail.stages else []
        # The steps a skip or a retry can act on first, then the others.
        ordered = sorted(current, key=lambda s: s.status not in StepStatus.SKIPPABLE)
        return stages, [s.step for s in ordered]

    def act(self, name: str) -> None:
        stages, steps = self.stages_and_steps()
        intervene(
            self,
            self.session,
            OPERATIONS[name],
            [self.run_id],
            self._done,
            stages=stages,
            steps=steps,
            versions=self.detail.other_versions if self.detail else [],
        )

    def _done(self, outcomes: Sequence[RunOutcome]) -> None:
        refused = [o for o in outcomes if not o.done]
        if refused:
            OutcomesDialog(self, "Not done", outcomes).open()
        self.changed.emit()
        self.load()

    def change_variables(self) -> VariablesDialog | None:
        """Fix the run's data (a bad variable made a step fail), then retry."""
        if self.detail is None or self.definition is None:
            return None
        dialog = VariablesDialog(
            self.session, self.run_id, self.definition, dict(self.detail.variables), self
        )
        dialog.changed.connect(lambda changes: self._variables_changed(changes))
        dialog.open()
        return dialog

    def edit_record(self) -> RunRecordDialog | None:
        """The run's record, to fix a field that made a step fail."""
        if self.detail is None or self.detail.run.record_id is None:
            return None
        dialog = RunRecordDialog(self.session, self.detail.run.record_id, self)
        dialog.saved.connect(lambda _: self.load())
        dialog.open()
        return dialog

    def _variables_changed(self, changes: dict[str, Any]) -> None:
        names = ", ".join(sorted(changes))
        self.header.setToolTip(f"Changed {names}: now retry what failed")
        self.changed.emit()
        self.load()

    def reassign(self) -> None:
        if self.detail is None:
            return
        rows = sorted({i.row() for i in self.items.selectedIndexes()})
        ids = [self.detail.work_items[r].id for r in rows if r < len(self.detail.work_items)]
        if not ids:
            return
        reassign_items(self, self.session, ids, lambda _: self.load())


def reassign_items(parent: QWidget, session: AppSession, ids: Sequence[int], done: Any) -> None:
    """Ask to whom (the picker) and why, then reassign each item (each its own transaction)."""
    frozen = tuple(ids)
    what = f"work item {frozen[0]}" if len(frozen) == 1 else f"{len(frozen)} work items"
    ask_reassign(
        parent,
        session,
        what,
        lambda target, reason: _reassign(parent, session, frozen, target, reason, done),
    )


def _reassign(
    parent: QWidget,
    session: AppSession,
    frozen: tuple[int, ...],
    target: str,
    reason: str,
    done: Any,
) -> None:
    work = session.service.work

    def finished(outcomes: Any) -> None:
        results = [RunOutcome(o.item_id, o.done, o.message) for o in outcomes]
        dialog = OutcomesDialog(parent, "Reassign work items", results)
        dialog.table.setHorizontalHeaderLabels(["Item", "Result", "What happened"])
        dialog.open()
        done(outcomes)

    tasks.run(
        lambda: work.reassign(frozen, target, reason), finished, lambda e: show_error(parent, e)
    )
