"""The property panel: every field of what is selected — the orchestration, a stage, a
decision or a step — with a typed editor. A change to a field is one undoable command."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop_app.designer import commands
from desktop_app.designer.document import NOTHING, DesignDocument, Key
from desktop_app.designer.fields import Context, field_editor
from desktop_app.designer.form_builder import FormBuilder, FormsEditor
from desktop_app.elided import ElidedLabel
from engine.definitions import editing
from engine.definitions.editing import EditError
from engine.definitions.inspection import expression_names
from engine.definitions.model import BackgroundStep, Decision, InteractiveStep, Orchestration, Stage

SKIP = ("kind", "name", "steps", "elements", "format")
NEW_FORM = "New form…"


class PropertyPanel(QScrollArea):
    refused = Signal(str)  # an edit that cannot be made, and why

    def __init__(self, document: DesignDocument) -> None:
        super().__init__()
        self.setObjectName("propertyPanel")
        self.setWidgetResizable(True)
        self.setMinimumWidth(440)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.document = document
        self.directory: dict[str, list[str]] = {}  # users, groups, queues, objects, calendars …
        self.record_fields: list[str] = []
        self.list_rows: dict[str, int] = {}
        self.shown: Key = NOTHING
        self._pending = False
        document.changed.connect(self.refresh_later)
        document.selection_changed.connect(self.refresh_later)
        document.read_only_changed.connect(self.refresh_later)
        self.rebuild()

    def refresh_later(self, *_: Any) -> None:
        """Rebuild after the current event: the editor that caused a change may still be on
        the call stack."""
        if not self._pending:
            self._pending = True
            QTimer.singleShot(0, self.rebuild)

    def rebuild(self) -> None:
        self._pending = False
        focused = QApplication.focusWidget()
        focus_name = focused.objectName() if focused and self.isAncestorOf(focused) else ""
        scroll = self.verticalScrollBar().value()
        key = self.document.selection
        if key != self.shown:
            self.list_rows.clear()
            scroll = 0
        self.shown = key
        body = QWidget()
        layout = QVBoxLayout(body)
        try:
            self._fill(layout, key)
        except EditError:  # the selection is gone (deleted, renamed by undo)
            self.document.select(NOTHING)
            return
        layout.addStretch(1)
        old = self.takeWidget()
        self.setWidget(body)
        if old is not None:
            old.deleteLater()
        self.verticalScrollBar().setValue(scroll)
        if focus_name:
            again = body.findChild(QWidget, focus_name)
            if again is not None:
                again.setFocus()

    # ------------------------------------------------------------ building the form

    def _context(self) -> Context:
        data = self.document.data
        elements = editing.element_names(data)
        onward = [*elements, "end"]
        choices = {
            "Stage.fault": [e for e in elements if e != self.document.selection[0]],
            "Stage.next": onward,
            "Decision.default": onward,
            "Outcome.next": onward,
            "InteractiveStep.form": [*sorted((data.get("forms") or {}).keys()), NEW_FORM],
            **self.directory,
        }
        return Context(
            data=lambda: self.document.data,
            names=expression_names(data, self.record_fields),
            choices=choices,
            list_rows=self.list_rows,
            read_only=self.document.read_only,
        )

    def _fill(self, layout: QVBoxLayout, key: Key) -> None:
        data = self.document.data
        element, step = key
        # One line, shortened to the panel's width: a heading that wrapped once a step was
        # renamed moved every field under the mouse.
        heading = ElidedLabel()
        heading.setProperty("role", "title")
        heading.setObjectName("propertyHeading")
        layout.addWidget(heading)
        if self.document.read_only:
            note = QLabel("Read-only: this version is kept as it ran. Edit a copy to change it.")
            note.setProperty("role", "muted")
            note.setWordWrap(True)
            layout.addWidget(note)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # wide editors: below
        layout.addLayout(form)
        context = self._context()
        if element is None:
            heading.setText("Orchestration")
            model: Any = Orchestration
            node = data
            owner = None
            name_field: QWidget = QLabel(str(data.get("name")))
        elif step is None:
            node = editing.element(data, element)
            model = Stage if node.get("kind") == "stage" else Decision
            heading.setText(("Stage " if model is Stage else "Decision ") + element)
            owner = element
            name_field = self._name_editor(element, None)
        else:
            node = editing.step(data, element, step)
            model = InteractiveStep if node.get("kind") != "background" else BackgroundStep
            heading.setText(
                ("Interactive step " if model is InteractiveStep else "Background step ")
                + f"{element}.{step}"
            )
            owner = f"{element}.{step}"
            name_field = self._name_editor(element, step)
        form.addRow("Name", name_field)
        for field_name, info in model.model_fields.items():
            if field_name in SKIP:
                continue

            def change(value: Any, merge: bool, field_name: str = field_name) -> None:
                if field_name == "form" and value == NEW_FORM and element and step:
                    self._push(lambda: commands.AddForm(self.document, element, step))
                else:
                    self._set(owner, field_name, value, merge)

            editor: QWidget
            if field_name == "forms" and owner is None:
                editor = FormsEditor(
                    node.get("forms") or {}, change, self._add_field, context, "forms"
                )
            else:
                editor = field_editor(
                    info,
                    field_name,
                    node.get(field_name),
                    change,
                    context,
                    f"{owner}.{field_name}",
                    model.__name__,
                )
            label = QLabel(field_name.replace("_", " ").capitalize())
            label.setToolTip(info.description or "")
            form.addRow(label, editor)
        if model is InteractiveStep:
            self._step_form(layout, node, context)

    def _step_form(self, layout: QVBoxLayout, node: dict[str, Any], context: Context) -> None:
        """The step's own form, built right here (it is the orchestration's form of that
        name: steps sharing it share the changes)."""
        name = node.get("form")
        forms = self.document.data.get("forms") or {}
        if not isinstance(name, str) or not isinstance(forms.get(name), dict):
            return
        box = QGroupBox(f"Form “{name}”")
        box.setObjectName("stepForm")
        inner = QVBoxLayout(box)

        def changed(new: dict[str, Any], merge: bool) -> None:
            self._set(None, "forms", {**(self.document.data.get("forms") or {}), name: new}, merge)

        inner.addWidget(
            FormBuilder(
                forms[name],
                changed,
                lambda kind: self._add_field(name, kind),
                context,
                f"forms.{name}",
            )
        )
        layout.addWidget(box)

    def _add_field(self, form: str, kind: str) -> None:
        self._push(lambda: commands.AddField(self.document, form, kind))

    def _push(self, make: Any) -> None:
        try:
            command = make()
        except EditError as exc:
            self.refused.emit(str(exc))
            return
        self.document.push(command)

    def _name_editor(self, element: str, step: str | None) -> QWidget:
        box = QWidget()
        inner = QVBoxLayout(box)
        inner.setContentsMargins(0, 0, 0, 0)
        line = QLineEdit(step or element)
        line.setObjectName("nameEditor")
        line.setEnabled(not self.document.read_only)
        problem = QLabel()
        problem.setObjectName("nameProblem")
        problem.setProperty("role", "error")
        problem.setWordWrap(True)
        problem.hide()
        inner.addWidget(line)
        inner.addWidget(problem)

        def rename() -> None:
            new = line.text().strip()
            if new == (step or element):
                problem.hide()
                return
            try:
                command: commands.EditCommand = (
                    commands.RenameElement(self.document, element, new)
                    if step is None
                    else commands.RenameStep(self.document, element, step, new)
                )
            except EditError as exc:
                problem.setText(str(exc))
                problem.show()
                return
            self.document.push(command)

        line.editingFinished.connect(rename)
        return box

    def _set(self, owner: str | None, key: str, value: Any, merge: bool) -> None:
        current = editing.target(self.document.data, owner).get(key)
        if current == value:
            return
        command = commands.SetProperty(self.document, owner, key, value)
        if not merge:
            command.merge_key = None
        self.document.push(command)

    def focus_name(self) -> None:
        line = self.findChild(QLineEdit, "nameEditor")
        if line is not None:
            line.setFocus(Qt.FocusReason.ShortcutFocusReason)
            line.selectAll()
