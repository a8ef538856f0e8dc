"""Typed editors built from the definition format itself: for each field of a model, the
widget its type calls for — a check box, a number, a list of choices, a duration, an
expression with checking and completion, a table of name → expression, a nested group, or a
list of entries (outcomes, escalations, actions, form fields; in ``entries``).

Each editor holds its value as plain data and reports a whole new value upward; the panel
turns the value of a top-level field into one undoable command.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import yaml
from pydantic import BaseModel
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.designer.expression_edit import ExpressionEdit
from engine.definitions.durations import parse_duration
from engine.definitions.editing import relabel

Change = Callable[[Any, bool], None]  # (new value, merge with the previous change)
DURATIONS = frozenset({"due", "offset", "timeout"})
LONG_TEXT = frozenset({"description", "instructions", "body", "help"})


@dataclass
class Context:
    """What editors need from the draft: its data (for checking expressions), the names
    expressions may use, and choices for particular fields."""

    data: Callable[[], dict[str, Any]]
    names: list[str]
    choices: dict[str, list[str]] = field(default_factory=dict)  # 'Model.field' → options
    list_rows: dict[str, int] = field(default_factory=dict)  # kept across rebuilds
    read_only: bool = False


def _unwrap(annotation: Any) -> tuple[Any, bool, bool]:
    """(inner type, optional, is an expression)."""
    optional = False
    expression = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) == 1:
            annotation = args[0]
    if typing.get_origin(annotation) is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        expression = any(getattr(m, "description", None) == "An expression" for m in meta)
        if typing.get_origin(base) in (typing.Union, types.UnionType):
            return annotation, optional, expression  # a discriminated union
        annotation = base
    return annotation, optional, expression


def _is_expression(info: Any) -> bool:
    return any(getattr(m, "max_length", None) == 4000 for m in info.metadata)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def _union_members(annotation: Any) -> list[type[BaseModel]]:
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return [a for a in typing.get_args(annotation) if _model_of(a)]


def is_literal(info: Any) -> bool:
    return typing.get_origin(info.annotation) is typing.Literal


def model_form(
    model: type[BaseModel],
    value: dict[str, Any],
    on_change: Callable[[dict[str, Any], bool], None],
    context: Context,
    path: str,
    *,
    skip: tuple[str, ...] = (),
    only: tuple[str, ...] | None = None,
) -> QWidget:
    """A form with an editor for each field of ``model`` (``skip`` left out)."""
    widget = QWidget()
    form = QFormLayout(widget)
    # A wide editor (a list, a form) goes under its label when the panel is narrow.
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    form.setContentsMargins(0, 0, 0, 0)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    current = dict(value)
    names = only or tuple(sorted(model.model_fields, key=lambda n: n != "name"))
    for name in names:
        info = model.model_fields[name]
        if name in skip or name == "format" or (name in ("kind", "type") and is_literal(info)):
            continue

        def change(new: Any, merge: bool, name: str = name) -> None:
            if name == "name" and isinstance(new, str) and "label" in current:
                # a label derived from the name (an outcome's "New outcome") follows it
                current["label"] = relabel(current["label"], str(current.get("name")), new)
            if new is None or new == "" or new == [] or new == {}:
                current.pop(name, None)
            else:
                current[name] = new
            on_change(dict(current), merge)

        editor = field_editor(
            info, name, current.get(name), change, context, f"{path}.{name}", model.__name__
        )
        label = QLabel(name.replace("_", " ").capitalize())
        if info.description:
            label.setToolTip(info.description)
            editor.setToolTip(info.description)
        form.addRow(label, editor)
    return widget


def field_editor(
    info: Any, name: str, value: Any, change: Change, context: Context, path: str, owner: str
) -> QWidget:
    """The editor of field ``name`` of model ``owner`` (choices are keyed 'Model.field')."""
    annotation, _, expression = _unwrap(info.annotation)
    choices = context.choices.get(f"{owner}.{name}")
    expression = expression or _is_expression(info)
    origin = typing.get_origin(annotation)
    editor: QWidget
    if expression:
        editor = ExpressionEdit(value, context.data, context.names)
        editor.committed.connect(lambda text: change(text, False))
    elif choices is not None and origin is list:
        editor = _words(value, change, str, choices)
    elif choices is not None:
        editor = _choice(value, ["", *choices], lambda v: change(v or None, False))
    elif annotation is bool:
        editor = QCheckBox()
        editor.setChecked(bool(value if value is not None else info.default))
        editor.toggled.connect(lambda on: change(on, False))
    elif annotation in (int, float):
        editor = _number(annotation, info, value, change)
    elif isinstance(annotation, type) and issubclass(annotation, Enum):
        options = [m.value for m in annotation]
        default = info.default.value if isinstance(info.default, Enum) else ""
        editor = _choice(
            value or default, options if default else ["", *options], change_value(change)
        )
    elif typing.get_origin(annotation) is typing.Literal:
        options = [str(a) for a in typing.get_args(annotation)]
        editor = _choice(value or info.default, options, change_value(change))
    elif name in DURATIONS:
        editor = _duration(value, change)
    elif _model_of(annotation):
        model = _model_of(annotation)
        assert model is not None
        box = QGroupBox()
        layout = QVBoxLayout(box)
        layout.addWidget(model_form(model, value or {}, lambda v, m: change(v, m), context, path))
        if value is not None:
            clear = QPushButton("Clear")
            clear.clicked.connect(lambda: change(None, False))
            layout.addWidget(clear, 0, Qt.AlignmentFlag.AlignRight)
        editor = box
    elif origin is list:
        # Lists of entries hold a model_form each: their module imports this one.
        from desktop_app.designer.entries import ListEditor

        (item,) = typing.get_args(annotation)
        members = _union_members(item)
        model = _model_of(item)
        if members or model:
            editor = ListEditor(value or [], members or [model], change, context, path)  # type: ignore[list-item]
        else:
            editor = _words(value, change, int if item is int else str)
    elif origin is dict:
        from desktop_app.designer.entries import DictOfModels

        _, item = typing.get_args(annotation)
        inner = _unwrap(item)
        if _model_of(inner[0]):
            editor = DictOfModels(value or {}, inner[0], change, context, path)
        else:
            editor = PairsEditor(value or {}, change, context, expressions=inner[2])
    elif name in LONG_TEXT:
        editor = QPlainTextEdit(str(value or ""))
        editor.setFixedHeight(70)
        text = editor
        text.focusOutEvent = _on_focus_out(text, lambda: change(text.toPlainText() or None, False))  # type: ignore[method-assign]
    elif annotation is str:
        editor = QLineEdit(str(value or ""))
        line = editor
        line.editingFinished.connect(lambda: change(line.text().strip() or None, False))
    else:  # a value of any type, such as a default: written as YAML
        editor = QLineEdit(
            "" if value is None else yaml.safe_dump(value).strip().removesuffix("...")
        )
        line = editor
        line.setPlaceholderText("a value, e.g. 10, true, or text")
        line.editingFinished.connect(lambda: change(parse_value(line.text()), False))
    editor.setObjectName(path)
    editor.setEnabled(not context.read_only)
    return editor


def change_value(change: Change) -> Callable[[str], None]:
    return lambda text: change(text or None, False)


def parse_value(text: str) -> Any:
    """A value typed as YAML (10, true, [a, b]); text that is not YAML stays text."""
    try:
        return yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        return text


def _on_focus_out(widget: QPlainTextEdit, done: Callable[[], None]) -> Any:
    original = widget.focusOutEvent

    def handler(event: Any) -> None:
        done()
        original(event)

    return handler


def _choice(value: Any, options: list[str], on_pick: Callable[[str], None]) -> QComboBox:
    combo = QComboBox()
    # Sized by the panel, not by the longest choice (which would push the panel wider).
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)
    combo.addItems(options)
    text = "" if value is None else str(value)
    if text and combo.findText(text) < 0:
        combo.addItem(text)  # a value the options no longer hold: shown, not lost
    combo.setCurrentText(text)
    combo.currentTextChanged.connect(on_pick)
    return combo


def _number(kind: type, info: Any, value: Any, change: Change) -> QWidget:
    low = next((m.ge for m in info.metadata if hasattr(m, "ge")), 0)
    high = next((m.le for m in info.metadata if hasattr(m, "le")), 10**9)
    spin: QSpinBox | QDoubleSpinBox = QSpinBox() if kind is int else QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setValue(value if value is not None else info.default)
    spin.valueChanged.connect(lambda number: change(number, True))
    return spin


def _duration(value: Any, change: Change) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    line = QLineEdit(str(value or ""))
    line.setPlaceholderText("e.g. 2 business days, 4 hours, -1 day")
    problem = QLabel()
    problem.setProperty("role", "error")
    problem.hide()
    layout.addWidget(line)
    layout.addWidget(problem)

    def check(text: str) -> bool:
        message = ""
        if text.strip():
            try:
                parse_duration(text)
            except ValueError as exc:
                message = str(exc)
        problem.setText(message)
        problem.setVisible(bool(message))
        return not message

    def commit() -> None:
        if check(line.text()):
            change(line.text().strip() or None, False)

    line.textEdited.connect(check)
    line.editingFinished.connect(commit)
    return box


class _ListCompleter(QCompleter):
    """Suggestions for the last of several comma-separated names (the ones before stay)."""

    def splitPath(self, path: str) -> list[str]:
        return [path.split(",")[-1].strip()]

    def pathFromIndex(self, index: Any) -> str:
        widget = self.widget()
        text = widget.text() if isinstance(widget, QLineEdit) else ""
        head = text.rsplit(",", 1)[0] + ", " if "," in text else ""
        return head + str(index.data())


def _words(
    value: Any, change: Change, kind: type, suggestions: list[str] | None = None
) -> QLineEdit:
    line = QLineEdit(", ".join(str(v) for v in value or []))
    line.setPlaceholderText("comma-separated")
    if suggestions:  # people, queues and groups, as they are typed
        completer = _ListCompleter(suggestions, line)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        line.setCompleter(completer)

    def commit() -> None:
        parts = [p.strip() for p in line.text().split(",") if p.strip()]
        try:
            change([kind(p) for p in parts] or None, False)
        except ValueError:
            line.setText(", ".join(str(v) for v in value or []))

    line.editingFinished.connect(commit)
    return line


class PairsEditor(QWidget):
    """name → value rows (expressions checked as typed), with add and remove."""

    def __init__(
        self, value: dict[str, Any], change: Change, context: Context, *, expressions: bool
    ) -> None:
        super().__init__()
        self.change = change
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(len(value), 2)
        self.table.setHorizontalHeaderLabels(["Name", "Expression" if expressions else "Value"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.setFixedHeight(min(60 + 28 * len(value), 200))
        for row, (key, text) in enumerate(value.items()):
            self.table.setItem(row, 0, QTableWidgetItem(str(key)))
            self.table.setItem(row, 1, QTableWidgetItem(str(text)))
        self.table.itemChanged.connect(lambda _: self._commit())
        buttons = QHBoxLayout()
        add = QPushButton("Add")
        add.clicked.connect(self._add)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove)
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        layout.addWidget(self.table)
        layout.addLayout(buttons)

    def value(self) -> dict[str, str]:
        out = {}
        for row in range(self.table.rowCount()):
            key, text = self.table.item(row, 0), self.table.item(row, 1)
            if key and key.text().strip() and text and text.text().strip():
                out[key.text().strip()] = text.text().strip()
        return out

    def _commit(self) -> None:
        self.change(self.value() or None, False)

    def _add(self) -> None:
        taken = set(self.value())
        number = len(taken) + 1
        while f"name_{number}" in taken:
            number += 1
        self.change({**self.value(), f"name_{number}": "None"}, False)

    def _remove(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)
            self._commit()
