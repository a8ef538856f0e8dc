"""A supervisor's interventions: ask what and why, do it to a frozen list of runs in the
background, then say honestly what was done to each run and what was refused."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.messages import show_error
from desktop_app.session import AppSession
from engine.services.dto import RunOutcome


@dataclass(frozen=True)
class Operation:
    name: str  # the service's operation
    title: str
    needs: str | None = None  # 'step', 'stage', 'version' or 'outputs' (a step and its outputs)


OPERATIONS = {
    op.name: op
    for op in (
        Operation("suspend", "Suspend"),
        Operation("resume", "Resume"),
        Operation("resume_failed", "Resume failed run"),
        Operation("retry_step", "Retry step", "step"),
        Operation("skip_step", "Skip step", "outputs"),
        Operation("jump_to_stage", "Jump to stage", "stage"),
        Operation("migrate", "Move to version", "version"),
        Operation("cancel", "Cancel"),
    )
}


class InterventionDialog(QDialog):
    """What the operation needs: always a reason; a step, a stage or outputs where asked."""

    def __init__(
        self,
        parent: QWidget | None,
        operation: Operation,
        run_ids: Sequence[int],
        *,
        stages: Sequence[str] = (),
        steps: Sequence[str] = (),
        versions: Sequence[int] = (),
    ) -> None:
        super().__init__(parent)
        self.setObjectName("interventionDialog")
        self.operation = operation
        count = len(run_ids)
        who = f"run {run_ids[0]}" if count == 1 else f"{count} selected runs"
        self.setWindowTitle(f"{operation.title}: {who}")
        form = QFormLayout(self)
        listed = f" ({', '.join(map(str, run_ids))})" if 1 < count <= 6 else ""
        form.addRow(QLabel(f"{operation.title} — {who}{listed}. Logged with your name and reason."))
        self.choice = QComboBox()
        self.choice.setObjectName("interventionChoice")
        self.choice.setEditable(True)
        self.outputs = QPlainTextEdit()
        self.outputs.setObjectName("interventionOutputs")
        self.outputs.setPlaceholderText(
            'What the step would have given, as JSON: its form\'s fields, e.g. {"approved": true}'
        )
        self.outputs.setFixedHeight(70)
        if operation.needs == "stage":
            self.choice.addItems(list(stages))
            form.addRow("Stage", self.choice)
        elif operation.needs == "version":
            self.choice.addItems([str(v) for v in versions])
            form.addRow("Version", self.choice)
        elif operation.needs in ("step", "outputs"):
            if operation.needs == "step":
                self.choice.addItem("(every failed step)")
            self.choice.addItems(list(steps))
            form.addRow("Step", self.choice)
            if operation.needs == "outputs":
                form.addRow("Outputs (JSON)", self.outputs)
        self.reason = QLineEdit()
        self.reason.setObjectName("interventionReason")
        self.reason.setPlaceholderText("why — required")
        form.addRow("Reason", self.reason)
        self.problem = QLabel()
        self.problem.setObjectName("interventionProblem")
        self.problem.setStyleSheet("color: #b42318")
        form.addRow(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(operation.title)
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.options: dict[str, Any] = {}

    def _check(self) -> None:
        if not self.reason.text().strip():
            self.problem.setText("Say why: the reason is kept in each run's log.")
            return
        options: dict[str, Any] = {}
        needs = self.operation.needs
        if needs == "stage":
            options["stage"] = self.choice.currentText().strip()
        elif needs == "version":
            text = self.choice.currentText().strip()
            if not text.isdigit():
                self.problem.setText(f"Version: a number, not '{text}'.")
                return
            options["version"] = int(text)
        elif needs in ("step", "outputs"):
            step = self.choice.currentText().strip()
            if not step.startswith("("):
                options["step"] = step
            if needs == "outputs":
                text = self.outputs.toPlainText().strip() or "{}"
                try:
                    outputs = json.loads(text)
                except json.JSONDecodeError as exc:
                    self.problem.setText(f"Outputs: not JSON ({exc.msg} at column {exc.colno}).")
                    return
                if not isinstance(outputs, dict):
                    self.problem.setText('Outputs: give an object, e.g. {"approved": true}.')
                    return
                options["outputs"] = outputs
        if needs in ("stage", "outputs") and not options.get(needs if needs == "stage" else "step"):
            self.problem.setText(f"Choose the {'stage' if needs == 'stage' else 'step'}.")
            return
        self.options = options
        self.accept()


class OutcomesDialog(QDialog):
    """Per run: done, or refused and why."""

    def __init__(self, parent: QWidget | None, title: str, outcomes: Sequence[RunOutcome]) -> None:
        super().__init__(parent)
        self.setObjectName("outcomesDialog")
        done = sum(o.done for o in outcomes)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        refused = len(outcomes) - done
        summary = QLabel(f"{title}: {done} done, {refused} refused.")
        summary.setObjectName("outcomesSummary")
        layout.addWidget(summary)
        self.table = QTableWidget(len(outcomes), 3)
        self.table.setObjectName("outcomesTable")
        self.table.setHorizontalHeaderLabels(["Run", "Result", "What happened"])
        for row, outcome in enumerate(outcomes):
            cells = (str(outcome.run_id), "done" if outcome.done else "refused", outcome.message)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                if not outcome.done:
                    item.setForeground(QColor("#b42318"))
                self.table.setItem(row, column, item)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.resizeColumnsToContents()
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.accept)
        layout.addWidget(buttons)
        self.resize(640, 320)


def intervene(
    parent: QWidget,
    session: AppSession,
    operation: Operation,
    run_ids: Sequence[int],
    done: Callable[[Sequence[RunOutcome]], None],
    *,
    stages: Sequence[str] = (),
    steps: Sequence[str] = (),
    versions: Sequence[int] = (),
) -> InterventionDialog | None:
    """Ask, then do ``operation`` to the frozen ``run_ids``; ``done(outcomes)`` afterwards."""
    frozen = tuple(run_ids)
    if not frozen:
        return None
    dialog = InterventionDialog(
        parent, operation, frozen, stages=stages, steps=steps, versions=versions
    )

    def accepted() -> None:
        runs, reason = session.service.runs, dialog.reason.text().strip()
        options = dict(dialog.options)
        tasks.run(
            lambda: runs.bulk(operation.name, frozen, reason, **options),
            done,
            lambda exc: show_error(parent, exc),
        )

    dialog.accepted.connect(accepted)
    dialog.open()
    return dialog
