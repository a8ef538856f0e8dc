"""The Designer: canvas in the middle, properties on the right, design review below, and a
tool bar for versions, edits, zoom and Try it. This module assembles; the parts live beside it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.designer import commands
from desktop_app.designer.catalog import Catalog, read_catalog
from desktop_app.designer.document import NOTHING, DesignDocument
from desktop_app.designer.history_overlay import DAYS, overlay
from desktop_app.designer.properties import PropertyPanel
from desktop_app.designer.recovery import Recovery
from desktop_app.designer.review_panel import ReviewPanel
from desktop_app.designer.scene import DesignScene
from desktop_app.designer.tests_tab import ScenariosPanel
from desktop_app.designer.tryit import TryItPanel
from desktop_app.designer.versions import VersionsBar
from desktop_app.designer.view import CanvasView
from desktop_app.menus import with_shortcut_tip
from desktop_app.session import AppSession
from engine.definitions import editing
from engine.definitions.editing import EditError, new_definition
from engine.definitions.inspection import Inspection, inspect

CLIPBOARD_TYPE = "application/x-baton-design"


class DesignerPanel(QWidget):
    status = Signal(str)
    inspected = Signal(object)  # Inspection, after every change

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.setObjectName("designerPanel")
        self.session = session
        self.document = DesignDocument(new_definition())
        self.catalog = Catalog()
        self.inspection: Inspection | None = None
        self.inspections = tasks.Latest()  # only the newest review of the draft shows

        self.scene = DesignScene(self.document)
        self.view = CanvasView(palette=True)
        self.view.setScene(self.scene)
        self.properties = PropertyPanel(self.document)
        self.review = ReviewPanel()
        self.versions = VersionsBar(self)
        self.banner = QLabel()
        self.banner.setObjectName("readOnlyBanner")
        self.banner.setProperty("role", "muted")
        self.banner.hide()

        self.toolbar = QToolBar("Designer")
        self.toolbar.setObjectName("designerToolbar")
        self._actions()

        canvas_and_review = QSplitter(Qt.Orientation.Vertical)
        canvas_and_review.addWidget(self.view)
        canvas_and_review.addWidget(self.review)
        canvas_and_review.setSizes([600, 170])
        self.try_it = TryItPanel(self)
        self.try_it.finished.connect(self._tried)
        self.side = QStackedWidget()
        self.side.addWidget(self.properties)
        self.side.addWidget(self.try_it)
        self.tests = ScenariosPanel(self)
        self.tests.finished.connect(self._tested)
        self.side.addWidget(self.tests)
        self.main = QSplitter(Qt.Orientation.Horizontal)
        self.main.addWidget(canvas_and_review)
        self.main.addWidget(self.side)
        self.main.setSizes([1000, 470])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.versions)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.banner)
        layout.addWidget(self.main, 1)

        self.document.changed.connect(self._inspect)
        self.document.read_only_changed.connect(self._read_only)
        self.scene.move_step_requested.connect(self._move_step)
        self.scene.move_element_requested.connect(self._move_element)
        self.scene.open_requested.connect(self._open)
        self.view.navigate.connect(self._navigate)
        self.review.chosen.connect(self.document.select)
        self.properties.refused.connect(self.status.emit)
        self.view.placed.connect(self.scene.drop_new)
        self.view.clicked_entry.connect(self._palette_clicked)
        self.scene.add_element_requested.connect(self._add_element)
        self.scene.add_step_requested.connect(self._add_step_at)
        self.scene.connect_requested.connect(self._connect)
        self.scene.refused.connect(self.status.emit)
        self._was_read_only = False
        self._inspect()
        self._loaded = False
        self.recovery = Recovery(self)
        self._offered_recovery = False

    # ------------------------------------------------------------ loading

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._loaded:
            self._loaded = True
            self.refresh()

    def refresh(self) -> None:
        """Read the catalog and the list of orchestrations again."""
        baton = self.session.service
        tasks.run(lambda: read_catalog(baton), self._catalog, self._failed)
        self.versions.refresh()

    def _catalog(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.properties.directory = catalog.choices()
        self._record_fields()
        self.properties.refresh_later()
        self._inspect()

    def _record_fields(self) -> None:
        """Completion offers the fields of the record type that triggers the draft."""
        trigger = (self.document.data.get("trigger") or {}).get("object")
        self.properties.record_fields = self.catalog.objects.get(str(trigger), [])

    def _failed(self, exc: BaseException) -> None:
        self.status.emit(str(exc))

    # ------------------------------------------------------------ live review

    def _inspect(self) -> None:
        """Validate and review the draft off the GUI thread; only the newest answer shows."""
        data = copy.deepcopy(self.document.data)
        queues = dict(self.catalog.queues) if self.catalog.queues else None
        self.inspections.run(lambda: inspect(data, queue_members=queues), self._inspected)

    def _inspected(self, inspection: Inspection) -> None:
        self.inspection = inspection
        self.review.show_inspection(inspection)
        self.scene.set_marks(inspection.all)
        self.inspected.emit(inspection)

    @property
    def inspection_current(self) -> bool:
        """Whether the review shown is of the draft as it is now."""
        return self.inspection is not None and self.inspections.settled

    def current_inspection(self) -> Inspection:
        """The inspection of the draft as it is now: the live one when it has caught up,
        else made afresh (a save clicked while the live one is still on its way)."""
        if self.inspection is not None and self.inspection_current:
            return self.inspection
        queues = dict(self.catalog.queues) if self.catalog.queues else None
        return inspect(copy.deepcopy(self.document.data), queue_members=queues)

    def _read_only(self, read_only: bool) -> None:
        self.banner.setVisible(read_only)
        self.banner.setText(
            "  This version is read-only: it is kept exactly as it was activated or run. "
            "Use “Edit a copy” to change it as a new draft."
        )
        for action in self.edit_actions:
            action.setEnabled(not read_only)
        self.view.show_palette(not read_only)

    # ------------------------------------------------------------ actions

    def _action(
        self,
        text: str,
        slot: Any,
        shortcut: str | QKeySequence.StandardKey | None = None,
        *,
        edit: bool = False,
        name: str = "",
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name or text)
        action.triggered.connect(lambda _=False: slot())
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
            with_shortcut_tip(action)
        if edit:
            self.edit_actions.append(action)
        return action

    def _actions(self) -> None:
        self.edit_actions: list[QAction] = []
        bar = self.toolbar
        stack = self.document.stack
        undo = stack.createUndoAction(self, "Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = stack.createRedoAction(self, "Redo")
        redo.setShortcuts([QKeySequence(QKeySequence.StandardKey.Redo), QKeySequence("Ctrl+Y")])
        for action, word, changed in (
            (undo, "Undo", stack.undoTextChanged),
            (redo, "Redo", stack.redoTextChanged),
        ):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
            bar.addAction(action)
            # The stack names the edit in the action's text ("Undo Add stage"): a button that
            # grew and shrank with it moved the whole toolbar. The edit goes in the tip.
            steady = _steady_label(action, word)
            changed.connect(steady)
            steady(action.text())
        bar.addSeparator()
        for text, slot, key in (
            ("Add stage", self.add_stage, "Ctrl+Shift+S"),
            ("Add decision", self.add_decision, "Ctrl+Shift+D"),
            ("Add task", lambda: self.add_step("interactive"), "Ctrl+Shift+T"),
            ("Add action", lambda: self.add_step("background"), "Ctrl+Shift+A"),
            ("Add outcome", self.add_outcome, "Ctrl+Shift+O"),
        ):
            bar.addAction(self._action(text, slot, key, edit=True))
        self.delete_action = self._action("Delete", self.delete_selected, "Delete", edit=True)
        bar.addAction(self.delete_action)
        self._action("Rename", self.properties.focus_name, "F2", edit=True)
        self._action("Copy", self.copy_selected, QKeySequence.StandardKey.Copy)
        self._action("Cut", self.cut_selected, QKeySequence.StandardKey.Cut, edit=True)
        self._action("Paste", self.paste, QKeySequence.StandardKey.Paste, edit=True)
        self._action("Move up", lambda: self.move_selected(-1), "Alt+Up", edit=True)
        self._action("Move down", lambda: self.move_selected(1), "Alt+Down", edit=True)
        self._action("Move left", lambda: self.move_selected(-1), "Alt+Left", edit=True)
        self._action("Move right", lambda: self.move_selected(1), "Alt+Right", edit=True)
        bar.addSeparator()
        self.zoom_in_action = self._action("Zoom in", self.view.zoom_in, "Ctrl+=")
        self.zoom_out_action = self._action("Zoom out", self.view.zoom_out, "Ctrl+-")
        self.fit_action = self._action("Fit", self.view.fit, "Ctrl+0")
        for action in (self.zoom_in_action, self.zoom_out_action, self.fit_action):
            bar.addAction(action)
        bar.addSeparator()
        self.try_action = self._action("Try it", self.start_trying, "Ctrl+R")
        bar.addAction(self.try_action)
        self.tests_action = self._action("Tests", self.show_tests, "Ctrl+T")
        self.tests_action.setToolTip(
            "Run the scenarios of this orchestration against the draft, with coverage"
        )
        bar.addAction(self.tests_action)
        self.history_action: QAction = self._action("History", lambda: None, "Ctrl+H")
        self.history_action.setCheckable(True)
        self.history_action.triggered.connect(self.show_history)
        self.history_action.setToolTip(
            "Colour each step by its run history: average time and failure rate (90 days)"
        )
        bar.addAction(self.history_action)

    def show_history(self, on: bool = True) -> None:
        """Overlay each step's run history on the canvas, or take it off."""
        if not on:
            self.scene.set_statuses({})
            return
        boards, name = self.session.service.dashboards, self.document.name

        def shown(health: Any) -> None:
            if self.history_action.isChecked() and self.document.name == name:
                self.scene.set_statuses(overlay(health))
                self.status.emit(f"History of {name}: red fails often, amber is slowest")

        def refused(exc: BaseException) -> None:
            self.history_action.setChecked(False)
            self._failed(exc)

        tasks.run(lambda: boards.step_health(name, DAYS), shown, refused)

    # ------------------------------------------------------------ Try it

    def start_trying(self) -> None:
        if self.inspection is None or not self.inspection.valid:
            self.status.emit("Fix the draft's problems first (listed under the canvas)")
            return
        self._was_read_only = self.document.read_only
        self.document.set_read_only(True)
        self.banner.setText("  Trying the draft in a scratch database: editing resumes after.")
        self.side.setCurrentWidget(self.try_it)
        self.try_action.setEnabled(False)
        self.tests_action.setEnabled(False)
        self.try_it.begin()

    def _tried(self) -> None:
        self.side.setCurrentWidget(self.properties)
        self.try_action.setEnabled(True)
        self.tests_action.setEnabled(True)
        self.document.set_read_only(self._was_read_only)

    # ------------------------------------------------------------ Tests

    def show_tests(self, recording: tuple[str, str] | None = None) -> None:
        """The Tests tab in the side panel: the scenarios run against the draft at once."""
        if self.side.currentWidget() is self.try_it:
            return
        self.history_action.setChecked(False)
        self.scene.set_statuses({})  # no other overlay while the scenarios run
        if recording is not None:
            self.tests.receive_recording(*recording)
        self.side.setCurrentWidget(self.tests)
        self.tests_action.setEnabled(False)
        self.tests.begin()

    def record_into_tests(self, name: str, text: str) -> None:
        """A Try it session recorded as a scenario: the trial ends and the Tests tab shows
        the recording with the other scenarios, to run and save."""
        self.try_it.stop()
        self.show_tests((name, text))

    def _tested(self) -> None:
        self.side.setCurrentWidget(self.properties)
        self.tests_action.setEnabled(True)

    # ------------------------------------------------------------ edits

    def push(self, make: Any) -> bool:
        """Make a command and do it; an edit that cannot be made is said, not done."""
        if self.document.read_only:
            self.status.emit("This version is read-only: use “Edit a copy” to change it")
            return False
        try:
            command = make()
        except EditError as exc:
            self.status.emit(str(exc))
            return False
        self.document.push(command)
        return True

    def _selected_index(self) -> int | None:
        element = self.document.selection[0]
        names = editing.element_names(self.document.data)
        return names.index(element) + 1 if element in names else None

    def add_stage(self) -> None:
        self.push(lambda: commands.AddStage(self.document, self._selected_index()))

    def add_decision(self) -> None:
        self.push(lambda: commands.AddDecision(self.document, self._selected_index()))

    def _selected_stage(self) -> str | None:
        element = self.document.selection[0]
        data = self.document.data
        if (
            element
            and element in editing.element_names(data)
            and editing.element(data, element).get("kind") == "stage"
        ):
            return element
        stages = [e["name"] for e in data.get("elements") or [] if e.get("kind") == "stage"]
        return stages[-1] if stages else None

    def add_step(self, kind: str) -> None:
        stage = self._selected_stage()
        if stage is None:
            self.status.emit("Add a stage first: steps live in stages")
            return
        self.push(lambda: commands.AddStep(self.document, stage, kind))

    def add_outcome(self) -> None:
        element = self.document.selection[0]
        if element is None:
            self.status.emit("Select a decision to add an outcome to")
            return
        self.push(lambda: commands.AddOutcome(self.document, element))

    def delete_selected(self) -> None:
        element, step = self.document.selection
        if element is None:
            return
        if step is None:
            self.push(lambda: commands.DeleteElement(self.document, element))
        else:
            self.push(lambda: commands.DeleteStep(self.document, element, step))

    def move_selected(self, offset: int) -> None:
        element, step = self.document.selection
        if element is None:
            return
        data = self.document.data
        if step is None:
            index = editing.element_index(data, element) + offset
            if 0 <= index < len(editing.element_names(data)):
                self.push(lambda: commands.MoveElement(self.document, element, index))
        else:
            index = editing.step_index(data, element, step) + offset
            if 0 <= index < len(editing.steps(editing.stage(data, element))):
                self.push(lambda: commands.MoveStep(self.document, element, step, element, index))

    def _move_step(self, stage: str, step: str, to_stage: str, index: int) -> None:
        if not self.push(lambda: commands.MoveStep(self.document, stage, step, to_stage, index)):
            self.scene.rebuild()

    def _move_element(self, name: str, index: int) -> None:
        if not self.push(lambda: commands.MoveElement(self.document, name, index)):
            self.scene.rebuild()

    # ------------------------------------------------------------ drawing on the canvas

    def _add_element(self, kind: str, index: int) -> None:
        make = commands.AddStage if kind == "stage" else commands.AddDecision
        self.push(lambda: make(self.document, index))

    def _add_step_at(self, stage: str, kind: str, index: int) -> None:
        self.push(lambda: commands.AddStep(self.document, stage, kind, index))

    def _palette_clicked(self, kind: str) -> None:
        if kind == "stage":
            self.add_stage()
        elif kind == "decision":
            self.add_decision()
        else:
            self.add_step(kind)

    def _connect(self, source: str, port: str, target: str) -> None:
        self.push(lambda: commands.Connect(self.document, source, port, target))

    def _open(self, key: Any) -> None:
        self.document.select(key)
        self.properties.rebuild()
        self.properties.focus_name()

    def _navigate(self, direction: str) -> None:
        self.document.select(self.scene.neighbour(self.document.selection, direction))

    # ------------------------------------------------------------ copy and paste

    def copy_selected(self) -> None:
        element, step = self.document.selection
        if element is None:
            return
        data = self.document.data
        node = editing.element(data, element) if step is None else editing.step(data, element, step)
        kind = "element" if step is None else "step"
        QApplication.clipboard().setText(json.dumps({"baton": kind, "item": node}))
        self.status.emit(f"Copied {element if step is None else f'{element}.{step}'}")

    def cut_selected(self) -> None:
        """Copy, then delete (one undoable step for the delete)."""
        if self.document.selection[0] is None or self.document.read_only:
            return
        self.copy_selected()
        self.delete_selected()

    def paste(self) -> None:
        try:
            pasted = json.loads(QApplication.clipboard().text())
        except ValueError:
            pasted = None
        if not isinstance(pasted, dict) or not isinstance(pasted.get("item"), dict):
            self.status.emit("Nothing to paste: copy a stage, decision or step first")
            return
        item = pasted["item"]
        if pasted.get("baton") == "step":
            stage = self._selected_stage()
            if stage is None:
                self.status.emit("Add a stage first: steps live in stages")
                return
            self.push(lambda: commands.PasteSteps(self.document, stage, [item]))
        elif pasted.get("baton") == "element":
            self.push(lambda: commands.PasteElement(self.document, item, self._selected_index()))

    # ------------------------------------------------------------ for the versions bar

    def open_data(self, data: dict[str, Any], *, read_only: bool) -> None:
        self.document.load(data, read_only=read_only)
        self._record_fields()
        self.view.fit()
        self.document.select(NOTHING)
        if not self._offered_recovery:  # once something is open, work a crash left is offered
            self._offered_recovery = True
            self.recovery.offer()

    def restore_unsaved(self, data: dict[str, Any]) -> None:
        """Work kept from before a crash, opened as unsaved changes (saving makes a draft)."""
        self.versions.current = None
        self.open_data(data, read_only=False)
        self.document.saved_data = {}  # not saved until it is saved
        self.document.changed.emit()
        self.versions.show_document()
        self.status.emit(f"Restored the unsaved changes to {self.document.name}: save to keep them")

    def forget_recovery(self) -> None:
        self.recovery.forget()


def _steady_label(action: QAction, word: str) -> Callable[[str], None]:
    """Keeps ``action`` reading ``word``; its tool tip names the edit and the shortcut."""

    def label(edit: str) -> None:
        if not shiboken6.isValid(action):  # the panel is going while the stack still speaks
            return
        action.setText(word)
        action.setToolTip(f"{word} {edit.removeprefix(word).strip()}".strip())
        with_shortcut_tip(action)

    return label
