"""The Designer's Tests tab: the scenarios that test the orchestration on the canvas, run
against the draft as it is now (off the GUI thread, in this process), with a result per
scenario, its path green or red on the canvas, and coverage as an overlay (what no scenario
reaches is dimmed). A Try it session recorded as a scenario shows here until it is saved."""

from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.designer.coverage_overlay import (
    combined,
    coverage_statuses,
    dimmed_edges,
    path_statuses,
)
from engine.clients.demo import resources_dir
from engine.definitions import DefinitionError, load_data
from engine.scenarios.format import load_scenario_file
from engine.scenarios.results import ScenarioResult
from engine.scenarios.suite import Report, is_scenario_file, run_against, tests_of

if TYPE_CHECKING:
    from desktop_app.designer.panel import DesignerPanel

PASSED = QColor("#2e9e4f")
FAILED = QColor("#c0392b")
RECORDING = "recording.yaml"  # the unsaved recording's file, in a folder of the tab's own


def default_places() -> list[str]:
    """Where scenario files are looked for at first: the demo's scenarios folder (files and
    folders opened in the tab, and recordings saved from it, are added)."""
    return [str(resources_dir() / "scenarios")]


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower() or "scenario"


def check_file(path: str, orchestration: str) -> None:
    """Raise ValueError saying why ``path`` cannot be a scenario file of ``orchestration``
    (its problems, each with its line, as the engine's reader finds them)."""
    if Path(path).is_file() and not is_scenario_file(Path(path)):
        raise ValueError(
            f"{Path(path).name} is not a scenario file: one has 'orchestration:' and "
            "'scenarios:' at its top (see docs/testing.md)"
        )
    try:
        file = load_scenario_file(path)
    except DefinitionError as exc:
        raise ValueError(exc.describe()) from None
    except OSError as exc:
        raise ValueError(f"{path} cannot be read: {exc.strerror or exc}") from None
    if not tests_of(file, orchestration):
        raise ValueError(
            f"{Path(path).name} tests {file.orchestration}, not {orchestration}: not added"
        )


class ScenariosPanel(QWidget):
    finished = Signal()
    shown = Signal(object)  # the Report on screen

    def __init__(self, panel: DesignerPanel) -> None:
        super().__init__()
        self.setObjectName("testsPanel")
        self.panel = panel
        self.places = default_places()
        self.report: Report | None = None
        self.results_shown: list[ScenarioResult] = []
        self.recording: tuple[str, str] | None = None  # (scenario name, YAML) not yet saved
        self._scratch = tempfile.TemporaryDirectory(prefix="baton-recording-")
        self.runs = tasks.Latest()  # only the newest run's answer shows
        self.running = False
        self._stale = False

        layout = QVBoxLayout(self)
        heading = QLabel("Tests")
        heading.setProperty("role", "title")
        self.where = QListWidget()
        self.where.setObjectName("testsPlaces")
        self.where.setFixedHeight(64)
        self.where.setToolTip("The scenario files and folders searched for this orchestration")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("testsRemove")
        self.remove_button.setToolTip("Search the chosen file or folder no more")
        self.remove_button.clicked.connect(self.remove_place)
        buttons = QHBoxLayout()
        self.run_button = QPushButton("Run all")
        self.run_button.setObjectName("testsRun")
        self.run_button.setToolTip("Run every scenario of this orchestration against the draft")
        self.run_button.clicked.connect(self.run)
        self.open_button = QPushButton("Open scenario file…")
        self.open_button.setObjectName("testsOpen")
        self.open_button.clicked.connect(self.open_file)
        self.save_button = QPushButton("Save as…")
        self.save_button.setObjectName("testsSave")
        self.save_button.clicked.connect(self.save_file)
        for button in (self.run_button, self.open_button, self.remove_button, self.save_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.summary = QLabel("Run the scenarios to see their results.")
        self.summary.setObjectName("testsSummary")
        self.summary.setWordWrap(True)
        self.results = QListWidget()
        self.results.setObjectName("testsResults")
        self.failure = QPlainTextEdit()
        self.failure.setObjectName("testsFailure")
        self.failure.setReadOnly(True)
        self.failure.setPlaceholderText("Choose a scenario to see where its run went")
        self.show_coverage = QCheckBox("Show coverage on the canvas (unreached dimmed)")
        self.show_coverage.setObjectName("testsCoverage")
        self.show_coverage.setChecked(True)
        self.missed = QLabel()
        self.missed.setObjectName("testsMissed")
        self.missed.setWordWrap(True)
        self.problems = QLabel()
        self.problems.setObjectName("testsProblems")
        self.problems.setProperty("role", "error")
        self.problems.setWordWrap(True)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems.hide()
        stop = QPushButton("Back to editing")
        stop.setObjectName("testsStop")
        stop.clicked.connect(self.stop)
        ending = QHBoxLayout()
        ending.addStretch(1)
        ending.addWidget(stop)
        layout.addWidget(heading)
        layout.addWidget(QLabel("Scenario files and folders"))
        layout.addWidget(self.where)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        layout.addWidget(self.problems)
        layout.addWidget(self.results, 2)
        layout.addWidget(self.failure, 2)
        layout.addWidget(self.show_coverage)
        layout.addWidget(self.missed)
        layout.addLayout(ending)
        self.results.currentRowChanged.connect(lambda _row: self.show_overlay())
        self.show_coverage.toggled.connect(lambda _on: self.show_overlay())
        panel.document.changed.connect(self._draft_changed)
        self._show_places()

    # ------------------------------------------------------------ where scenarios live

    def _show_places(self) -> None:
        self.where.clear()
        for place in self.places:
            entry = QListWidgetItem(place)
            entry.setData(Qt.ItemDataRole.UserRole, place)
            self.where.addItem(entry)
        if self.recording is not None:
            entry = QListWidgetItem(f"the recording '{self.recording[0]}' (not saved)")
            self.where.addItem(entry)
        self.save_button.setEnabled(self.recording is not None)
        self.save_button.setToolTip(
            "Save the recorded scenario as a file"
            if self.recording is not None
            else "Record a Try it session first (Try it → Record as scenario…)"
        )

    def add_place(self, path: str) -> None:
        """Look for scenarios in ``path`` too (unless a folder already searched holds it)."""
        resolved = Path(path).resolve()
        for place in self.places:
            known = Path(place).resolve()
            if resolved == known or known in resolved.parents:
                return
        self.places.append(str(resolved))
        self._show_places()

    def remove_place(self) -> None:
        """The chosen file or folder is searched no more (a recording is discarded); the
        scenarios run again without it."""
        if self.where.currentRow() < 0:
            return
        place = self.where.currentItem().data(Qt.ItemDataRole.UserRole)
        if place is None:
            self.recording = None
        else:
            self.places.remove(place)
        self._show_places()
        self.run()

    def open_file(self) -> None:
        folder = next((p for p in self.places if Path(p).is_dir()), "")
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a scenario file", folder, "Scenarios (*.yaml *.yml)"
        )
        if path:
            self.open_path(path)

    def open_path(self, path: str) -> None:
        """Check the file with the engine's reader (in the background); a file of this
        orchestration joins the places searched and everything runs again; any other file is
        refused with why, each problem with its line."""
        name = self.panel.document.name

        def added(_: object) -> None:
            self.add_place(path)
            self.run()

        tasks.run(lambda: check_file(path, name), added, self._refused)

    def receive_recording(self, name: str, text: str) -> None:
        """A recorded Try it session: listed (and run) with the others until it is saved."""
        self.recording = (name, text)
        self._show_places()

    def save_file(self) -> None:
        if self.recording is None:
            return
        folder = next((p for p in self.places if Path(p).is_dir()), "")
        suggested = str(Path(folder) / f"{self.panel.document.name}_{slug(self.recording[0])}.yaml")
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the recorded scenario", suggested, "Scenarios (*.yaml)"
        )
        if path:
            self.save_path(path)

    def save_path(self, path: str) -> None:
        """Write the recording to ``path`` (in the background); then it is a file like the
        others: searched, run, and no longer 'not saved'."""
        if self.recording is None:
            return
        text = self.recording[1]

        def write() -> None:
            try:
                Path(path).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise ValueError(f"{path} could not be saved: {exc.strerror or exc}") from None

        def saved(_: object) -> None:
            self.recording = None
            self.add_place(path)
            self._show_places()
            self.panel.status.emit(f"Saved the scenario in {path}")
            self.run()

        tasks.run(write, saved, self._refused)

    # ------------------------------------------------------------ running

    def begin(self) -> None:
        self._show_places()
        self.run()

    def run(self) -> None:
        """Run the scenarios of the orchestration against the draft as it is now."""
        inspection = self.panel.inspection
        if inspection is None or not inspection.valid:
            self.summary.setText("Fix the draft's problems first (listed under the canvas).")
            return
        data = copy.deepcopy(self.panel.document.data)
        paths = list(self.places)
        recording = self.recording
        scratch = self._scratch.name
        baton = self.panel.session.service

        def work() -> Report:
            if recording is not None:
                file = Path(scratch) / RECORDING
                file.write_text(recording[1], encoding="utf-8")
                paths.append(str(file))
            return run_against(load_data(data), paths, source=baton)

        self.running = True
        self.run_button.setEnabled(False)
        self.summary.setText("Running the scenarios against the draft…")
        self.runs.run(work, self._show, self._run_failed)

    def _run_failed(self, exc: BaseException) -> None:
        self.running = False
        self.run_button.setEnabled(True)
        self.summary.setText(str(exc))

    def _show(self, report: Report) -> None:
        self.running = False
        self.run_button.setEnabled(True)
        if report.coverage.orchestration != self.panel.document.name:
            self.clear()  # another orchestration was opened while these ran
            return
        self.report = report
        self._stale = False
        self.results_shown = list(report.results)
        self.results.blockSignals(True)
        self.results.clear()
        for result in report.results:
            mark = "✓" if result.passed else "✗"
            text = f"{mark}  {result.name}  ({result.seconds:.2f} s)"
            if self._is_recording(result):
                text += "  — not saved"
            entry = QListWidgetItem(text)
            entry.setForeground(PASSED if result.passed else FAILED)
            entry.setToolTip(f"{self.short(result.file)}:{result.line}")
            self.results.addItem(entry)
        self.results.blockSignals(False)
        self.summary.setText(self._summary(report))
        missed = report.coverage.missed()
        self.missed.setText(
            "Not reached by any scenario: "
            + ", ".join(
                f"{i.kind} {i.element}.{i.name}" if i.kind != "stage" else f"stage {i.name}"
                for i in missed
            )
            if missed and report.results
            else ""
        )
        self.problems.setText("\n".join(p.describe() for p in report.problems))
        self.problems.setVisible(bool(report.problems))
        failing = next((n for n, r in enumerate(report.results) if not r.passed), -1)
        self.results.setCurrentRow(failing)
        self.show_overlay()
        self.shown.emit(report)

    def _summary(self, report: Report) -> str:
        results = report.results
        if not results:
            return (
                f"No scenario tests {report.coverage.orchestration}: open a scenario file, "
                "or record one in Try it (Record as scenario…)."
            )
        failed = sum(1 for r in results if not r.passed)
        coverage = report.coverage
        text = f"{len(results)} scenarios: {len(results) - failed} passed"
        if failed:
            text += f", {failed} failed"
        return text + (
            f" · coverage {coverage.percent:.0f} % ({coverage.reached} of {len(coverage.items)})"
        )

    def _is_recording(self, result: ScenarioResult) -> bool:
        return Path(result.file).name == RECORDING and str(Path(self._scratch.name)) in result.file

    def short(self, path: str) -> str:
        """A scenario file as a person knows it: relative to the place it was found in."""
        if Path(path).name == RECORDING and self._scratch.name in path:
            return "(recording, not saved)"
        resolved = Path(path).resolve()
        for place in self.places:
            folder = Path(place).resolve()
            if folder in resolved.parents:
                return str(resolved.relative_to(folder.parent))
        return resolved.name  # a file opened on its own

    # ------------------------------------------------------------ on the canvas

    def chosen(self) -> ScenarioResult | None:
        row = self.results.currentRow()
        return self.results_shown[row] if 0 <= row < len(self.results_shown) else None

    def show_overlay(self) -> None:
        """The chosen scenario's path (green or red) over the coverage, if shown."""
        report = self.report
        if report is None or not self.isVisible():
            return
        coverage = coverage_statuses(report.coverage) if self.show_coverage.isChecked() else None
        edges = (
            dimmed_edges(report.coverage, self.panel.scene.layout.edges)
            if self.show_coverage.isChecked()
            else set()
        )
        result = self.chosen()
        if result is None:
            self.failure.setPlainText("")
            self.panel.scene.set_statuses(coverage or {}, edges)
            return
        if result.failure is not None:
            self.failure.setPlainText(result.failure.describe(self.short(result.file)))
        else:
            took = " → ".join(result.path) or "nothing"
            self.failure.setPlainText(
                f"Passed ({self.short(result.file)}:{result.line}).\nIts run went: {took}"
            )
        self.panel.scene.set_statuses(combined(path_statuses(result), coverage), edges)

    def _draft_changed(self) -> None:
        report = self.report
        if report is None:
            return
        if report.coverage.orchestration != self.panel.document.name:
            self.clear()
            return
        if not self._stale and self.isVisible():
            self._stale = True
            self.summary.setText(
                self.summary.text() + " The draft has changed since: Run all again."
            )

    def clear(self) -> None:
        self.report, self.results_shown = None, []
        self.results.clear()
        self.failure.setPlainText("")
        self.missed.setText("")
        self.problems.hide()
        self.summary.setText("Run the scenarios to see their results.")

    # ------------------------------------------------------------ messages and ending

    def _refused(self, exc: BaseException) -> None:
        self.problems.setText(str(exc))
        self.problems.show()

    def stop(self) -> None:
        self.panel.scene.set_statuses({})
        self.finished.emit()
