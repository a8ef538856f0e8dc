"""A work item's form, built from its definition: typed widgets, required marks, and the
service's validation messages shown at the field they belong to.

It behaves like a form: Enter in a single-line field submits (Ctrl+Enter in a long text, where
Enter starts a new line); Tab moves to the next field, never typing a tab; a field's error goes
as soon as the field is changed (a required field's once it has a value); every input carries
an accessible name saying its label and whether it is required, for screen readers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QDate, QDateTime, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
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

from engine.errors import BatonError

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
        elif isinstance(widget, QDateTimeEdit) and self.kind == "datetime":
            moment = QDateTime.fromString(str(value), Qt.DateFormat.ISODate)
            if moment.isValid():
                widget.setDateTime(moment.toLocalTime())
        elif isinstance(widget, QDateEdit):
            day = QDate.fromString(str(value)[:10], Qt.DateFormat.ISODate)
            if day.isValid():
                widget.setDate(day)
        elif isinstance(widget, QLineEdit):
            widget.setText(str(value))

    def set_value(self, value: Any) -> None:
        """Put a value back (a draft): an empty one empties the field."""
        widget = self.widget
        if value is None or value == "":
            if isinstance(widget, QCheckBox):
                widget.setChecked(False)
            elif isinstance(widget, QComboBox):
                widget.setCurrentIndex(0)
            elif isinstance(widget, QPlainTextEdit | QLineEdit):
                widget.clear()
            elif isinstance(widget, QDateTimeEdit):  # QDateEdit included
                widget.setDate(EMPTY_DATE)
            return
        self._set(value)

    def changed_signal(self) -> Any:
        """The signal telling that the person changed this field."""
        widget = self.widget
        if isinstance(widget, QCheckBox):
            return widget.toggled
        if isinstance(widget, QComboBox):
            return widget.currentTextChanged
        if isinstance(widget, QPlainTextEdit):
            return widget.textChanged
        if isinstance(widget, QDateTimeEdit):
            return widget.dateTimeChanged
        assert isinstance(widget, QLineEdit)
        return widget.textChanged

    def name_for_readers(self, label: str) -> None:
        """The accessible name screen readers say for the input: its label, and 'required'."""
        required = ", required" if self.spec.get("required") else ""
        self.widget.setAccessibleName(f"{label}{required}")

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
        self.widget.setAccessibleDescription(message or "")

    def fixed(self) -> None:
        """The person changed the field: its error goes (a required one once it has a value)."""
        if not self.error.isVisible():
            return
        if self.spec.get("required") and self.value() in (None, "", False):
            return
        self.show_error(None)


class _SubmitKeys(QObject):
    """Ctrl+Enter in a long text submits the form (plain Enter is a new line there)."""

    def __init__(self, form: FormView) -> None:
        super().__init__(form)
        self.form = form

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.form.submit_default()
            return True
        return False


class FormView(QWidget):
    """Emits ``submitted(outcome, values, comment)`` when a button is pressed."""

    submitted = Signal(object, dict, str)
    edited = Signal()  # the person changed a field or the comment

    def __init__(self, form: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = form
        self.editors: dict[str, FieldEditor] = {}
        keys = _SubmitKeys(self)
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
            editor.name_for_readers(label)
            if spec.get("required"):
                label += " *"
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(2)
            column.addWidget(editor.widget)
            column.addWidget(editor.error)
            caption = QLabel(label)
            caption.setBuddy(editor.widget)
            if spec.get("required"):
                caption.setToolTip("Required")
            fields.addRow(caption, box)
            self._wire(editor, keys)
        layout.addLayout(fields)
        self.comment = QPlainTextEdit()
        self.comment.setObjectName("formComment")
        self.comment.setPlaceholderText("Comment (optional)")
        self.comment.setAccessibleName("Comment")
        self.comment.setFixedHeight(60)
        self.comment.setTabChangesFocus(True)
        self.comment.installEventFilter(keys)
        self.comment.textChanged.connect(self.edited)
        layout.addWidget(self.comment)
        self.general_error = QLabel()
        self.general_error.setProperty("role", "error")
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        layout.addWidget(self.general_error)
        # The buttons' own row: a pane may pin it below its scrolling content (ItemPane), so
        # Submit is always in sight, and never narrower than the buttons' text.
        self.action_bar = QWidget()
        self.action_bar.setObjectName("formActions")
        buttons = QHBoxLayout(self.action_bar)
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addStretch(1)
        self.buttons: dict[str | None, QPushButton] = {}
        outcomes = form.get("outcomes") or []
        for outcome in outcomes or [{"name": None, "label": "Submit"}]:
            text = outcome.get("label") or str(outcome["name"]).replace("_", " ").capitalize()
            button = QPushButton(text)
            button.setObjectName(f"outcome_{outcome['name'] or 'submit'}")
            button.setProperty("role", "primary")
            button.setMinimumWidth(button.sizeHint().width())  # never clipped to "Appr…"
            button.clicked.connect(lambda _=False, name=outcome["name"]: self._submit(name))
            buttons.addWidget(button)
            self.buttons[outcome["name"]] = button
        layout.addWidget(self.action_bar)
        layout.addStretch(1)

        self.started = self.draft()  # what an untouched form holds: nothing to keep as a draft

    def _wire(self, editor: FieldEditor, keys: _SubmitKeys) -> None:
        def changed(*_: Any) -> None:
            editor.fixed()
            self.edited.emit()

        editor.changed_signal().connect(changed)
        widget = editor.widget
        if isinstance(widget, QPlainTextEdit):
            widget.setTabChangesFocus(True)  # Tab goes to the next field, never into the text
            widget.installEventFilter(keys)
        elif isinstance(widget, QLineEdit):
            widget.returnPressed.connect(self.submit_default)

    def values(self) -> dict[str, Any]:
        return {name: editor.value() for name, editor in self.editors.items()}

    def draft(self) -> dict[str, Any]:
        """What the person has typed so far, as a draft to keep."""
        return {"values": self.values(), "comment": self.comment.toPlainText()}

    @property
    def touched(self) -> bool:
        """Whether the form holds anything beyond what it started with."""
        return self.draft() != self.started

    def restore(self, draft: dict[str, Any]) -> None:
        """Put a kept draft back into the form (fields it no longer has are ignored)."""
        values = draft.get("values") or {}
        for name, editor in self.editors.items():
            if name in values:
                editor.set_value(values[name])
        self.comment.setPlainText(str(draft.get("comment") or ""))

    def submit_default(self) -> None:
        """Enter (Ctrl+Enter in a long text): the only button, or — with several outcomes —
        a submission without one, which is refused with 'choose an outcome' at the buttons."""
        if not all(button.isEnabled() for button in self.buttons.values()):
            return  # a submission is on its way already
        only = next(iter(self.buttons)) if len(self.buttons) == 1 else None
        self._submit(only)

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

    def _outcome_problem(self, problem: str) -> str:
        """'choose one of: approve, reject' in the buttons' own words, when no button was
        pressed (Enter in a form with several outcomes)."""
        if problem.startswith("choose one of") and len(self.buttons) > 1:
            labels = [button.text() for button in self.buttons.values()]
            return f"Choose {', '.join(labels[:-1])} or {labels[-1]}."
        return problem

    def show_errors(self, message: str, fields: Mapping[str, str]) -> None:
        """Put each field's problem next to it; anything else above the buttons."""
        general = []
        for name, problem in fields.items():
            editor = self.editors.get(name)
            if editor is not None:
                editor.show_error(problem)
            else:
                general.append(
                    self._outcome_problem(problem) if name == "outcome" else f"{name}: {problem}"
                )
        if general or not fields:
            self.general_error.setText("\n".join(general) or message)
            self.general_error.show()


def show_refusal(editors: Mapping[str, FieldEditor], label: QLabel, exc: BatonError) -> None:
    """A refusal shown where it belongs: each field's problem at its editor, the rest (the
    message, problems of fields not on screen, problems of no field) in ``label``."""
    lines = [exc.message]
    for name, problem in exc.fields.items():
        editor = editors.get(name)
        if editor is not None:
            editor.show_error(problem)
        else:
            lines.append(f"{name}: {problem}")
    by_field = {f"{name}: {problem}" for name, problem in exc.fields.items()}
    lines += [d for d in exc.details if d not in by_field]
    label.setText("\n".join(lines))
    label.show()
