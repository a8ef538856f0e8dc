"""Runs: every run by filter, paged from SQL, with bulk interventions; and Needs attention."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.console.attention import AttentionView
from desktop_app.console.export import (
    PAGE,
    RUN_COLUMNS,
    CsvColumn,
    ExportJob,
    Pages,
    export_rows,
)
from desktop_app.console.filters import Catalog, RunFilterBar, SavedViews
from desktop_app.console.interventions import OPERATIONS, OutcomesDialog, intervene
from desktop_app.console.paged_model import ROW_ROLE, Column, PagedModel, pager
from desktop_app.console.run_detail import REFRESH_MS, RunDetailWindow, took, when
from desktop_app.flow_layout import FlowLayout
from desktop_app.messages import describe
from desktop_app.session import AppSession
from desktop_app.start_run import StartRunDialog
from engine.services.dto import RunOutcome, RunSummary
from engine.services.queries import RunFilter

STATUS_COLOURS = {"Error": "#b42318", "Suspended": "#b54708", "Canceled": "#667085"}
COLUMNS = (
    Column("Run", lambda r: str(r.id), sort="id"),
    Column("Orchestration", lambda r: r.orchestration),
    Column("v", lambda r: str(r.version)),
    Column("Status", lambda r: r.status, colour=lambda r: STATUS_COLOURS.get(r.status)),
    Column("Stage", lambda r: r.current_element or ""),
    Column("Record", lambda r: r.record_title or (f"#{r.record_id}" if r.record_id else "")),
    Column("Started", lambda r: when(r.started_at), sort="started"),
    Column("Took", lambda r: took(r.started_at, r.ended_at)),
    Column("Started by", lambda r: r.started_by or ""),
    Column("Error", lambda r: r.error or "", tip=lambda r: r.error),
)
WIDTHS = {
    "Run": 80,
    "Orchestration": 160,
    "v": 36,
    "Status": 90,
    "Stage": 100,
    "Record": 130,
    "Started": 150,
    "Took": 110,
    "Started by": 90,
    "#": 70,
    "Item": 170,
    "Step": 130,
    "Assigned to": 170,
    "Created": 140,
    "Due": 140,
    "Age": 60,
    "SLA": 90,
}


def table_view(name: str) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(24)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.setWordWrap(False)
    return view


class ConsoleList(QWidget):
    """A filter bar, saved views, a paged table and a count: shared by Runs and Work Items."""

    status = Signal(str)
    filter_type: Any  # RunFilter or WorkFilter: what a saved view holds

    def __init__(
        self,
        session: AppSession,
        kind: str,
        bar: Any,
        columns: Sequence[Column],
        default_sort: tuple[str, bool],
    ) -> None:
        super().__init__()
        self.session, self.kind, self.bar = session, kind, bar
        self.pinned: dict[str, Any] = {}
        self.sort, self.descending = default_sort
        self.model = PagedModel(columns, lambda: 0, lambda page: [])
        self.view = table_view(f"{kind}Table")
        self.view.setModel(self.model)
        self.view.horizontalHeader().sectionClicked.connect(self._sort_by)
        self.views = SavedViews(session, kind, lambda: self.filter())
        self.views.chosen.connect(self._apply_saved)
        self.count = QLabel("")
        self.count.setObjectName(f"{kind}Count")
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b42318")
        self.error.setWordWrap(True)
        self.action_row = FlowLayout()  # saved views and the buttons, wrapping when narrow
        self.action_row.addWidget(self.views)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setObjectName(f"{kind}Export")
        self.export_button.setToolTip("Every row of the current filter, to a CSV file")
        self.export_button.clicked.connect(lambda: self.export())
        self.action_row.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(bar)
        layout.addLayout(self.action_row)
        layout.addWidget(self.error)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count)
        self.model.counted.connect(self._counted)
        # A method, not a lambda: Qt drops the connection when this list is deleted, so a
        # late refusal never reaches a label that is gone.
        self.model.failed.connect(self._failed)
        bar.changed.connect(self.apply)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._counted())
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(REFRESH_MS)
        self._pending.timeout.connect(lambda: self.model.reload())
        session.changed.connect(self._announced)
        session.user_changed.connect(lambda _: self._user_changed())
        self.windows: list[RunDetailWindow] = []
        tasks.run(lambda: Catalog.load(session), bar.set_catalog)

    def _user_changed(self) -> None:
        """Nothing of the previous person stays: their saved views and rows (their run
        windows close themselves)."""
        self.views.refresh()
        self.apply()  # as the new person: their rows, or the service's refusal

    def filter(self) -> Any:
        """The bar's filter, with what the list is pinned to (a dashboard's bar: ``pin``)."""
        where = self.bar.value(self.sort, self.descending)
        return dataclasses.replace(where, **self.pinned) if self.pinned else where

    def pin(self, **values: Any) -> None:
        """Conditions the filter bar does not show, kept under whatever it is set to."""
        self.pinned = values
        self.apply()

    def _failed(self, exc: BaseException) -> None:
        self.error.setText(describe(exc))

    def refresh(self) -> None:
        """F5: count again and re-read the rows on screen."""
        self.model.reload()

    def apply(self) -> None:
        try:
            where = self.filter()
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        self.error.setText("")
        count, fetch, cursor = self.source(where)
        self.model.configure(count, fetch, cursor)
        self._mark_sort()
        for section, column in enumerate(self.model.columns):
            self.view.setColumnWidth(section, WIDTHS.get(column.title, column.width))

    def source(self, where: Any) -> tuple[Any, Any, Any]:
        raise NotImplementedError

    def export_source(self, where: Any) -> tuple[str, Pages, Sequence[CsvColumn]]:
        """What an export writes: its noun, the pages of rows, the CSV's columns."""
        raise NotImplementedError

    def export(self) -> ExportJob | None:
        """Every row of the current filter to a CSV file, in the background."""
        try:
            where = self.filter()
        except ValueError as exc:
            self.error.setText(str(exc))
            return None
        noun, pages, columns = self.export_source(where)
        return export_rows(self, noun, pages, columns, self.model.total, self.status.emit)

    def _sort_by(self, section: int) -> None:
        key = self.model.columns[section].sort
        if key is None:
            self.status.emit("This list sorts by the columns marked ▲▼ (those SQL can page fast)")
            return
        if key == self.sort:
            self.descending = not self.descending
        else:
            self.sort, self.descending = key, key != "due"
        self.apply()

    def _mark_sort(self) -> None:
        self.model.sorted_by = (self.sort, self.descending)
        self.model.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.model.columns) - 1)

    def _apply_saved(self, query: dict[str, Any]) -> None:
        self.show_filtered(self.filter_type.from_json(query))

    def show_filtered(self, where: Any) -> None:
        """List what ``where`` (a RunFilter or WorkFilter) selects, as if typed in the bar."""
        self.sort, self.descending = where.sort, where.descending
        self.bar.show_filter(where)

    def _announced(self, kinds: frozenset[str]) -> None:
        if kinds & {"runs", "work"} and not self._pending.isActive():
            self._pending.start()

    def _counted(self, *_: Any) -> None:
        selected = len(self.selected_rows())
        noun = "run" if self.kind == "runs" else "work item"
        total = self.model.total
        text = f"{total:,} {noun}{'s' if total != 1 else ''}"
        if selected:
            text += f" · {selected} selected"
        self.count.setText(text)

    def open_run(self, run_id: int) -> RunDetailWindow:
        """A run's detail in its own window; an intervention made there refreshes the list."""
        window = RunDetailWindow(self.session, run_id, self)
        window.changed.connect(lambda: self.model.reload())
        window.finished.connect(lambda _: self.windows.remove(window))
        self.windows.append(window)
        window.show()
        return window

    def selected_rows(self) -> list[Any]:
        """The selected rows that are loaded: a frozen list (later refreshes do not change it)."""
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        found = [self.model.row(r) for r in rows]
        return [r for r in found if r is not None]


class RunsList(ConsoleList):
    filter_type = RunFilter

    def __init__(self, session: AppSession) -> None:
        super().__init__(session, "runs", RunFilterBar(), COLUMNS, ("started", True))
        self.start_button = QPushButton("Start a run…")
        self.start_button.setObjectName("startRunFromList")
        self.start_button.clicked.connect(lambda: self.start_run())
        self.action_row.addWidget(self.start_button)
        self.open_button = QPushButton("Open")
        self.open_button.setObjectName("openRun")
        self.open_button.clicked.connect(self.open_selected)
        self.action_row.addWidget(self.open_button)
        self.op_buttons: dict[str, QPushButton] = {}
        for op in OPERATIONS.values():
            button = QPushButton(op.title + "…")
            button.setObjectName(f"bulk_{op.name}")
            button.clicked.connect(lambda _=False, name=op.name: self.bulk(name))
            self.action_row.addWidget(button)
            self.op_buttons[op.name] = button
        self.view.doubleClicked.connect(self._double_clicked)
        self.apply()

    def source(self, where: RunFilter) -> tuple[Any, Any, Any]:
        console = self.session.service.console

        def cursor(row: RunSummary) -> Any:
            return (row.started_at, row.id) if where.sort == "started" else (row.id, row.id)

        return (lambda: console.count_runs(where)), pager(console.runs, where), cursor

    def export_source(self, where: RunFilter) -> tuple[str, Pages, Sequence[CsvColumn]]:
        console = self.session.service.console
        return "runs", lambda: console.stream_runs(where, page_size=PAGE), RUN_COLUMNS

    def start_run(self, orchestration: str | None = None) -> StartRunDialog:
        """The start dialog; the new run opens in its detail window."""
        dialog = StartRunDialog(self.session, self, orchestration=orchestration)
        dialog.started.connect(lambda run: self.open_run(run.id))
        dialog.open()
        return dialog

    def _double_clicked(self, index: Any) -> None:
        row = index.data(ROW_ROLE)
        if row is not None:
            self.open_run(row.id)

    def open_selected(self) -> None:
        for row in self.selected_rows()[:5]:
            self.open_run(row.id)

    def bulk(self, name: str) -> Any:
        rows = self.selected_rows()
        if not rows:
            self.status.emit("Select the runs first")
            return None
        stages = self.bar.catalog.stages
        orchestrations = {r.orchestration for r in rows}
        stage_names = sorted({s for o in orchestrations for s in stages.get(o, [])})
        steps = sorted({s for o in orchestrations for s in self.bar.catalog.steps.get(o, [])})
        versions = sorted(
            {v for o in orchestrations for v in self.bar.catalog.versions.get(o, [])}, reverse=True
        )
        return intervene(
            self,
            self.session,
            OPERATIONS[name],
            [r.id for r in rows],
            self._done,
            stages=stage_names,
            steps=steps,
            versions=versions,
        )

    def _done(self, outcomes: Sequence[RunOutcome]) -> None:
        done = sum(o.done for o in outcomes)
        self.status.emit(f"{done} of {len(outcomes)} runs changed")
        OutcomesDialog(self, "Results", outcomes).open()
        self.model.reload()


class RunsPanel(QWidget):
    status = Signal(str)
    show_work = Signal(object)  # a WorkFilter: Needs attention's overdue work, in Work Items

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.tabs = QTabWidget()
        self.runs = RunsList(session)
        self.runs.status.connect(self.status)
        self.attention = AttentionView(session, self.runs.open_run)
        self.tabs.addTab(self.runs, "All runs")
        self.tabs.addTab(self.attention, "Needs attention")
        self.tabs.currentChanged.connect(self._tab)
        self.attention.show_runs.connect(self.show_runs)
        self.attention.show_work.connect(self.show_work)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

    def show_runs(self, where: RunFilter) -> None:
        """The runs a filter selects, in the All runs tab."""
        self.tabs.setCurrentWidget(self.runs)
        self.runs.show_filtered(where)

    def refresh(self) -> None:
        """F5: the tab shown, read again."""
        if self.tabs.currentWidget() is self.attention:
            self.attention.refresh()
        else:
            self.runs.refresh()

    def _tab(self, index: int) -> None:
        if self.tabs.widget(index) is self.attention:
            self.attention.refresh()
