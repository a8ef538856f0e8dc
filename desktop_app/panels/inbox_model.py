"""The Inbox's rows: a person's open work, paged in from the service in the background."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from desktop_app import tasks
from engine import clock
from engine.runtime.statuses import PRIORITY_NAMES
from engine.services.dto import WorkItemInfo

PAGE = 100
COLUMNS = ("Item", "Orchestration", "Stage", "Record", "Assigned to", "Due", "Age", "Priority")
ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
# The service's sort for each column (None: that column does not sort).
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
        self.generation = 0
        self.query: Query = {"sort": "priority", "descending": False}

    # ------------------------------------------------------------ loading

    def reload(self) -> None:
        """Start again from the first page (the current rows stay until it arrives)."""
        self.generation += 1
        generation, query = self.generation, dict(self.query)
        self.loading = True
        tasks.run(lambda: self.loader(0, PAGE, query), lambda rows: self._replace(generation, rows))

    def _replace(self, generation: int, rows: list[WorkItemInfo]) -> None:
        if generation != self.generation:
            return  # a newer reload is under way
        self.beginResetModel()
        self.items = list(rows)
        self.exhausted = len(rows) < PAGE
        self.loading = False
        self.endResetModel()
        self.loaded.emit()

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
        if parent.isValid() or self.loading:
            return
        self.loading = True
        generation, offset, query = self.generation, len(self.items), dict(self.query)
        tasks.run(
            lambda: self.loader(offset, PAGE, query), lambda rows: self._append(generation, rows)
        )

    def _append(self, generation: int, rows: list[WorkItemInfo]) -> None:
        self.loading = False
        if generation != self.generation or not rows:
            self.exhausted = self.exhausted or not rows
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
            assigned = f"{item.assignee}" + (
                f" (claimed by {item.claimed_by})" if item.claimed_by else ""
            )
            return (
                item.title,
                item.orchestration.replace("_", " ").title(),
                item.stage.replace("_", " ").capitalize(),
                item.record_title or "",
                assigned if item.assignee_kind == "user" else f"{item.assignee_kind} {assigned}",
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
