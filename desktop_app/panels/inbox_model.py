"""The Inbox's rows: a person's open work, paged in from the service in the background.

A reload reads again as many rows as are shown and changes the table in place, row by row
(keyed by work item id): items that went are removed, items that came are inserted where they
belong, the others are updated and moved if their order changed. The selection and the scroll
position follow, so new work arriving does not take the item in hand away from the person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor

from desktop_app import tasks
from engine import clock
from engine.services.dto import WorkItemInfo
from engine.statuses import PRIORITY_NAMES

PAGE = 100
MAX_RELOAD = 1000  # a reload reads again at most this many of the rows shown
COLUMNS = ("Item", "Orchestration", "Stage", "Record", "Assigned to", "Due", "Age", "Priority")
ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
# The service's sort for each column (None: that column does not sort).
TICK_MS = 60_000
SORTS = ("item", "orchestration", "stage", None, "assignee", "due", "age", "priority")
Query = dict[str, Any]  # the filter and sort a load asks the service for
Loader = Callable[[int, int, Query], list[WorkItemInfo]]
Index = QModelIndex | QPersistentModelIndex


def age(since: dt.datetime, now: dt.datetime) -> str:
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


class InboxModel(QAbstractTableModel):
    """Rows of ``WorkItemInfo``; more are fetched a page at a time as the view scrolls.

    Filtering and sorting happen in SQL (``query``), so every page is full until the last:
    a filter applied to loaded rows would make a page that shrank look like the end.
    """

    loaded = Signal()

    def __init__(self, loader: Loader) -> None:
        super().__init__()
        self.loader = loader
        self.items: list[WorkItemInfo] = []
        self.exhausted = False
        self.loading = False
        self.latest = tasks.Latest()  # a later reload drops older answers, pages included
        self.query: Query = {"sort": "priority", "descending": False}
        # Ages and overdue marks are the clock's: the view is told each minute that they moved.
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self._tick)
        self._ticker.start()

    def _tick(self) -> None:
        if self.items:
            first, last = COLUMNS.index("Due"), COLUMNS.index("Age")
            self.dataChanged.emit(self.index(0, first), self.index(len(self.items) - 1, last))

    # ------------------------------------------------------------ loading

    def reload(self) -> None:
        """Read the rows shown again, with the current filter and sort (the current rows stay
        until the answer arrives, and then change in place)."""
        query, wanted = dict(self.query), min(max(PAGE, len(self.items)), MAX_RELOAD)
        self.loading = True
        loader = self.loader
        self.latest.run(lambda: loader(0, wanted, query), lambda rows: self._replace(rows, wanted))

    def _replace(self, rows: list[WorkItemInfo], wanted: int) -> None:
        self.loading = False
        self.exhausted = len(rows) < wanted
        if self.items and rows and not {i.id for i in rows} & {i.id for i in self.items}:
            self.beginResetModel()  # nothing in common (another filter): nothing to keep
            self.items = list(rows)
            self.endResetModel()
        else:
            self._update_in_place(list(rows))
        self.loaded.emit()

    def _update_in_place(self, rows: list[WorkItemInfo]) -> None:
        """Make ``items`` equal ``rows`` with row removals, moves and insertions, so Qt's
        selection and scroll position stay on the items that stay."""
        new_ids = {item.id for item in rows}
        for first, last in reversed(
            _runs([r for r, i in enumerate(self.items) if i.id not in new_ids])
        ):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self.items[first : last + 1]
            self.endRemoveRows()
        kept = {item.id for item in self.items}
        order = [item for item in rows if item.id in kept]
        if [i.id for i in order] != [i.id for i in self.items]:
            self.layoutAboutToBeChanged.emit()
            now = {item.id: row for row, item in enumerate(order)}
            persistent = self.persistentIndexList()
            targets = [
                self.index(now[self.items[p.row()].id], p.column())
                if 0 <= p.row() < len(self.items)
                else QModelIndex()
                for p in persistent
            ]
            self.items = order
            self.changePersistentIndexList(persistent, targets)
            self.layoutChanged.emit()
        for first, last in _runs([r for r, item in enumerate(rows) if item.id not in kept]):
            self.beginInsertRows(QModelIndex(), first, last)
            self.items[first:first] = rows[first : last + 1]
            self.endInsertRows()
        self.items = rows
        if rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(COLUMNS) - 1))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """A click on a header: the service sorts, from the first page again."""
        key = SORTS[column] if 0 <= column < len(SORTS) else None
        if key is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if (key, descending) != (self.query.get("sort"), self.query.get("descending")):
            self.query = {**self.query, "sort": key, "descending": descending}
            self.reload()

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self.exhausted and not self.loading and bool(self.items)

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):  # (a caller may not have asked)
            return
        self.loading = True
        offset, query, loader = len(self.items), dict(self.query), self.loader
        self.latest.join(lambda: loader(offset, PAGE, query), self._append)

    def _append(self, rows: list[WorkItemInfo]) -> None:
        self.loading = False
        if not rows:
            self.exhausted = True
            return
        self.beginInsertRows(QModelIndex(), len(self.items), len(self.items) + len(rows) - 1)
        self.items.extend(rows)
        self.exhausted = len(rows) < PAGE
        self.endInsertRows()
        self.loaded.emit()

    # ------------------------------------------------------------ the table

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def item_at(self, row: int) -> WorkItemInfo | None:
        return self.items[row] if 0 <= row < len(self.items) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.items):
            return None
        item = self.items[index.row()]
        now = clock.now()
        overdue = item.due_at is not None and item.due_at < now
        column = index.column()
        if role == ITEM_ROLE:
            return item
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                item.title,
                item.orchestration.replace("_", " ").title(),
                item.stage.replace("_", " ").capitalize(),
                item.record_title or "",
                assigned_to(item),
                item.due_at.astimezone().strftime("%a %d %b %H:%M") if item.due_at else "",
                age(item.created_at, now),
                PRIORITY_NAMES.get(item.priority, str(item.priority)).capitalize(),
            )[column]
        if role == Qt.ItemDataRole.ForegroundRole and overdue and column == 5:
            return QBrush(QColor("#c0392b"))
        if role == Qt.ItemDataRole.ToolTipRole:
            if item.flag:
                return item.flag
            return "Overdue" if overdue else None
        if role == Qt.ItemDataRole.FontRole and overdue:
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        return None


def assigned_to(item: WorkItemInfo) -> str:
    """'queue finance', or — claimed — its holder first, so a narrow column still says who
    holds it: 'frank (claimed) · queue finance'."""
    assignee = (
        item.assignee if item.assignee_kind == "user" else (f"{item.assignee_kind} {item.assignee}")
    )
    return f"{item.claimed_by} (claimed) · {assignee}" if item.claimed_by else assignee


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Ascending row numbers as (first, last) runs of consecutive rows."""
    out: list[tuple[int, int]] = []
    for row in rows:
        if out and out[-1][1] == row - 1:
            out[-1] = (out[-1][0], row)
        else:
            out.append((row, row))
    return out
