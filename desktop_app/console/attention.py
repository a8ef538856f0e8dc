"""Needs attention: stuck runs grouped by why, each with what a supervisor needs to act."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.console.interventions import OPERATIONS, OutcomesDialog, intervene
from desktop_app.console.run_detail import reassign_items, when
from desktop_app.messages import describe
from desktop_app.session import AppSession
from engine.services.attention import KINDS, Attention, AttentionReport
from engine.services.dto import RunOutcome
from engine.services.queries import RunFilter, WorkFilter
from engine.statuses import RunStatus

ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
KIND_ROLE = Qt.ItemDataRole.UserRole + 2
# While the view is shown, changes announced by the engine refresh it at most this often: a
# report reads every step's late runs, so it is not redone for each completed item.
FOLLOW_MS = 10_000


def _key(a: Attention) -> tuple[str, int, str | None, int | None]:
    return (a.kind, a.run_id, a.step, a.work_item_id)


# Where each reason's runs or work are listed, filtered to what it counts. Reasons no filter
# of the lists can express select their rows here instead (the buttons then act on them).
LISTED = {
    "failed": ("runs", RunFilter(statuses=(RunStatus.ERROR,))),
    "overdue": ("work", WorkFilter(sla="overdue")),
}


class AttentionView(QWidget):
    show_runs = Signal(object)  # a RunFilter
    show_work = Signal(object)  # a WorkFilter

    def __init__(self, session: AppSession, open_run: Callable[[int], Any]) -> None:
        super().__init__()
        self.session, self.open_run = session, open_run
        self.tree = QTreeWidget()
        self.tree.setObjectName("attentionTree")
        self.tree.setHeaderLabels(["Run", "Orchestration", "Stage · step", "Since", "Why"])
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.tree.setAlternatingRowColors(True)
        self.tree.itemDoubleClicked.connect(self._open)
        self.tree.itemExpanded.connect(lambda item: self._remember(item, True))
        self.tree.itemCollapsed.connect(lambda item: self._remember(item, False))
        # Groups the supervisor opened or closed stay so across refreshes and actions.
        self.expanded: dict[str, bool] = {}
        self.summary = QLabel("")
        self.summary.setObjectName("attentionSummary")
        self.summary.setWordWrap(True)
        buttons = QHBoxLayout()
        for title, handler, name in (
            ("Open run", self._open_selected, "attentionOpen"),
            ("Resume failed…", lambda: self._act("resume_failed"), "attentionResume"),
            ("Reassign work…", self._reassign, "attentionReassign"),
            ("Cancel runs…", lambda: self._act("cancel"), "attentionCancel"),
            ("Refresh", self.refresh, "attentionRefresh"),
        ):
            button = QPushButton(title)
            button.setObjectName(name)
            button.clicked.connect(handler)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        layout.addWidget(self.tree, 1)
        self.report: AttentionReport | None = None
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(FOLLOW_MS)
        self._pending.timeout.connect(self._follow)
        session.changed.connect(self._announced)
        session.user_changed.connect(lambda _: self._user_changed())

    def _user_changed(self) -> None:
        self.tree.clear()
        self.report = None
        self.summary.setText("")
        if self.isVisible():
            self.refresh()

    def _announced(self, kinds: frozenset[str]) -> None:
        if kinds & {"runs", "work"} and self.isVisible() and not self._pending.isActive():
            self._pending.start()

    def _follow(self) -> None:
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        attention = self.session.service.attention
        self.summary.setText("Looking for stuck runs…")
        tasks.run(attention.report, self._show, lambda exc: self.summary.setText(describe(exc)))

    def _show(self, report: AttentionReport) -> None:
        chosen = {_key(a) for a in self.selected()}  # kept across the refresh
        self.report = report
        self.tree.clear()
        total = sum(report.counts.values())
        parts = [f"{report.counts.get(k, 0):,} {title.lower()}" for k, title in KINDS.items()]
        self.summary.setText(
            f"<b>{total:,} need attention</b>: " + " · ".join(parts)
            if total
            else "Nothing is stuck: no failed runs, overdue work or stalled steps."
        )
        for kind, title in KINDS.items():
            items = [a for a in report.items if a.kind == kind]
            count = report.counts.get(kind, 0)
            shown = f" (the first {len(items)})" if len(items) < count else ""
            group = QTreeWidgetItem([f"{title} — {count:,}{shown}"])
            group.setData(0, KIND_ROLE, kind)
            listed = LISTED.get(kind)
            group.setToolTip(
                0,
                f"Double-click: list them in {'Work Items' if listed[0] == 'work' else 'All runs'}"
                if listed
                else "Double-click: select them all, for the buttons above",
            )
            group.setFirstColumnSpanned(True)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            self.tree.addTopLevelItem(group)
            group.setFirstColumnSpanned(True)
            for a in items:
                where = a.stage or ""
                if a.step:
                    where += f" · {a.step}"
                node = QTreeWidgetItem(
                    [str(a.run_id), a.orchestration, where, when(a.since), a.detail]
                )
                node.setData(0, ITEM_ROLE, a)
                node.setToolTip(4, a.detail)
                group.addChild(node)
                node.setSelected(_key(a) in chosen)
            self.tree.blockSignals(True)  # restoring, not a person's choice
            group.setExpanded(self.expanded.get(kind, bool(items)))
            self.tree.blockSignals(False)
        for column in range(4):
            self.tree.resizeColumnToContents(column)

    def selected(self) -> list[Attention]:
        found = [i.data(0, ITEM_ROLE) for i in self.tree.selectedItems()]
        return [a for a in found if isinstance(a, Attention)]

    def _remember(self, item: QTreeWidgetItem, expanded: bool) -> None:
        kind = item.data(0, KIND_ROLE)
        if isinstance(kind, str):
            self.expanded[kind] = expanded

    def _open(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        attention = item.data(0, ITEM_ROLE)
        if isinstance(attention, Attention):
            self.open_run(attention.run_id)
            return
        kind = item.data(0, KIND_ROLE)
        listed = LISTED.get(kind) if isinstance(kind, str) else None
        if listed is not None:
            (self.show_work if listed[0] == "work" else self.show_runs).emit(listed[1])
        else:
            item.setExpanded(True)
            for row in range(item.childCount()):
                child = item.child(row)
                if child is not None:
                    child.setSelected(True)

    def _open_selected(self) -> None:
        for run_id in dict.fromkeys(a.run_id for a in self.selected()[:5]):
            self.open_run(run_id)

    def _act(self, name: str) -> None:
        run_ids = list(dict.fromkeys(a.run_id for a in self.selected()))
        intervene(self, self.session, OPERATIONS[name], run_ids, self._done)

    def _done(self, outcomes: Sequence[RunOutcome]) -> None:
        OutcomesDialog(self, "Results", outcomes).open()
        self.refresh()

    def _reassign(self) -> None:
        ids = [a.work_item_id for a in self.selected() if a.work_item_id is not None]
        if ids:
            reassign_items(self, self.session, ids, lambda _: self.refresh())
