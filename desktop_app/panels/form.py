"""A work item's form, built from its definition: typed widgets, required marks, and the
service's validation messages shown at the field they belong to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QDate, QDateTime, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

EMPTY_DATE = QDate(1900, 1, 1)


class FieldEditor:
    """One field: its widget, how to read it, and where its error shows."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.name: str = spec["name"]
        self.kind: str = spec.get("type", "text")
        self.widget = self._make()
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        self._set(spec.get("default"))

    def _make(self) -> QWidget:
        if self.kind == "long_text":
            editor = QPlainTextEdit()
            editor.setFixedHeight(90)
            return editor
        if self.kind == "checkbox":
            return QCheckBox()
        if self.kind == "picklist":
            combo = QComboBox()
            combo.addItem("")
            combo.addItems(self.spec.get("options") or [])
            return combo
        if self.kind == "date":
            date = QDateEdit()
            date.setCalendarPopup(True)
            date.setMinimumDate(EMPTY_DATE)
            date.setSpecialValueText("—")
            date.setDate(EMPTY_DATE)
            return date
        if self.kind == "datetime":
            moment = QDateTimeEdit()
            moment.setCalendarPopup(True)
            moment.setMinimumDate(EMPTY_DATE)
            moment.setSpecialValueText("—")
            moment.setDateTime(QDateTime(EMPTY_DATE, moment.time()))
            return moment
        line = QLineEdit()
        if self.kind in ("number", "currency"):
            line.setPlaceholderText("0.00" if self.kind == "currency" else "a number")
            line.setAlignment(Qt.AlignmentFlag.AlignRight)
        elif self.kind == "email":
            line.setPlaceholderText("name@example.com")
        return line

    def _set(self, value: Any) -> None:
        if value is None:
            return
        widget = self.widget
        if isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QComboBox):
            widget.setCurrentText(str(value))
        elif isinstance(widget, QPlainTextEdit):
            widget.setPlainText(str(value))
        elif isinstance(widget, QLineEdit):
            widget.setText(str(value))

    def value(self) -> Any:
        widget = self.widget
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QComboBox):
            return widget.currentText() or None
        if isinstance(widget, QPlainTextEdit):
            return widget.toPlainText() or None
        if isinstance(widget, QDateTimeEdit) and self.kind == "datetime":
            if widget.date() == EMPTY_DATE:
                return None
            moment = widget.dateTime().toPython()
            assert isinstance(moment, dt.datetime)
            return moment.astimezone(dt.UTC).isoformat()
        if isinstance(widget, QDateEdit):
            return (
                None
                if widget.date() == EMPTY_DATE
                else widget.date().toString(Qt.DateFormat.ISODate)
            )
        if isinstance(widget, QLineEdit):
            return widget.text() or None
        return None

    def show_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))


class FormView(QWidget):
    """Emits ``submitted(outcome, values, comment)`` when a button is pressed."""

    submitted = Signal(object, dict, str)

    def __init__(self, form: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = form
        self.editors: dict[str, FieldEditor] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if form.get("title"):
            title = QLabel(form["title"])
            title.setProperty("role", "heading")
            layout.addWidget(title)
        if form.get("instructions"):
            instructions = QLabel(form["instructions"])
            instructions.setWordWrap(True)
            instructions.setProperty("role", "muted")
            layout.addWidget(instructions)
        fields = QFormLayout()
        fields.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for spec in form.get("fields", []):
            editor = FieldEditor(spec)
            self.editors[editor.name] = editor
            label = spec.get("label") or spec["name"].replace("_", " ").capitalize()
            if spec.get("required"):
                label += " *"
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(2)
            column.addWidget(editor.widget)
            column.addWidget(editor.error)
            fields.addRow(label, box)
        layout.addLayout(fields)
        self.comment = QPlainTextEdit()
        self.comment.setPlaceholderText("Comment (optional)")
        self.comment.setFixedHeight(60)
        layout.addWidget(self.comment)
        self.general_error = QLabel()
        self.general_error.setProperty("role", "error")
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        layout.addWidget(self.general_error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.buttons: dict[str | None, QPushButton] = {}
        outcomes = form.get("outcomes") or []
        for outcome in outcomes or [{"name": None, "label": "Submit"}]:
            text = outcome.get("label") or str(outcome["name"]).replace("_", " ").capitalize()
            button = QPushButton(text)
            button.setObjectName(f"outcome_{outcome['name'] or 'submit'}")
            button.setProperty("role", "primary")
            button.clicked.connect(lambda _=False, name=outcome["name"]: self._submit(name))
            buttons.addWidget(button)
            self.buttons[outcome["name"]] = button
        layout.addLayout(buttons)
        layout.addStretch(1)

    def values(self) -> dict[str, Any]:
        return {name: editor.value() for name, editor in self.editors.items()}

    def _submit(self, outcome: str | None) -> None:
        self.clear_errors()
        self.submitted.emit(outcome, self.values(), self.comment.toPlainText().strip())

    def set_busy(self, busy: bool) -> None:
        for button in self.buttons.values():
            button.setEnabled(not busy)

    def clear_errors(self) -> None:
        for editor in self.editors.values():
            editor.show_error(None)
        self.general_error.hide()

    def show_errors(self, message: str, fields: Mapping[str, str]) -> None:
        """Put each field's problem next to it; anything else above the buttons."""
        general = []
        for name, problem in fields.items():
            editor = self.editors.get(name)
            if editor is not None:
                editor.show_error(problem)
            else:
                general.append(problem if name == "outcome" else f"{name}: {problem}")
        if general or not fields:
            self.general_error.setText("\n".join(general) or message)
            self.general_error.show()
