"""Records: object types, their records, a record's page — and its Work Guide, the signed-in
person's open work for that record, done right there."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.messages import describe
from desktop_app.panels.form import FieldEditor
from desktop_app.panels.item_pane import ItemPane
from desktop_app.panels.record_actions import DeleteRecordDialog, NewRecordDialog
from desktop_app.session import AppSession
from desktop_app.start_run import StartRunDialog
from engine.errors import InvalidInput
from engine.services.dto import ObjectTypeInfo, RecordInfo, RunSummary

Index = QModelIndex | QPersistentModelIndex


class RecordsModel(QAbstractTableModel):
    COLUMNS = ("Record", "Owner", "Updated")

    def __init__(self) -> None:
        super().__init__()
        self.records: list[RecordInfo] = []

    def set_records(self, records: list[RecordInfo]) -> None:
        self.beginResetModel()
        self.records = records
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        record = self.records[index.row()]
        return (record.title, record.owner or "", f"{record.updated_at.astimezone():%d %b %H:%M}")[
            index.column()
        ]


class RecordPage(QWidget):
    """One record: its fields (editable), and the Work Guide."""

    saved = Signal(str)

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.record: RecordInfo | None = None
        self.kind: ObjectTypeInfo | None = None
        self.editors: dict[str, FieldEditor] = {}
        self.guides = tasks.Latest()  # loads may finish out of order: only the latest counts
        # Saving the record and doing its work here reload this page when done; the notices
        # of those changes are their echo (``_changed``).
        self.origin = tasks.new_origin("record")
        layout = QVBoxLayout(self)
        self.title = QLabel("Choose a record")
        self.title.setProperty("role", "title")
        layout.addWidget(self.title)
        self.fields_box = QWidget()
        self.fields = QFormLayout(self.fields_box)
        layout.addWidget(self.fields_box)
        self.problem = QLabel()
        self.problem.setProperty("role", "error")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addWidget(self.problem)
        row = QHBoxLayout()
        row.addStretch(1)
        self.save = QPushButton("Save")
        self.save.setObjectName("saveRecord")
        self.save.setProperty("role", "primary")
        self.save.setEnabled(False)
        self.save.clicked.connect(self._save)
        self.start = QPushButton("Start a run…")
        self.start.setObjectName("startRunOnRecord")
        self.start.setToolTip("Start an orchestration about this record")
        self.start.setEnabled(False)
        self.start.clicked.connect(self.start_run)
        row.addWidget(self.start)
        row.addWidget(self.save)
        layout.addLayout(row)
        guide = QLabel("Work Guide — your open work for this record")
        guide.setProperty("role", "heading")
        layout.addWidget(guide)
        self.guide = QListWidget()
        self.guide.setObjectName("workGuide")
        self.guide.setMaximumHeight(110)
        self.guide.currentItemChanged.connect(self._open_work)
        layout.addWidget(self.guide)
        self.item_pane = ItemPane(
            session,
            hint="Choose work from the Work Guide to do it here.",
            show_record=False,
            origin=self.origin,
        )
        self.item_pane.done.connect(self._work_done)
        self.item_pane.status.connect(self.saved)  # e.g. a draft dropped: the status bar
        layout.addWidget(self.item_pane, 1)
        session.changed.connect(self._changed)
        session.user_changed.connect(lambda _: self._user_changed())

    def _user_changed(self) -> None:
        """The previous person's open work goes; the guide lists the new person's."""
        self.guide.clear()
        self.item_pane.show_item(None)
        self.reload_guide()

    def show_record(self, kind: ObjectTypeInfo, record: RecordInfo) -> None:
        self.kind, self.record = kind, record
        self.title.setText(f"{kind.label}: {record.title}")
        while self.fields.rowCount():
            self.fields.removeRow(0)
        self.editors = {}
        for spec in kind.fields:
            editor = FieldEditor({**spec, "default": record.data.get(spec["name"])})
            self.editors[spec["name"]] = editor
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(editor.widget)
            column.addWidget(editor.error)
            self.fields.addRow(
                spec.get("label") or spec["name"].replace("_", " ").capitalize(), box
            )
        self.problem.hide()
        self.save.setEnabled(True)
        self.start.setEnabled(True)
        self.reload_guide()

    def start_run(self) -> StartRunDialog | None:
        """The orchestrations that may start on this record; the run opens (for staff) in its
        detail window, else the status bar names it."""
        if self.record is None or self.kind is None:
            return None
        dialog = StartRunDialog(
            self.session, self, record_id=self.record.id, object_type=self.kind.name
        )
        dialog.started.connect(self._started)
        dialog.open()
        return dialog

    def _started(self, run: RunSummary) -> None:
        self.saved.emit(f"Started run {run.id} of {run.orchestration}")
        if self.session.is_staff:
            from desktop_app.console.run_detail import RunDetailWindow

            RunDetailWindow(self.session, run.id, self).show()
        self.reload_guide()

    def reload_guide(self) -> None:
        if self.record is None:
            return
        record_id, me, service = self.record.id, self.session.username, self.session.service
        self.guides.run(lambda: service.work.list(user=me, record_id=record_id), self._fill_guide)

    def _fill_guide(self, items: list[Any]) -> None:
        # A refresh (another change somewhere) keeps the item the person has open.
        current = self.guide.currentItem()
        chosen = current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        self.guide.blockSignals(True)
        self.guide.clear()
        for item in items:
            entry = QListWidgetItem(
                f"{item.title} — {item.orchestration.replace('_', ' ').title()}"
            )
            entry.setData(Qt.ItemDataRole.UserRole, item.id)
            self.guide.addItem(entry)
            if item.id == chosen:
                self.guide.setCurrentItem(entry)
        self.guide.blockSignals(False)
        if chosen is not None and all(item.id != chosen for item in items):
            self.item_pane.show_item(None)  # it was done or went elsewhere
        if not items:
            self.guide.addItem("Nothing for you to do on this record.")
            self.item_pane.show_item(None)

    def _open_work(self, current: QListWidgetItem | None, _previous: Any) -> None:
        item_id = current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        self.item_pane.show_item(item_id)

    def _work_done(self, message: str) -> None:
        self.saved.emit(message)
        self.reload_guide()

    def _changed(self, change: frozenset[str]) -> None:
        if "work" in change and not tasks.echo(change, self.origin):
            self.reload_guide()

    def _save(self) -> None:
        if self.record is None or self.kind is None:
            return
        values = {name: editor.value() for name, editor in self.editors.items()}
        record_id, version, service = self.record.id, self.record.row_version, self.session.service
        for editor in self.editors.values():
            editor.show_error(None)
        self.problem.hide()
        self.save.setEnabled(False)
        tasks.run(
            lambda: service.records.update(record_id, values, expected_version=version),
            self._saved,
            self._refused,
            origin=self.origin,
        )

    def _saved(self, record: RecordInfo) -> None:
        assert self.kind is not None
        self.show_record(self.kind, record)
        self.saved.emit(f"Saved {record.title}")

    def _refused(self, exc: BaseException) -> None:
        self.save.setEnabled(True)
        if isinstance(exc, InvalidInput):
            for name, problem in exc.fields.items():
                if name in self.editors:
                    self.editors[name].show_error(problem)
        self.problem.setText(describe(exc))
        self.problem.show()


class RecordsPanel(QWidget):
    title = "Records"
    status = Signal(str)

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.kinds: list[ObjectTypeInfo] = []
        self.lists = tasks.Latest()  # the latest choice of type wins over slower, earlier loads
        self.types = QComboBox()
        self.types.setObjectName("objectTypes")
        self.types.currentIndexChanged.connect(self._type_chosen)
        self.model = RecordsModel()
        self.table = QTableView()
        self.table.setObjectName("recordsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().currentRowChanged.connect(self._record_chosen)
        left = QWidget()
        column = QVBoxLayout(left)
        column.addWidget(self.types)
        column.addWidget(self.table)
        column.addLayout(self._record_buttons())
        self.page = RecordPage(session)
        self.page.saved.connect(self.status.emit)
        self.page.saved.connect(lambda _: self._type_chosen(self.types.currentIndex()))
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.page)
        splitter.setSizes([420, 780])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        session.user_changed.connect(lambda _: self._load_types())
        self._load_types()

    def _record_buttons(self) -> QHBoxLayout:
        """New record… and Delete… (staff only: deleting may cancel runs) under the list."""
        self.new_record = QPushButton("New record…")
        self.new_record.setObjectName("newRecord")
        self.new_record.clicked.connect(self._new_record)
        self.delete_record = QPushButton("Delete…")
        self.delete_record.setObjectName("deleteRecord")
        self.delete_record.clicked.connect(self._delete_record)
        self.record_dialog: QDialog | None = None
        row = QHBoxLayout()
        row.addWidget(self.new_record)
        row.addWidget(self.delete_record)
        row.addStretch(1)
        self.delete_record.setVisible(self.session.is_staff)
        self.session.user_changed.connect(
            lambda _: self.delete_record.setVisible(self.session.is_staff)
        )
        return row

    def _new_record(self) -> None:
        if 0 <= self.types.currentIndex() < len(self.kinds):
            dialog = NewRecordDialog(self.session, self.kinds[self.types.currentIndex()], self)
            dialog.created.connect(lambda r: self.status.emit(f"Created {r.title}"))
            dialog.created.connect(lambda _: self._type_chosen(self.types.currentIndex()))
            self.record_dialog = dialog
            dialog.open()

    def _delete_record(self) -> None:
        row = self.table.currentIndex().row()
        if 0 <= row < len(self.model.records):
            dialog = DeleteRecordDialog(self.session, self.model.records[row], self)
            dialog.deleted.connect(self.status.emit)
            dialog.deleted.connect(lambda _: self._forget_record())
            self.record_dialog = dialog
            dialog.open()

    def _forget_record(self) -> None:
        """The record shown was deleted: its page empties, and the list is read again."""
        page = self.page
        page.record = None
        page.title.setText("Choose a record")
        while page.fields.rowCount():
            page.fields.removeRow(0)
        page.editors = {}
        page.save.setEnabled(False)
        page.guide.clear()
        page.item_pane.show_item(None)
        self._type_chosen(self.types.currentIndex())

    def refresh(self) -> None:
        """F5: the kinds of record, the records and the open record's Work Guide again."""
        self._load_types()
        self.page.reload_guide()

    def _load_types(self) -> None:
        tasks.run(self.session.service.records.types, self._types)

    def _types(self, kinds: list[ObjectTypeInfo]) -> None:
        chosen = self.types.currentText()
        self.kinds = kinds
        self.types.blockSignals(True)
        self.types.clear()
        self.types.addItems([k.label for k in kinds])
        self.types.setCurrentIndex(max(self.types.findText(chosen), 0))
        self.types.blockSignals(False)
        self._type_chosen(self.types.currentIndex())

    def _type_chosen(self, index: int) -> None:
        if not 0 <= index < len(self.kinds):
            return
        name, service = self.kinds[index].name, self.session.service
        self.lists.run(lambda: service.records.list(name), self.model.set_records)

    def _record_chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and 0 <= self.types.currentIndex() < len(self.kinds):
            self.page.show_record(
                self.kinds[self.types.currentIndex()], self.model.records[current.row()]
            )
