"""Typed editors built from the definition format itself: for each field of a model, the
widget its type calls for — a check box, a number, a list of choices, a duration, an
expression with checking and completion, a table of name → expression, a nested group, or a
list of entries (outcomes, escalations, actions, form fields) with add, remove and reorder.

Each editor holds its value as plain data and reports a whole new value upward; the panel
turns the value of a top-level field into one undoable command.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import yaml
from pydantic import BaseModel, create_model
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
    QListWidget,
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
from engine.definitions.editing import relabel, unique_name

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


def _literal_tag(model: type[BaseModel]) -> str | None:
    """The fixed ``type`` or ``kind`` that tells a member of a union apart (``send_email``);
    None when the model has none — a form field's ``type`` is a setting, not a tag."""
    for key in ("type", "kind"):
        info = model.model_fields.get(key)
        if info is not None and typing.get_origin(info.annotation) is typing.Literal:
            return str(typing.get_args(info.annotation)[0])
    return None


def _fixed(info: Any) -> bool:
    return typing.get_origin(info.annotation) is typing.Literal


def _type_tag(model: type[BaseModel]) -> str | None:
    """The fixed ``type`` an entry of this model carries, if it has one."""
    info = model.model_fields.get("type")
    return str(typing.get_args(info.annotation)[0]) if info is not None and _fixed(info) else None


def _tag(model: type[BaseModel]) -> str:
    return _literal_tag(model) or model.__name__


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
        if name in skip or name == "format" or (name in ("kind", "type") and _fixed(info)):
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
        (item,) = typing.get_args(annotation)
        members = _union_members(item)
        model = _model_of(item)
        if members or model:
            editor = ListEditor(value or [], members or [model], change, context, path)  # type: ignore[list-item]
        else:
            editor = _words(value, change, int if item is int else str)
    elif origin is dict:
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


class ListEditor(QWidget):
    """Entries of a list (outcomes, escalations, actions, fields …): the list, buttons to add
    (choosing the kind when there are several), remove and reorder, and the chosen entry's
    own form under it."""

    def __init__(
        self,
        value: list[dict[str, Any]],
        models: list[type[BaseModel]],
        change: Change,
        context: Context,
        path: str,
    ) -> None:
        super().__init__()
        self.items = [dict(v) if isinstance(v, dict) else v for v in value]
        self.models = models
        self.change = change
        self.context = context
        self.path = path
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setObjectName(path + ".list")
        self.list.setFixedHeight(min(34 + 22 * max(len(self.items), 1), 150))
        for item in self.items:
            self.list.addItem(_describe(item))
        buttons = QHBoxLayout()
        self.kind = QComboBox()
        if len(models) > 1:  # which kind "Add" adds, on its own row to keep the panel narrow
            self.kind.addItems([_tag(m) for m in models])
            self.kind.setToolTip("The kind of entry Add adds")
            layout.addWidget(self.kind)
        for text, slot in (
            ("Add", self._add),
            ("Remove", self._remove),
            ("↑", self._up),
            ("↓", self._down),
        ):
            button = QPushButton(text)
            button.setObjectName(f"{path}.{text}")
            if len(text) == 1:
                button.setFixedWidth(34)
            button.clicked.connect(slot)
            button.setEnabled(not context.read_only)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.insertWidget(0, self.list)
        layout.addLayout(buttons)
        self.detail = QVBoxLayout()
        layout.addLayout(self.detail)
        self.list.currentRowChanged.connect(self._show)
        row = context.list_rows.get(path, 0 if self.items else -1)
        self.list.setCurrentRow(min(row, len(self.items) - 1))

    def _model(self, item: Any) -> type[BaseModel]:
        if len(self.models) == 1:
            return self.models[0]
        tag = item.get("type") if isinstance(item, dict) else None
        return next((m for m in self.models if _tag(m) == tag), self.models[0])

    def _show(self, row: int) -> None:
        self.context.list_rows[self.path] = row
        while self.detail.count():
            taken = self.detail.takeAt(0)
            old = taken.widget() if taken is not None else None
            if old is not None:
                old.deleteLater()
        if 0 <= row < len(self.items):
            item = self.items[row]

            def changed(new: dict[str, Any], merge: bool, row: int = row) -> None:
                tag = _type_tag(self._model(self.items[row]))
                if tag is not None:
                    new = {"type": tag, **new}
                self.items[row] = new
                self.change(list(self.items), merge)

            box = QGroupBox(_describe(item))
            inner = QVBoxLayout(box)
            inner.addWidget(
                model_form(self._model(item), item, changed, self.context, f"{self.path}[{row}]")
            )
            self.detail.addWidget(box)

    def _add(self) -> None:
        model = self.models[self.kind.currentIndex()] if len(self.models) > 1 else self.models[0]
        self.context.list_rows[self.path] = len(self.items)
        taken = {str(i.get("name")) for i in self.items if isinstance(i, dict)}
        self.change([*self.items, _blank(model, len(self.items) + 1, taken)], False)

    def _remove(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.items):
            self.context.list_rows[self.path] = max(0, row - 1)
            self.change(self.items[:row] + self.items[row + 1 :] or None, False)

    def _move(self, step: int) -> None:
        row = self.list.currentRow()
        other = row + step
        if 0 <= row < len(self.items) and 0 <= other < len(self.items):
            items = list(self.items)
            items[row], items[other] = items[other], items[row]
            self.context.list_rows[self.path] = other
            self.change(items, False)

    def _up(self) -> None:
        self._move(-1)

    def _down(self) -> None:
        self._move(1)


class DictOfModels(ListEditor):
    """A mapping of name → entry (the forms of an orchestration), edited as a list."""

    def __init__(
        self,
        value: dict[str, Any],
        model: type[BaseModel],
        change: Change,
        context: Context,
        path: str,
    ) -> None:
        listed = [{"name": k, **(v or {})} for k, v in value.items()]
        self._dict_change = change
        # Each entry as the list edits it: the model, with its key as a field 'name'.
        named = create_model(f"Named{model.__name__}", name=(str, ...), __base__=model)
        super().__init__(listed, [named], self._as_dict, context, path)

    def _as_dict(self, items: Any, merge: bool) -> None:
        out: dict[str, Any] = {}
        for item in items or []:
            entry = dict(item)
            name = str(entry.pop("name", "") or f"form_{len(out) + 1}")
            out[name] = entry
        self._dict_change(out or None, merge)

    def _add(self) -> None:
        self.context.list_rows[self.path] = len(self.items)
        self._as_dict(
            [*self.items, {"name": f"form_{len(self.items) + 1}", "title": "New form"}], False
        )


def _describe(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    head = item.get("label") or item.get("name") or item.get("title") or item.get("type") or ""
    kind = item.get("type") or item.get("action") or ""
    if item.get("offset") is not None:
        return f"{item.get('offset')}: {item.get('action', '')}"
    return f"{head}" + (f" ({kind})" if kind and kind != head else "")


def _blank(model: type[BaseModel], number: int, taken: set[str]) -> dict[str, Any]:
    """A new entry with its required fields filled with placeholders: named after what it is
    (outcome_3, not item_3) and, where it has a label, labelled so ("Outcome 3"), which is
    what the canvas shows on its arrow."""
    out: dict[str, Any] = {}
    tag = _type_tag(model)
    if tag is not None:
        out["type"] = tag
    kind = re.sub(r"(?<!^)(?=[A-Z])", " ", model.__name__).lower()  # FormField → form field
    name = unique_name(f"{kind} {number}", taken)
    placeholders = {
        "name": name,
        "when": "False",
        "next": "end",
        "offset": "0 hours",
        "action": "notify" if model.__name__ == "Escalation" else "my_action",
        "values": {"name_1": "None"},
        "to": ["{{run.started_by}}"],
        "subject": "Subject",
        "url": "https://example.com",
        "until": "now()",
        "event": "my_event",
        "key": "vars.key",
        "orchestration": "other_orchestration",
        "object": "my_object",
        "expression": "True",
        "message": "Message",
    }
    for key, info in model.model_fields.items():
        if info.is_required() and key not in out and key in placeholders:
            out[key] = placeholders[key]
    if "name" in out and "label" in model.model_fields:
        out["label"] = name.replace("_", " ").capitalize()
    return out
