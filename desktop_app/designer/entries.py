"""Lists of entries in the property panel (outcomes, escalations, actions, form fields, the
forms themselves): the list, add (a new entry named after what it is), remove, reorder, and
the chosen entry's own form under it, built by ``fields.model_form``."""

from __future__ import annotations

import re
import typing
from typing import Any

from pydantic import BaseModel, create_model
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app import layouts
from desktop_app.designer.fields import Change, Context, is_literal, model_form
from engine.definitions.editing import unique_name
from engine.text import derived_label


def _literal_tag(model: type[BaseModel]) -> str | None:
    """The fixed ``type`` or ``kind`` that tells a member of a union apart (``send_email``);
    None when the model has none — a form field's ``type`` is a setting, not a tag."""
    for key in ("type", "kind"):
        info = model.model_fields.get(key)
        if info is not None and typing.get_origin(info.annotation) is typing.Literal:
            return str(typing.get_args(info.annotation)[0])
    return None


def _type_tag(model: type[BaseModel]) -> str | None:
    """The fixed ``type`` an entry of this model carries, if it has one."""
    info = model.model_fields.get("type")
    return (
        str(typing.get_args(info.annotation)[0]) if info is not None and is_literal(info) else None
    )


def _tag(model: type[BaseModel]) -> str:
    return _literal_tag(model) or model.__name__


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
        layouts.empty(self.detail)
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
        out["label"] = derived_label(name)
    return out
