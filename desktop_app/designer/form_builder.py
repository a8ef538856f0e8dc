"""The form builder: a form's title and instructions, its fields — each added by choosing its
type, then every setting of the field (type, name, label, required, default, help, the options
of a picklist, the validation expression and its message) — its outcome buttons, and a live
preview drawn by the very widget the user will fill in.

Like the other editors it reports a whole new form upward (one undoable command per change);
adding a field goes through ``add_field`` so that it is a command of its own.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app import layouts
from desktop_app.designer.entries import DictOfModels
from desktop_app.designer.expression_edit import ExpressionEdit
from desktop_app.designer.fields import Change, Context, model_form
from desktop_app.panels.form import FormView
from engine.definitions import editing
from engine.definitions.model import Form, is_valid_name
from engine.text import derived_label

TYPE_NAMES = {
    "text": "Text",
    "long_text": "Long text",
    "number": "Number",
    "currency": "Currency",
    "date": "Date",
    "datetime": "Date and time",
    "checkbox": "Checkbox",
    "picklist": "Picklist",
    "email": "E-mail",
}


def describe_field(field: dict[str, Any]) -> str:
    label = field.get("label") or derived_label(str(field.get("name") or ""))
    kind = str(field.get("type") or "text")
    return f"{label} ({TYPE_NAMES.get(kind, kind)})" + (" *" if field.get("required") else "")


class FormBuilder(QWidget):
    """One form. ``change(new form, merge)``; ``add_field(kind)`` adds a field of that type."""

    def __init__(
        self,
        value: dict[str, Any],
        change: Change,
        add_field: Callable[[str], None],
        context: Context,
        path: str,
    ) -> None:
        super().__init__()
        self.setObjectName(path)
        self.form = copy.deepcopy(value)
        self.change = change
        self.add_field = add_field
        self.context = context
        self.path = path
        self.fields: list[dict[str, Any]] = [
            f for f in self.form.get("fields") or [] if isinstance(f, dict)
        ]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(
            model_form(Form, self.form, self._whole, context, path, only=("title", "instructions"))
        )
        layout.addWidget(QLabel("Fields"))
        self.list = QListWidget()
        self.list.setObjectName(f"{path}.fields")
        self.list.setFixedHeight(min(34 + 22 * max(len(self.fields), 1), 170))
        for field in self.fields:
            self.list.addItem(QListWidgetItem(describe_field(field)))
        layout.addWidget(self.list)
        layout.addLayout(self._buttons())
        self.detail = QVBoxLayout()
        layout.addLayout(self.detail)
        layout.addWidget(
            model_form(Form, self.form, self._whole, context, path, only=("outcomes",))
        )
        layout.addWidget(self._preview())
        self.list.currentRowChanged.connect(self._show)
        row = context.list_rows.get(self.list.objectName(), 0 if self.fields else -1)
        self.list.setCurrentRow(min(row, len(self.fields) - 1))

    # ------------------------------------------------------------ the list of fields

    def _buttons(self) -> QHBoxLayout:
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add field…")
        self.add_button.setObjectName(f"{self.path}.addField")
        self.add_button.setToolTip("Add a field: you choose its type")
        self.add_button.clicked.connect(self._ask_type)
        self.type_menu = QMenu(self)
        self.type_menu.setObjectName("fieldTypeMenu")
        for kind in editing.FIELD_TYPES:
            action = QAction(TYPE_NAMES.get(kind, kind), self.type_menu)
            action.setData(kind)
            action.triggered.connect(lambda _=False, kind=kind: self._add(kind))
            self.type_menu.addAction(action)
        buttons.addWidget(self.add_button)
        for text, slot, name in (
            ("Remove", self._remove, "removeField"),
            ("↑", lambda: self._move(-1), "fieldUp"),
            ("↓", lambda: self._move(1), "fieldDown"),
        ):
            button = QPushButton(text)
            button.setObjectName(f"{self.path}.{name}")
            if len(text) == 1:
                button.setFixedWidth(34)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        for index in range(buttons.count()):
            item = buttons.itemAt(index)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.setEnabled(not self.context.read_only)
        return buttons

    def _ask_type(self) -> None:
        """Which type of field: a menu under the button (it does not block)."""
        self.type_menu.popup(self.add_button.mapToGlobal(QPoint(0, self.add_button.height())))

    def _add(self, kind: str) -> None:
        self.context.list_rows[self.list.objectName()] = len(self.fields)
        self.add_field(kind)

    def _remove(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.fields):
            self.context.list_rows[self.list.objectName()] = max(0, row - 1)
            self._fields(self.fields[:row] + self.fields[row + 1 :])

    def _move(self, step: int) -> None:
        row, other = self.list.currentRow(), self.list.currentRow() + step
        if 0 <= row < len(self.fields) and 0 <= other < len(self.fields):
            fields = list(self.fields)
            fields[row], fields[other] = fields[other], fields[row]
            self.context.list_rows[self.list.objectName()] = other
            self._fields(fields)

    def _fields(self, fields: list[dict[str, Any]], merge: bool = False) -> None:
        form = dict(self.form)
        if fields:
            form["fields"] = fields
        else:
            form.pop("fields", None)
        self.change(form, merge)

    def _whole(self, form: dict[str, Any], merge: bool) -> None:
        self.change({**form, **({"fields": self.fields} if self.fields else {})}, merge)

    def _show(self, row: int) -> None:
        self.context.list_rows[self.list.objectName()] = row
        layouts.empty(self.detail)
        if 0 <= row < len(self.fields):

            def changed(field: dict[str, Any], row: int = row) -> None:
                fields = list(self.fields)
                fields[row] = field
                self._fields(fields)

            editor = FieldSettings(
                self.fields[row], changed, self.context, f"{self.path}.fields[{row}]"
            )
            self.detail.addWidget(editor)

    # ------------------------------------------------------------ preview

    def _preview(self) -> QWidget:
        box = QGroupBox("Preview: the form as the person doing the step sees it")
        box.setObjectName(f"{self.path}.preview")
        inner = QVBoxLayout(box)
        try:
            self.preview: FormView | None = FormView(_previewable(self.form))
        except (KeyError, TypeError, ValueError, AttributeError):
            self.preview = None
            inner.addWidget(QLabel("The preview shows once every field has a name."))
        else:
            inner.addWidget(self.preview)
        return box


def _previewable(form: dict[str, Any]) -> dict[str, Any]:
    """The form as the inbox would get it (fields without a name are not shown yet)."""
    fields = [f for f in form.get("fields") or [] if isinstance(f, dict) and f.get("name")]
    return {**form, "fields": fields}


class FieldSettings(QGroupBox):
    """Every setting of one field, in the order a person thinks of them."""

    def __init__(
        self,
        field: dict[str, Any],
        change: Callable[[dict[str, Any]], None],
        context: Context,
        path: str,
    ) -> None:
        super().__init__(describe_field(field))
        self.setObjectName(path)
        self.field = dict(field)
        self.change = change
        self.kind = str(field.get("type") or "text")
        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.type = QComboBox()
        self.type.setObjectName(f"{path}.type")
        for kind in editing.FIELD_TYPES:
            self.type.addItem(TYPE_NAMES.get(kind, kind), kind)
        self.type.setCurrentIndex(max(self.type.findData(self.kind), 0))
        self.type.activated.connect(
            lambda _: self.change(editing.retype_field(self.field, str(self.type.currentData())))
        )
        form.addRow("Type", self.type)

        self.name = QLineEdit(str(field.get("name") or ""))
        self.name.setObjectName(f"{path}.name")
        self.name_problem = _problem()
        self.name.editingFinished.connect(self._rename)
        form.addRow("Name", _column(self.name, self.name_problem))

        self.label = self._line(path, "label", "shown to the person; the name's words if empty")
        form.addRow("Label", self.label)
        self.required = QCheckBox(
            "A value must be given" if self.kind != "checkbox" else "Must be ticked"
        )
        self.required.setObjectName(f"{path}.required")
        self.required.setChecked(bool(field.get("required")))
        self.required.toggled.connect(lambda on: self._set("required", on or None))
        form.addRow("Required", self.required)
        self.default_problem = _problem()
        form.addRow("Default", _column(self._default(path), self.default_problem))
        form.addRow("Help", self._line(path, "help", "a hint under the field"))
        if self.kind == "picklist":
            self.options = OptionsEditor(
                [str(o) for o in field.get("options") or []],
                self._options,
                f"{path}.options",
                context.list_rows,
            )
            form.addRow("Options", self.options)
        validation = field.get("validation") if isinstance(field.get("validation"), dict) else {}
        self.validation = ExpressionEdit(
            (validation or {}).get("expression"),
            context.data,
            context.names,
            local=("value",),
            placeholder="e.g. value > 0 (value is what was entered)",
        )
        self.validation.setObjectName(f"{path}.validation.expression")
        self.validation.committed.connect(lambda text: self._validation("expression", text))
        form.addRow("Valid when", self.validation)
        self.message = QLineEdit(str((validation or {}).get("message") or ""))
        self.message.setObjectName(f"{path}.validation.message")
        self.message.setPlaceholderText("said when it is not, e.g. Must be more than zero.")
        self.message.editingFinished.connect(
            lambda: self._validation("message", self.message.text().strip() or None)
        )
        form.addRow("Message", self.message)
        for widget in self.findChildren(QWidget):
            widget.setEnabled(not context.read_only)

    def _line(self, path: str, key: str, placeholder: str) -> QLineEdit:
        line = QLineEdit(str(self.field.get(key) or ""))
        line.setObjectName(f"{path}.{key}")
        line.setPlaceholderText(placeholder)
        line.editingFinished.connect(lambda: self._set(key, line.text().strip() or None))
        return line

    def _set(self, key: str, value: Any) -> None:
        field = dict(self.field)
        if value is None:
            field.pop(key, None)
        else:
            field[key] = value
        if field != self.field:
            self.field = field
            self.change(field)

    def _options(self, options: list[str]) -> None:
        field = {**self.field, "options": options}
        if field.get("default") not in options:
            field.pop("default", None)  # the chosen default is no longer offered
        if not options:
            field.pop("options")
        self.field = field
        self.change(field)

    def _rename(self) -> None:
        new = self.name.text().strip()
        old = str(self.field.get("name") or "")
        if new == old:
            return
        if not is_valid_name(new):
            self.name_problem.setText(
                f"'{new}' is not a valid field name: start with a letter, then letters, digits "
                "or '_'"
            )
            self.name_problem.show()
            return
        field = {**self.field, "name": new}
        if "label" in field:
            field["label"] = editing.relabel(field["label"], old, new)
        self.field = field
        self.change(field)

    def _validation(self, key: str, value: Any) -> None:
        current = self.field.get("validation")
        validation = dict(current) if isinstance(current, dict) else {}
        if value is None:
            validation.pop(key, None)
        else:
            validation[key] = value
        self._set("validation", validation or None)

    def _default(self, path: str) -> QWidget:
        """The default, edited as what it is: ticked or not, one of the options, a number…"""
        value = self.field.get("default")
        name = f"{path}.default"
        if self.kind == "checkbox":
            box = QCheckBox("Ticked at first")
            box.setObjectName(name)
            box.setChecked(value is True)
            box.toggled.connect(lambda on: self._set("default", True if on else None))
            return box
        if self.kind == "picklist":
            combo = QComboBox()
            combo.setObjectName(name)
            combo.addItem("")
            combo.addItems([str(o) for o in self.field.get("options") or []])
            combo.setCurrentText("" if value is None else str(value))
            combo.activated.connect(lambda _: self._set("default", combo.currentText() or None))
            return combo
        line = QLineEdit("" if value is None else str(value))
        line.setObjectName(name)
        line.setPlaceholderText(
            {
                "number": "a number",
                "currency": "an amount, e.g. 100.00",
                "date": "YYYY-MM-DD",
                "datetime": "YYYY-MM-DDTHH:MM",
            }.get(self.kind, "none")
        )
        line.editingFinished.connect(lambda: self._typed_default(line.text().strip()))
        return line

    def _typed_default(self, text: str) -> None:
        self.default_problem.hide()
        if not text:
            self._set("default", None)
            return
        if self.kind in ("number", "currency"):
            try:
                number = float(text)
            except ValueError:
                self.default_problem.setText(f"'{text}' is not a number")
                self.default_problem.show()
                return
            self._set("default", int(number) if number.is_integer() and "." not in text else number)
            return
        self._set("default", text)


class OptionsEditor(QWidget):
    """The choices of a picklist: type over one to change it, add, remove and reorder."""

    def __init__(
        self,
        options: list[str],
        change: Callable[[list[str]], None],
        path: str,
        rows: dict[str, int],
    ) -> None:
        super().__init__()
        self.options = list(options)
        self.change = change
        self.rows = rows
        self.path = path
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setObjectName(path)
        self.list.setFixedHeight(min(34 + 22 * max(len(options), 1), 150))
        for option in options:
            item = QListWidgetItem(option)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.list.addItem(item)
        self.list.setCurrentRow(min(rows.get(path, -1), len(options) - 1))
        self.list.currentRowChanged.connect(lambda row: rows.__setitem__(path, row))
        self.list.itemChanged.connect(lambda _: self._edited())
        layout.addWidget(self.list)
        row = QHBoxLayout()
        self.new = QLineEdit()
        self.new.setObjectName(f"{path}.new")
        self.new.setPlaceholderText("a new option")
        self.new.returnPressed.connect(self._add)
        row.addWidget(self.new, 1)
        for text, slot, name in (
            ("Add", self._add, "add"),
            ("Remove", self._remove, "remove"),
            ("↑", lambda: self._move(-1), "up"),
            ("↓", lambda: self._move(1), "down"),
        ):
            button = QPushButton(text)
            button.setObjectName(f"{path}.{name}")
            if len(text) == 1:
                button.setFixedWidth(34)
            button.clicked.connect(slot)
            row.addWidget(button)
        layout.addLayout(row)

    def _edited(self) -> None:
        texts = [self.list.item(i).text().strip() for i in range(self.list.count())]
        self.change([t for t in texts if t])

    def _add(self) -> None:
        text = self.new.text().strip()
        if text and text not in self.options:
            self.rows[self.path] = len(self.options)
            self.change([*self.options, text])

    def _remove(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.options):
            self.change(self.options[:row] + self.options[row + 1 :])

    def _move(self, step: int) -> None:
        row, other = self.list.currentRow(), self.list.currentRow() + step
        if 0 <= row < len(self.options) and 0 <= other < len(self.options):
            options = list(self.options)
            options[row], options[other] = options[other], options[row]
            self.rows[self.path] = other
            self.change(options)


def _problem() -> QLabel:
    label = QLabel()
    label.setProperty("role", "error")
    label.setWordWrap(True)
    label.hide()
    return label


def _column(*widgets: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    for widget in widgets:
        layout.addWidget(widget)
    return box


class FormsEditor(DictOfModels):
    """The orchestration's forms: the list of them, and the chosen one in the form builder."""

    def __init__(
        self,
        value: dict[str, Any],
        change: Change,
        add_field: Callable[[str, str], None],
        context: Context,
        path: str,
    ) -> None:
        self._add_field = add_field
        super().__init__(value, Form, change, context, path)

    def _show(self, row: int) -> None:
        self.context.list_rows[self.path] = row
        layouts.empty(self.detail)
        if not 0 <= row < len(self.items):
            return
        entry = dict(self.items[row])
        name = str(entry.pop("name", ""))

        def changed(form: dict[str, Any], merge: bool) -> None:
            items = list(self.items)
            items[row] = {"name": name, **form}
            self.change(items, merge)

        box = QGroupBox(f"Form “{name}”")
        inner = QVBoxLayout(box)
        inner.addWidget(
            FormBuilder(
                entry,
                changed,
                lambda kind: self._add_field(name, kind),
                self.context,
                f"{self.path}.{name}",
            )
        )
        self.detail.addWidget(box)
