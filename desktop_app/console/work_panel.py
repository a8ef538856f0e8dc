"""Work Items: everyone's work by filter, with its SLA state, and bulk reassign."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import QPushButton

from desktop_app.console.export import PAGE, WORK_COLUMNS, CsvColumn, Pages
from desktop_app.console.filters import WorkFilterBar
from desktop_app.console.paged_model import Column, pager
from desktop_app.console.run_detail import reassign_items, when
from desktop_app.console.runs_panel import ConsoleList
from desktop_app.panels.inbox_model import age
from desktop_app.session import AppSession
from engine import clock
from engine.services.dto import WorkItemInfo
from engine.services.queries import WorkFilter, sla_state

SLA_COLOURS = {"overdue": "#b42318", "done late": "#b42318", "due soon": "#b54708"}


def _sla(w: WorkItemInfo) -> str:
    return sla_state(w.status, w.due_at, w.completed_at, clock.now())


def _holder(w: WorkItemInfo) -> str:
    who = f"{w.assignee_kind} {w.assignee}" if w.assignee_kind != "user" else w.assignee
    return f"{who} (claimed by {w.claimed_by})" if w.claimed_by else who


# When it is due, its SLA and who holds it come first: the list is sorted by due time, and on
# a laptop's screen the columns after the sixth or so are out of sight until one scrolls.
COLUMNS = (
    Column("#", lambda w: str(w.id), sort="id"),
    Column("Item", lambda w: w.title),
    Column("Status", lambda w: w.status),
    Column("Due", lambda w: when(w.due_at), sort="due"),
    Column("SLA", _sla, colour=lambda w: SLA_COLOURS.get(_sla(w))),
    Column("Assigned to", _holder),
    Column("Orchestration", lambda w: w.orchestration),
    Column("Stage", lambda w: w.stage),
    Column("Step", lambda w: w.step),
    Column("Record", lambda w: w.record_title or (f"#{w.record_id}" if w.record_id else "")),
    Column("Created", lambda w: when(w.created_at), sort="created"),
    Column("Age", lambda w: age(w.created_at, w.completed_at or clock.now())),
)


class WorkItemsPanel(ConsoleList):
    filter_type = WorkFilter

    def __init__(self, session: AppSession) -> None:
        super().__init__(session, "work", WorkFilterBar(), COLUMNS, ("due", False))
        self.reassign_button = QPushButton("Reassign selected…")
        self.reassign_button.setObjectName("bulkReassign")
        self.reassign_button.clicked.connect(self.reassign)
        self.open_button = QPushButton("Open run")
        self.open_button.setObjectName("openItemRun")
        self.open_button.clicked.connect(self.open_runs)
        self.action_row.addWidget(self.reassign_button)
        self.action_row.addWidget(self.open_button)
        self.apply()

    def source(self, where: WorkFilter) -> tuple[Any, Any, Any]:
        console = self.session.service.console
        cursor = None
        if where.sort == "created":
            cursor = lambda w: (w.created_at, w.id)  # noqa: E731
        elif where.sort == "id":
            cursor = lambda w: (w.id, w.id)  # noqa: E731
        fetch = pager(console.work_items, where)
        return (lambda: console.count_work_items(where)), fetch, cursor

    def export_source(self, where: WorkFilter) -> tuple[str, Pages, Sequence[CsvColumn]]:
        console = self.session.service.console
        return "work items", lambda: console.stream_work_items(where, page_size=PAGE), WORK_COLUMNS

    def reassign(self) -> None:
        ids = [w.id for w in self.selected_rows()]
        if not ids:
            self.status.emit("Select the work items first")
            return
        reassign_items(self, self.session, ids, lambda _: self.model.reload())

    def open_runs(self) -> None:
        for run_id in dict.fromkeys(w.run_id for w in self.selected_rows()[:5]):
            self.open_run(run_id)
