"""Versions of an orchestration: choose one to open (older and activated ones read-only),
save the draft, activate it, edit a copy, compare two versions side by side, and import or
export definition files."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.designer.document import DesignDocument, Key
from desktop_app.designer.scene import DesignScene
from desktop_app.designer.view import CanvasView
from desktop_app.flow_layout import FlowLayout, labelled
from desktop_app.messages import show_error
from desktop_app.screen import fit_to_screen
from engine.definitions import Orchestration, to_data
from engine.definitions.diff import Change, diff
from engine.definitions.editing import new_definition
from engine.definitions.model import is_valid_name
from engine.definitions.reader import RawDefinition, read_file
from engine.services.dto import OrchestrationInfo, VersionInfo

if TYPE_CHECKING:
    from desktop_app.designer.panel import DesignerPanel

NEW = "(new, not saved)"


def version_text(version: VersionInfo) -> str:
    when = version.created_at.strftime("%Y-%m-%d %H:%M")
    who = version.created_by or "—"
    text = f"v{version.number} · {version.status} · {who}, {when}"
    return text + (f" · {version.runs} runs" if version.runs else "")


class VersionsBar(QWidget):
    def __init__(self, panel: DesignerPanel) -> None:
        super().__init__()
        self.setObjectName("versionsBar")
        self.panel = panel
        self.infos: dict[str, OrchestrationInfo] = {}
        self.current: VersionInfo | None = None  # the version the document came from
        self.unsaved_box: QMessageBox | None = None  # the Save/Discard/Cancel question, if open
        self.orchestrations = QComboBox()
        self.orchestrations.setObjectName("orchestrationChoice")
        # Chosen with the mouse (or its label's mnemonic), never by Tab from the canvas, where
        # a typed letter would open another orchestration.
        self.orchestrations.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.orchestrations.setMinimumWidth(220)
        self.version_choice = QComboBox()
        self.version_choice.setObjectName("versionChoice")
        self.version_choice.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.version_choice.setMinimumWidth(300)
        # Each as wide as its longest entry whenever it is filled ("v3 · active · 5 runs" was
        # cut to "· 5 ru": a combo box keeps the width it had when first shown).
        for choice in (self.orchestrations, self.version_choice):
            choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        layout = FlowLayout(self)  # wraps on a narrow window
        layout.setContentsMargins(8, 6, 8, 2)
        layout.addWidget(labelled("Orchestration", self.orchestrations))
        layout.addWidget(labelled("Version", self.version_choice))
        self.buttons: dict[str, QPushButton] = {}
        for text, slot in (
            ("New…", self.new),
            ("Import…", self.import_file),
            ("Export…", self.export_file),
            ("Save draft", self.save),
            ("Activate", self.activate),
            ("Edit a copy", self.edit_copy),
            ("Compare…", self.compare),
        ):
            button = QPushButton(text)
            button.setObjectName(text.rstrip("…").replace(" ", "_").lower())
            button.clicked.connect(slot)
            self.buttons[text] = button
            layout.addWidget(button)
        self.orchestrations.activated.connect(lambda _: self._open_latest())
        self.version_choice.activated.connect(lambda _: self._open_chosen())
        panel.document.read_only_changed.connect(self._read_only)
        # A method, not a lambda: Qt drops the connection when this bar is deleted.
        panel.document.stack.cleanChanged.connect(self._clean_changed)

    # ------------------------------------------------------------ listing and opening

    def refresh(self, then_open: tuple[str, int | None] | None = None) -> None:
        baton = self.panel.session.service
        tasks.run(baton.definitions.list, lambda infos: self._listed(infos, then_open), self._error)

    def _listed(self, infos: list[OrchestrationInfo], then_open: Any) -> None:
        first = not self.infos
        self.infos = {i.name: i for i in infos}
        chosen = then_open[0] if then_open else self.orchestrations.currentText()
        self.orchestrations.blockSignals(True)
        self.orchestrations.clear()
        self.orchestrations.addItems(list(self.infos))
        if chosen and chosen not in self.infos:
            self.orchestrations.addItem(chosen)
        self.orchestrations.setCurrentText(chosen or (infos[0].name if infos else ""))
        self.orchestrations.blockSignals(False)
        if then_open:
            self.open(then_open[0], then_open[1])
        elif first and infos:
            self._open_latest()
        else:
            self._fill_versions()

    def _fill_versions(self) -> None:
        info = self.infos.get(self.orchestrations.currentText())
        self.version_choice.blockSignals(True)
        self.version_choice.clear()
        if info is None:
            self.version_choice.addItem(NEW)
        else:
            for version in reversed(info.versions):
                self.version_choice.addItem(version_text(version), version.number)
            if self.current is not None and self.current.orchestration == info.name:
                index = self.version_choice.findData(self.current.number)
                self.version_choice.setCurrentIndex(max(index, 0))
        self.version_choice.blockSignals(False)

    def _open_latest(self) -> None:
        self.open(self.orchestrations.currentText(), None)

    def _open_chosen(self) -> None:
        number = self.version_choice.currentData()
        if number is not None:
            self.open(self.orchestrations.currentText(), int(number))

    def open(self, name: str, number: int | None) -> None:
        baton = self.panel.session.service
        self.leave_then(
            lambda: tasks.run(
                lambda: baton.definitions.get(name, number), self._opened, self._error
            )
        )

    def _opened(self, result: tuple[VersionInfo, Orchestration]) -> None:
        info, definition = result
        self.current = info
        latest = self.infos.get(info.orchestration)
        is_latest = latest is None or latest.latest_version == info.number
        read_only = not (info.status == "draft" and is_latest)
        self.panel.open_data(to_data(definition), read_only=read_only)
        self.orchestrations.setCurrentText(info.orchestration)
        self._fill_versions()
        self._title()

    def leave_then(self, go: Callable[[], None]) -> None:
        """Leave the document for something else, then ``go``: at once when nothing would be
        lost, else after asking Save (go once saved) / Discard / Cancel (keep everything)."""
        document = self.panel.document
        if not document.modified or document.read_only:
            go()
            return
        buttons = QMessageBox.StandardButton
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Unsaved changes",
            f"The changes to {document.name} are not saved.",
            buttons.Save | buttons.Discard | buttons.Cancel,
            self,
        )
        box.setObjectName("unsavedChanges")
        box.setInformativeText("Save them as a draft before leaving it?")
        box.setDefaultButton(buttons.Save)
        self.unsaved_box = box

        def answered(_result: int) -> None:
            self.unsaved_box = None
            answer = box.standardButton(box.clickedButton())
            if answer == buttons.Save:
                self.save(then=lambda _info: go())
            elif answer == buttons.Discard:
                self.panel.forget_recovery()
                go()
            else:
                self.show_document()  # Cancel: the bar shows what is open, as before

        box.finished.connect(answered)
        box.open()

    def show_document(self) -> None:
        """Point the bar back at the open document (a choice was cancelled)."""
        name = self.panel.document.name
        self.orchestrations.blockSignals(True)
        if self.orchestrations.findText(name) < 0:
            self.orchestrations.addItem(name)
        self.orchestrations.setCurrentText(name)
        self.orchestrations.blockSignals(False)
        self._fill_versions()

    def _clean_changed(self, _clean: bool) -> None:
        self._title()

    def _title(self) -> None:
        changed = " — changed, not saved" if self.panel.document.modified else ""
        self.panel.status.emit(f"Designing {self.panel.document.name}{changed}")

    def _read_only(self, read_only: bool) -> None:
        for text in ("Save draft", "Activate"):
            self.buttons[text].setEnabled(not read_only)
        self.buttons["Edit a copy"].setVisible(read_only)

    def _error(self, exc: BaseException) -> None:
        show_error(self, exc)

    # ------------------------------------------------------------ new, copy, save, activate

    def new(self) -> None:
        self.leave_then(self._new)

    def _new(self) -> None:
        name, ok = QInputDialog.getText(
            self, "New orchestration", "Name (letters, digits and _, e.g. vendor_onboarding):"
        )
        name = name.strip()
        if not ok or not name:
            return
        if not is_valid_name(name):
            QMessageBox.warning(self, "New orchestration", f"'{name}' is not a valid name")
            return
        if name in self.infos:
            QMessageBox.warning(self, "New orchestration", f"'{name}' already exists: open it")
            return
        self.current = None
        self.panel.open_data(new_definition(name), read_only=False)
        self.orchestrations.addItem(name)
        self.orchestrations.setCurrentText(name)
        self._fill_versions()

    def edit_copy(self) -> None:
        self.current = None  # saving makes a new version, never changes this one
        self.panel.document.set_read_only(False)
        self.panel.status.emit("Editing a copy: saving makes a new draft version")

    def _valid(self, action: str) -> Orchestration | None:
        result = self.panel.current_inspection()
        if result.definition is None:
            lines = "\n".join(f"• {p.where}: {p.message}" for p in result.problems[:15])
            QMessageBox.warning(
                self,
                f"Cannot {action}",
                f"The draft has {len(result.problems)} problem(s) to fix first "
                f"(they are listed under the canvas):\n\n{lines}",
            )
            return None
        return result.definition

    def save(self, then: Any = None) -> None:
        definition = self._valid("save")
        if definition is None:
            return
        current = self.current
        replace = bool(
            current
            and current.status == "draft"
            and self.infos.get(current.orchestration)
            and self.infos[current.orchestration].latest_version == current.number
        )
        baton = self.panel.session.service
        data = copy.deepcopy(self.panel.document.data)

        def saved(info: VersionInfo) -> None:
            if self.panel.document.data == data:
                self.panel.document.mark_saved()
            self.current = info
            self.panel.status.emit(f"Saved {info.orchestration} as draft version {info.number}")
            self._title()
            self.refresh()
            if then:
                then(info)

        tasks.run(
            lambda: baton.definitions.save(definition, replace_draft=replace), saved, self._error
        )

    def activate(self) -> None:
        baton = self.panel.session.service

        def activated(info: VersionInfo) -> None:
            self.panel.status.emit(
                f"Version {info.number} of {info.orchestration} is active: new runs use it"
            )
            self.refresh(then_open=(info.orchestration, info.number))

        def go(info: VersionInfo) -> None:
            tasks.run(
                lambda: baton.definitions.activate(info.orchestration, info.number),
                activated,
                self._error,
            )

        self.save(then=go)

    # ------------------------------------------------------------ files

    def import_file(self) -> None:
        self.leave_then(self._import_file)

    def _import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a definition", "", "Definitions (*.yaml *.yml *.json)"
        )
        if path:
            self.import_path(path)

    def import_path(self, path: str) -> None:
        """Open a file as a new draft; its problems show in review, nothing is saved yet.

        Read in the background through the engine's reader: a pipe or a slow disk never
        freezes the window, and a file that is not a definition gets the engine's message."""
        tasks.run(
            lambda: read_file(path),
            lambda raw: self._imported(path, raw),
            lambda exc: self._warn("Import", f"{path} cannot be read:\n{exc}"),
        )

    def _warn(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    def _imported(self, path: str, raw: RawDefinition) -> None:
        if not isinstance(raw.data, dict) or not isinstance(raw.data.get("name"), str):
            QMessageBox.warning(self, "Import", f"{path} is not an orchestration definition")
            return
        self.current = None
        self.panel.open_data(raw.data, read_only=False)
        self.panel.document.saved_data = {}  # imported work is not saved until saved
        name = raw.data["name"]
        if self.orchestrations.findText(name) < 0:
            self.orchestrations.addItem(name)
        self.orchestrations.setCurrentText(name)
        self._fill_versions()
        self.panel.status.emit(f"Imported {path}: save it to keep it as a draft version")

    def export_file(self) -> None:
        name = self.panel.document.name
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the definition", f"{name}.yaml", "YAML (*.yaml);;JSON (*.json)"
        )
        if path:
            self.export_path(path)

    def export_path(self, path: str) -> None:
        data = self.panel.document.data
        text = (
            json.dumps(data, indent=2, ensure_ascii=False)
            if path.endswith(".json")
            else yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
        )
        tasks.run(
            lambda: Path(path).write_text(text, encoding="utf-8"),
            lambda _: self.panel.status.emit(f"Exported to {path}"),
            lambda exc: self._warn(
                "Export", f"{path} cannot be written: {getattr(exc, 'strerror', None) or exc}"
            ),
        )

    # ------------------------------------------------------------ compare

    def compare(self) -> None:
        info = self.infos.get(self.orchestrations.currentText())
        if info is None or len(info.versions) < 1:
            QMessageBox.information(self, "Compare", "Save a version first: then compare them")
            return
        dialog = DiffDialog(self, info, self.panel.session)
        dialog.open()


# What each kind of change colours an item on the diff canvases.
DIFF_STATUS = {"added": "Completed", "removed": "Error", "changed": "Suspended"}


def change_key(change: Change) -> Key | None:
    kind, _, rest = change.where.partition(" ")
    if kind in ("stage", "decision"):
        return (rest, None)
    if kind == "step" and "." in rest:
        stage, step = rest.split(".", 1)
        return (stage, step)
    return None


class DiffDialog(QDialog):
    """Two versions side by side on canvases, with what was added, removed and changed."""

    def __init__(self, parent: QWidget, info: OrchestrationInfo, session: Any) -> None:
        super().__init__(parent)
        self.setObjectName("diffDialog")
        self.setWindowTitle(f"Compare versions of {info.label}")
        fit_to_screen(self, 1400, 820)
        self.session = session
        self.info = info
        self.old_choice, self.new_choice = QComboBox(), QComboBox()
        for combo in (self.old_choice, self.new_choice):
            for version in info.versions:
                combo.addItem(version_text(version), version.number)
        self.old_choice.setCurrentIndex(max(0, len(info.versions) - 2))
        self.new_choice.setCurrentIndex(len(info.versions) - 1)
        top = QHBoxLayout()
        top.addWidget(QLabel("Old"))
        top.addWidget(self.old_choice, 1)
        top.addWidget(QLabel("New"))
        top.addWidget(self.new_choice, 1)
        self.old_doc = DesignDocument(new_definition(), read_only=True)
        self.new_doc = DesignDocument(new_definition(), read_only=True)
        self.old_scene, self.new_scene = DesignScene(self.old_doc), DesignScene(self.new_doc)
        self.old_view, self.new_view = CanvasView(), CanvasView()
        self.old_view.setScene(self.old_scene)
        self.new_view.setScene(self.new_scene)
        self.changes = QListWidget()
        self.changes.setObjectName("diffChanges")
        self.changes.setWordWrap(True)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.old_view)
        split.addWidget(self.changes)
        split.addWidget(self.new_view)
        split.setSizes([560, 280, 560])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)
        self.old_choice.currentIndexChanged.connect(lambda _: self.load())
        self.new_choice.currentIndexChanged.connect(lambda _: self.load())
        self.load()

    def load(self) -> None:
        baton = self.session.service
        name = self.info.name
        old, new = int(self.old_choice.currentData()), int(self.new_choice.currentData())

        def read() -> tuple[Orchestration, Orchestration]:
            return baton.definitions.get(name, old)[1], baton.definitions.get(name, new)[1]

        tasks.run(read, self._show, lambda exc: show_error(self, exc))

    def _show(self, pair: tuple[Orchestration, Orchestration]) -> None:
        before, after = pair
        changes = diff(before, after)
        self.old_doc.load(to_data(before), read_only=True)
        self.new_doc.load(to_data(after), read_only=True)
        self.changes.clear()
        old_marks: dict[Key, tuple[str, str | None]] = {}
        new_marks: dict[Key, tuple[str, str | None]] = {}
        for change in changes:
            self.changes.addItem(change.describe())
            key = change_key(change)
            if key is None:
                continue
            status = DIFF_STATUS[change.kind]
            if change.kind != "added":
                old_marks[key] = (status, change.kind)
            if change.kind != "removed":
                new_marks[key] = (status, change.kind)
        if not changes:
            self.changes.addItem("No differences.")
        self.old_scene.set_statuses(old_marks)
        self.new_scene.set_statuses(new_marks)
        self.old_view.fit()
        self.new_view.fit()
