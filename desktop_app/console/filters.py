"""The filter bars above the Runs and Work Items lists, and each person's saved views."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from desktop_app import tasks
from desktop_app.flow_layout import FlowLayout, labelled
from desktop_app.messages import show_error
from desktop_app.session import AppSession
from engine.services.queries import SLA_STATES, RunFilter, WorkFilter
from engine.statuses import RunStatus, WorkStatus

ANY = "Any"
SEARCH_IN = {  # where the runs' search looks, and the hint its field shows
    "Variable": "name = value, or a value",
    "Record field": "field = value, or a value",
    "Error": "words of the error",
}
NO_DATE = QDate(2000, 1, 1)


class Catalog:
    """Names the filters offer: orchestrations with their stages and steps, and people."""

    def __init__(self) -> None:
        self.stages: dict[str, list[str]] = {}
        self.steps: dict[str, list[str]] = {}
        self.versions: dict[str, list[int]] = {}  # activated ones: runs may move to them
        self.assignees: list[str] = []

    @staticmethod
    def load(session: AppSession) -> Catalog:
        baton = session.service
        catalog = Catalog()
        for info in baton.definitions.list():
            if info.active_version is None and not info.versions:
                continue
            _, definition = baton.definitions.get(info.name)
            catalog.stages[info.name] = [s.name for s in definition.stages()]
            catalog.steps[info.name] = sorted(
                {step.name for s in definition.stages() for step in s.steps}
            )
            catalog.versions[info.name] = [v.number for v in info.versions if v.status != "draft"]
        directory = baton.directory
        people = [u.username for u in directory.users() if u.active]
        pools = [g.name for kind in ("queue", "group") for g in directory.groups(kind)]
        catalog.assignees = sorted(people) + sorted(pools)
        return catalog


def _combo(name: str, items: list[str], *, editable: bool = False) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    box.addItem(ANY)
    box.addItems(items)
    box.setEditable(editable)
    box.setMinimumContentsLength(10)
    return box


def _date(name: str) -> QDateEdit:
    edit = QDateEdit()
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setMinimumDate(NO_DATE)
    edit.setSpecialValueText("any")
    edit.setDate(NO_DATE)
    edit.setDisplayFormat("yyyy-MM-dd")
    return edit


def _chosen(box: QComboBox) -> str | None:
    text = box.currentText().strip()
    return None if not text or text == ANY else text


def _day(edit: QDateEdit, *, end: bool = False) -> dt.datetime | None:
    date = edit.date()
    if date == NO_DATE:
        return None
    day = dt.datetime(date.year(), date.month(), date.day(), tzinfo=dt.UTC)
    return day + dt.timedelta(days=1) if end else day


def _set_day(edit: QDateEdit, value: dt.datetime | None, *, end: bool = False) -> None:
    if value is None:
        edit.setDate(NO_DATE)
        return
    if end:
        value -= dt.timedelta(days=1)
    edit.setDate(QDate(value.year, value.month, value.day))


def _select(box: QComboBox, value: Any) -> None:
    text = ANY if value in (None, "", ()) else str(value)
    if box.findText(text) < 0:
        box.addItem(text)
    box.setCurrentText(text)


class FilterBar(QWidget):
    """Widgets that make a filter; ``changed`` fires when any of them changes."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.row = FlowLayout(self)  # wraps on a narrow window
        self.catalog = Catalog()
        self._quiet = False
        # Every bar filters by these; each bar places them among its own.
        self.orchestration = _combo("filterOrchestration", [])
        self.assignee = _combo("filterAssignee", [], editable=True)
        self.record = QLineEdit()
        self.record.setObjectName("filterRecord")
        self.record.setPlaceholderText("record #")
        self.record.setMaximumWidth(80)
        self.orchestration.currentTextChanged.connect(lambda _: self._names())

    def _add(self, label: str, widget: QWidget) -> None:
        self.row.addWidget(labelled(label, widget))
        if isinstance(widget, QComboBox) and widget.isEditable():  # typed: when typing ends
            widget.activated.connect(self._changed)
            line = widget.lineEdit()
            if line is not None:
                line.editingFinished.connect(self._changed)
        elif isinstance(widget, QComboBox):
            widget.currentTextChanged.connect(self._changed)
        elif isinstance(widget, QDateEdit):
            widget.dateChanged.connect(self._changed)
        elif isinstance(widget, QSpinBox):
            widget.valueChanged.connect(self._changed)
        elif isinstance(widget, QLineEdit):
            widget.editingFinished.connect(self._changed)

    def _changed(self, *_: Any) -> None:
        if not self._quiet:
            self.changed.emit()

    def set_catalog(self, catalog: Catalog) -> None:
        """Offer the catalog's orchestrations and assignees, keeping what is chosen."""
        self.catalog = catalog
        self._quiet = True
        for box, names in (
            (self.orchestration, list(catalog.stages)),
            (self.assignee, catalog.assignees),
        ):
            current = box.currentText()
            box.clear()
            box.addItems([ANY, *names])
            box.setCurrentText(current or ANY)
        self._quiet = False
        self._names()

    def _names(self) -> None:
        """Offer the chosen orchestration's names (stages, steps) in the boxes that list them."""
        quiet, self._quiet = self._quiet, True
        chosen = self.orchestration.currentText()
        for box, source in self._named_boxes():
            current = box.currentText()
            names = source.get(chosen) or sorted({n for ns in source.values() for n in ns})
            box.clear()
            box.addItems([ANY, *names])
            box.setCurrentText(current or ANY)
        self._quiet = quiet

    def _named_boxes(self) -> list[tuple[QComboBox, dict[str, list[str]]]]:
        return []

    def _record_id(self) -> int | None:
        record = self.record.text().strip().lstrip("#")
        return int(record) if record.isdigit() else None

    def _show_record(self, record_id: int | None) -> None:
        self.record.setText(str(record_id) if record_id is not None else "")


class RunFilterBar(FilterBar):
    def __init__(self) -> None:
        super().__init__()
        self.version = QSpinBox()
        self.version.setObjectName("filterVersion")
        self.version.setSpecialValueText(ANY)
        self.version.setRange(0, 9999)
        self.status = _combo("filterStatus", list(RunStatus.ALL))
        self.stage = _combo("filterStage", [], editable=True)
        self.started_from = _date("filterStartedFrom")
        self.started_to = _date("filterStartedTo")
        self._add("Orchestration", self.orchestration)
        self._add("v", self.version)
        self._add("Status", self.status)
        self._add("Stage", self.stage)
        self._add("Started", self.started_from)
        self._add("to", self.started_to)
        self._add("Record", self.record)
        self._add("Assignee", self.assignee)
        # Search by what is in the runs: a variable's value, a record field's, the error.
        self.search_in = QComboBox()
        self.search_in.setObjectName("filterSearchIn")
        self.search_in.addItems(list(SEARCH_IN))
        self.search = QLineEdit()
        self.search.setObjectName("filterSearch")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(190)
        self._hint()
        pair = QWidget()
        both = QHBoxLayout(pair)
        both.setContentsMargins(0, 0, 0, 0)
        both.setSpacing(2)
        both.addWidget(self.search_in)
        both.addWidget(self.search)
        self.row.addWidget(labelled("Search", pair))
        self.search.editingFinished.connect(self._changed)
        self.search_in.currentTextChanged.connect(self._search_in_changed)

    def _hint(self) -> None:
        self.search.setPlaceholderText(SEARCH_IN[self.search_in.currentText()])

    def _search_in_changed(self, _: str) -> None:
        self._hint()
        if self.search.text().strip():
            self._changed()

    def _search(self) -> dict[str, Any]:
        """The search field as filter values; a ValueError says what is wrong with it."""
        text = self.search.text().strip()
        if not text:
            return {}
        where = self.search_in.currentText()
        if where == "Error":
            return {"error_text": text}
        name, equals, value = text.partition("=")
        if not equals:
            name, value = "", text
        name, value = name.strip(), value.strip()
        if not value:
            raise ValueError(f"Search: say which value of '{name}' to look for ({name} = …)")
        if where == "Variable":
            return {"variable": name or None, "variable_value": value}
        return {"record_field": name or None, "record_value": value}

    def _show_search(self, f: RunFilter) -> None:
        for where, name, value in (
            ("Error", None, f.error_text),
            ("Variable", f.variable, f.variable_value),
            ("Record field", f.record_field, f.record_value),
        ):
            if value:
                self.search_in.setCurrentText(where)
                self.search.setText(f"{name} = {value}" if name else value)
                return
        self.search.setText("")

    def _named_boxes(self) -> list[tuple[QComboBox, dict[str, list[str]]]]:
        return [(self.stage, self.catalog.stages)]

    def value(self, sort: str = "started", descending: bool = True) -> RunFilter:
        status = _chosen(self.status)
        return RunFilter(
            orchestration=_chosen(self.orchestration),
            version=self.version.value() or None,
            statuses=(status,) if status else (),
            stage=_chosen(self.stage),
            started_from=_day(self.started_from),
            started_to=_day(self.started_to, end=True),
            record_id=self._record_id(),
            assignee=_chosen(self.assignee),
            sort=sort,
            descending=descending,
            **self._search(),
        )

    def show_filter(self, f: RunFilter) -> None:
        self._quiet = True
        _select(self.orchestration, f.orchestration)
        self._names()
        self.version.setValue(f.version or 0)
        _select(self.status, f.statuses[0] if f.statuses else None)
        _select(self.stage, f.stage)
        _set_day(self.started_from, f.started_from)
        _set_day(self.started_to, f.started_to, end=True)
        self._show_record(f.record_id)
        _select(self.assignee, f.assignee)
        self._show_search(f)
        self._quiet = False
        self.changed.emit()


class WorkFilterBar(FilterBar):
    STATUS_CHOICES = {"Open": WorkStatus.OPEN, "Any": ()}

    def __init__(self) -> None:
        super().__init__()
        self.stage = _combo("filterStage", [], editable=True)
        self.step = _combo("filterStep", [], editable=True)
        self.status = QComboBox()
        self.status.setObjectName("filterStatus")
        self.status.addItems(["Open", *WorkStatus.OPEN, "Completed", "Canceled", "Any"])
        self.sla = _combo("filterSla", list(SLA_STATES))
        self.created_from = _date("filterCreatedFrom")
        self.created_to = _date("filterCreatedTo")
        self._add("Orchestration", self.orchestration)
        self._add("Stage", self.stage)
        self._add("Step", self.step)
        self._add("Status", self.status)
        self._add("SLA", self.sla)
        self._add("Assigned to", self.assignee)
        self._add("Record", self.record)
        self._add("Created", self.created_from)
        self._add("to", self.created_to)

    def _named_boxes(self) -> list[tuple[QComboBox, dict[str, list[str]]]]:
        return [(self.stage, self.catalog.stages), (self.step, self.catalog.steps)]

    def value(self, sort: str = "due", descending: bool = False) -> WorkFilter:
        text = self.status.currentText()
        statuses = self.STATUS_CHOICES.get(text, (text,))
        return WorkFilter(
            orchestration=_chosen(self.orchestration),
            stage=_chosen(self.stage),
            step=_chosen(self.step),
            statuses=tuple(statuses),
            sla=_chosen(self.sla),
            assignee=_chosen(self.assignee),
            record_id=self._record_id(),
            created_from=_day(self.created_from),
            created_to=_day(self.created_to, end=True),
            sort=sort,
            descending=descending,
        )

    def show_filter(self, f: WorkFilter) -> None:
        self._quiet = True
        _select(self.orchestration, f.orchestration)
        self._names()
        _select(self.stage, f.stage)
        _select(self.step, f.step)
        statuses = tuple(f.statuses)
        text = next((k for k, v in self.STATUS_CHOICES.items() if v == statuses), None)
        self.status.setCurrentText(text or (statuses[0] if statuses else "Any"))
        _select(self.sla, f.sla)
        _select(self.assignee, f.assignee)
        self._show_record(f.record_id)
        _set_day(self.created_from, f.created_from)
        _set_day(self.created_to, f.created_to, end=True)
        self._quiet = False
        self.changed.emit()


class SavedViews(QWidget):
    """The signed-in person's saved views of one list: choose, save the current, delete."""

    chosen = Signal(object)  # the saved filter's JSON

    def __init__(self, session: AppSession, kind: str, current: Any) -> None:
        super().__init__()
        self.session, self.kind, self.current = session, kind, current
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.box = QComboBox()
        self.box.setObjectName("savedViews")
        self.box.setMinimumContentsLength(16)
        self.save = QPushButton("Save view…")
        self.save.setObjectName("saveView")
        self.delete = QPushButton("Delete view")
        self.delete.setObjectName("deleteView")
        row.addWidget(QLabel("View"))
        row.addWidget(self.box)
        row.addWidget(self.save)
        row.addWidget(self.delete)
        self.views: dict[str, dict[str, Any]] = {}
        self.box.activated.connect(self._choose)
        self.save.clicked.connect(self._save)
        self.delete.clicked.connect(self._delete)
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        if not self.session.is_staff:  # views belong to the console: nothing to offer
            self._show([], None)
            return
        console = self.session.service.console
        tasks.run(lambda: console.views(self.kind), lambda views: self._show(views, select))

    def _show(self, views: list[Any], select: str | None) -> None:
        self.views = {v.name: v.query for v in views}
        self.box.clear()
        self.box.addItem("(current filter)")
        self.box.addItems(list(self.views))
        if select:
            self.box.setCurrentText(select)

    def _choose(self, index: int) -> None:
        name = self.box.itemText(index)
        if name in self.views:
            self.chosen.emit(self.views[name])

    def _save(self) -> None:
        name, ok = QInputDialog.getText(self, "Save view", "Name of this view:")
        if not ok or not name.strip():
            return
        where = self.current()
        console = self.session.service.console
        tasks.run(
            lambda: console.save_view(self.kind, name, where),
            lambda view: self.refresh(view.name),
            lambda exc: show_error(self, exc),
        )

    def _delete(self) -> None:
        name = self.box.currentText()
        if name not in self.views:
            return
        console = self.session.service.console
        tasks.run(
            lambda: console.delete_view(self.kind, name),
            lambda _: self.refresh(),
            lambda exc: show_error(self, exc),
        )
