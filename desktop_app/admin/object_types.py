"""Object types: the kinds of record and their fields, defined in a form (what
``baton records define`` reads from a file), checked as typed by the records service."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.admin.common import Checker, Fields, label, refusal, split
from desktop_app.session import AppSession
from engine.services.dto import ObjectTypeInfo

TYPES = (
    "text",
    "long_text",
    "number",
    "currency",
    "date",
    "datetime",
    "checkbox",
    "picklist",
    "email",
)
NAME, LABEL, TYPE, REQUIRED, OPTIONS = range(5)
HEADERS = ("Name", "Label", "Type", "Required", "Choices (picklist, comma-separated)")


class FieldsTable(QTableWidget):
    """One row per field: its name, label, type, whether it is required, its choices."""

    edited = Signal()

    def __init__(self) -> None:
        super().__init__(0, len(HEADERS))
        self.setObjectName("typeFields")
        self.setHorizontalHeaderLabels(list(HEADERS))
        self.verticalHeader().hide()
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setMinimumHeight(160)

    def add_field(self, spec: dict[str, Any] | None = None) -> int:
        spec = spec or {}
        row = self.rowCount()
        self.insertRow(row)
        for column, key in ((NAME, "name"), (LABEL, "label"), (OPTIONS, "options")):
            line = QLineEdit()
            line.setObjectName(f"field_{row}_{key}")
            value = spec.get(key)
            line.setText(", ".join(value) if isinstance(value, list) else str(value or ""))
            line.textEdited.connect(lambda _: self.edited.emit())
            self.setCellWidget(row, column, line)
        # What the form does not show (a default, help, validation) is kept as it was.
        self.line(row, NAME).setProperty(
            "kept",
            {
                k: v
                for k, v in spec.items()
                if k not in ("name", "label", "type", "required", "options")
            },
        )
        kind = QComboBox()
        kind.setObjectName(f"field_{row}_type")
        kind.addItems(list(TYPES))
        kind.setCurrentText(str(spec.get("type") or "text"))
        kind.currentTextChanged.connect(lambda _: self.edited.emit())
        self.setCellWidget(row, TYPE, kind)
        required = QCheckBox("required")
        required.setObjectName(f"field_{row}_required")
        required.setChecked(bool(spec.get("required")))
        required.toggled.connect(lambda _: self.edited.emit())
        self.setCellWidget(row, REQUIRED, required)
        return row

    def line(self, row: int, column: int) -> QLineEdit:
        widget = self.cellWidget(row, column)
        assert isinstance(widget, QLineEdit)
        return widget

    def specs(self) -> list[dict[str, Any]]:
        """The fields as the records service takes them (rows left empty are skipped)."""
        specs = []
        for row in range(self.rowCount()):
            name = self.line(row, NAME).text().strip()
            title = self.line(row, LABEL).text().strip()
            choices = [c.strip() for c in self.line(row, OPTIONS).text().split(",") if c.strip()]
            kind = self.cellWidget(row, TYPE)
            required = self.cellWidget(row, REQUIRED)
            if not (name or title or choices):
                continue
            kept = self.line(row, NAME).property("kept")
            spec: dict[str, Any] = {
                **(dict(kept) if isinstance(kept, dict) else {}),
                "name": name,
                "type": kind.currentText() if isinstance(kind, QComboBox) else "text",
                "required": required.isChecked() if isinstance(required, QCheckBox) else False,
            }
            if title:
                spec["label"] = title
            if choices:
                spec["options"] = choices
            specs.append(spec)
        return specs


class TypeForm(QWidget):
    saved = Signal(str)

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.kind: ObjectTypeInfo | None = None
        self.taken: set[str] = set()  # the types there are: a new one needs its own name
        self.title = label("New object type", role="title", name="typeTitle")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields = Fields(form)
        self.name = QLineEdit()
        self.name.setObjectName("type_name")
        self.name.setPlaceholderText("e.g. supplier (what record triggers name)")
        self.fields.add("name", "Name", self.name)
        self.label_ = QLineEdit()
        self.label_.setObjectName("type_label")
        self.fields.add("label", "Label", self.label_)
        self.title_field = QLineEdit()
        self.title_field.setObjectName("type_title_field")
        self.title_field.setPlaceholderText("the field shown as each record's title")
        self.fields.add("title_field", "Title field", self.title_field)
        self.table = FieldsTable()
        self.add = QPushButton("Add field")
        self.add.setObjectName("addField")
        self.add.clicked.connect(lambda: self.table.add_field())
        self.remove = QPushButton("Remove field")
        self.remove.setObjectName("removeField")
        self.remove.clicked.connect(self._remove)
        self.field_problems = label(role="error", name="fieldProblems")
        self.field_problems.hide()
        self.problem = label(role="error", name="typeProblem")
        self.problem.hide()
        self.save = QPushButton("Save object type")
        self.save.setObjectName("saveType")
        self.save.setProperty("role", "primary")
        self.save.clicked.connect(self._save)
        editing = QHBoxLayout()
        editing.addWidget(self.add)
        editing.addWidget(self.remove)
        editing.addStretch(1)
        editing.addWidget(self.save)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(label("Fields", role="heading"))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.field_problems)
        layout.addWidget(self.problem)
        layout.addLayout(editing)
        self.checker = Checker(self._check, self._show_problems)
        for line in (self.name, self.label_, self.title_field):
            line.textEdited.connect(self.checker)
        self.table.edited.connect(self.checker)
        self.show_type(None)

    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name.text().strip(), "fields": self.table.specs()}
        if self.label_.text().strip():
            data["label"] = self.label_.text().strip()
        if self.title_field.text().strip():
            data["title_field"] = self.title_field.text().strip()
        return data

    def show_type(self, kind: ObjectTypeInfo | None) -> None:
        self.kind = kind
        self.problem.hide()
        self._show_problems({})
        self.name.setReadOnly(kind is not None)
        self.table.setRowCount(0)
        self.title.setText("New object type" if kind is None else kind.label)
        self.name.setText("" if kind is None else kind.name)
        self.label_.setText("" if kind is None else kind.label)
        self.title_field.setText("" if kind is None else kind.title_field or "")
        for spec in [] if kind is None else kind.fields:
            self.table.add_field(spec)
        if kind is None:
            self.table.add_field()

    def _check(self) -> dict[str, str]:
        return {**self.session.service.records.check_type(self.data()), **self._name_taken()}

    def _name_taken(self) -> dict[str, str]:
        name = self.name.text().strip()
        if self.kind is None and name in self.taken:
            return {
                "name": f"an object type named '{name}' exists; choose it in the list to change it"
            }
        return {}

    def _show_problems(self, problems: Any) -> None:
        """The type's own problems at their fields; each field's under the table, by row."""
        own = {k: v for k, v in problems.items() if not k.startswith("fields")}
        self.fields.show(own)
        rows = [f"{self._where(k)}: {v}" for k, v in problems.items() if k.startswith("fields")]
        self.field_problems.setText("\n".join(rows))
        self.field_problems.setVisible(bool(rows))

    @staticmethod
    def _where(place: str) -> str:
        parts = place.split(".")
        if len(parts) >= 2 and parts[1].isdigit():
            return f"field {int(parts[1]) + 1}" + (f", {parts[2]}" if len(parts) > 2 else "")
        return "fields"

    def _remove(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)
            self.checker()

    def _save(self) -> None:
        records, data = self.session.service.records, self.data()
        if self._name_taken():
            self._show_problems(self._name_taken())
            return
        self.save.setEnabled(False)
        self.problem.hide()

        def done(kind: ObjectTypeInfo) -> None:
            self.save.setEnabled(True)
            self.show_type(kind)
            self.saved.emit(kind.name)

        def refused(exc: BaseException) -> None:
            self.save.setEnabled(True)
            sentence, fields = refusal(exc)
            self._show_problems(fields)
            self.problem.setText(sentence)
            self.problem.show()

        tasks.run(lambda: records.define_type_from_data(data), done, refused)


class ObjectTypesSection(QWidget):
    title = "Object types"
    status = Signal(str)

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.kinds: list[ObjectTypeInfo] = []
        self.chosen: str | None = None
        self.latest = 0
        self.list = QListWidget()
        self.list.setObjectName("typeList")
        self.list.currentItemChanged.connect(self._chosen)
        self.new = QPushButton("New object type")
        self.new.setObjectName("newType")
        self.new.clicked.connect(self._new)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.new, 0, Qt.AlignmentFlag.AlignLeft)
        column.addWidget(self.list, 1)
        column.addWidget(
            label("Records of each type are created and deleted in the Records panel.", "muted")
        )
        self.form = TypeForm(session)
        self.form.saved.connect(self._saved)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split(left, self.form, (320, 840)))

    def reload(self) -> None:
        records = self.session.service.records
        self.latest += 1
        latest = self.latest
        tasks.run(records.types, lambda kinds: self._fill(latest, kinds))

    def clear(self) -> None:
        """Someone else signed in: nothing of the previous person's view stays."""
        self.latest += 1
        self.chosen = None
        self.kinds = []
        self.list.clear()
        self.form.show_type(None)

    def _fill(self, latest: int, kinds: list[ObjectTypeInfo]) -> None:
        if latest != self.latest:
            return
        self.kinds = kinds
        self.form.taken = {k.name for k in kinds}
        self.list.blockSignals(True)
        self.list.clear()
        for kind in kinds:
            item = QListWidgetItem(f"{kind.label} — {kind.name} · {len(kind.fields)} field(s)")
            item.setData(Qt.ItemDataRole.UserRole, kind.name)
            self.list.addItem(item)
            if kind.name == self.chosen:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)

    def _chosen(self, item: QListWidgetItem | None, _previous: Any) -> None:
        if item is None:
            return
        self.chosen = str(item.data(Qt.ItemDataRole.UserRole))
        self.form.show_type(next((k for k in self.kinds if k.name == self.chosen), None))

    def _new(self) -> None:
        self.chosen = None
        self.list.clearSelection()
        self.form.show_type(None)

    def _saved(self, name: str) -> None:
        self.chosen = name
        self.status.emit(f"Saved object type {name}")
        self.reload()
