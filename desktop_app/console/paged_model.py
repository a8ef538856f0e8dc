"""A table over a million rows that loads only what is on screen.

The row count comes from SQL (``count``); rows arrive in blocks of ``BLOCK`` when the view
first asks for them, in the background. A block is read by keyset from a neighbouring block
already loaded (cheap at any depth), else by offset from the nearer end. At most ``KEEP``
blocks stay in memory; a row not loaded yet shows "…" until its block arrives.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from desktop_app import tasks
from engine.services.console import Page

BLOCK = 200
KEEP = 60
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[Any], str]
    sort: str | None = None  # the service's sort key when this column sorts
    tip: Callable[[Any], str | None] | None = None
    colour: Callable[[Any], str | None] | None = None
    width: int = 100


def pager(read: Callable[..., list[Any]], where: Any) -> Callable[[Page], list[Any]]:
    """A model's ``fetch`` over a console service call such as ``console.runs``."""

    def fetch(how: Page) -> list[Any]:
        return read(
            where,
            limit=how.limit,
            offset=how.offset,
            after=how.after,
            before=how.before,
            from_end=how.from_end,
        )

    return fetch


class PagedModel(QAbstractTableModel):
    counted = Signal(int)
    failed = Signal(object)

    def __init__(
        self,
        columns: Sequence[Column],
        count: Callable[[], int],
        fetch: Callable[[Page], list[Any]],
        cursor: Callable[[Any], Any] | None = None,
    ) -> None:
        super().__init__()
        self.columns = list(columns)
        self._count = count
        self._fetch = fetch
        self.cursor = cursor  # a row's keyset cursor, or None when paging by offset only
        self.total = 0
        self.blocks: OrderedDict[int, list[Any]] = OrderedDict()
        self.pending: set[int] = set()
        self.generation = 0
        self.sorted_by: tuple[str, bool] = ("", False)

    # ------------------------------------------------------------ loading

    def configure(
        self,
        count: Callable[[], int],
        fetch: Callable[[Page], list[Any]],
        cursor: Callable[[Any], Any] | None,
    ) -> None:
        """New filter or sort: forget every row and count again."""
        self._count, self._fetch, self.cursor = count, fetch, cursor
        self.reload(keep_rows=False)

    def reload(self, *, keep_rows: bool = True) -> None:
        """Count again and re-read the blocks on screen (a change was announced)."""
        self.generation += 1
        generation = self.generation
        if not keep_rows:
            self.beginResetModel()
            self.total = 0
            self.blocks.clear()
            self.endResetModel()
        self.pending.clear()
        tasks.run(self._count, lambda total: self._counted(generation, total), self._failed)

    def _counted(self, generation: int, total: int) -> None:
        if generation != self.generation:
            return
        stale = list(self.blocks)
        self.beginResetModel()
        self.total = total
        self.blocks.clear()
        self.endResetModel()
        for block in stale[-4:]:  # what was on screen comes back first
            self._load(block)
        self.counted.emit(total)

    def _failed(self, exc: BaseException) -> None:
        self.failed.emit(exc)

    def _load(self, block: int) -> None:
        if block in self.pending or block * BLOCK >= self.total:
            return  # asked already, or past the end (or not counted yet)
        self.pending.add(block)
        generation = self.generation
        how = self._how(block, min(BLOCK, self.total - block * BLOCK))

        def failed(exc: BaseException) -> None:
            self.pending.discard(block)
            self._failed(exc)

        tasks.run(
            lambda: self._fetch(how),
            lambda rows: self._arrived(generation, block, rows),
            failed,
        )

    def _how(self, block: int, limit: int) -> Page:
        if self.cursor is not None:
            before = self.blocks.get(block - 1)
            if before:
                return Page(limit, after=self.cursor(before[-1]))
            after = self.blocks.get(block + 1)
            if after:
                return Page(limit, before=self.cursor(after[0]))
        start = block * BLOCK
        rest = self.total - start - BLOCK
        if rest < start:
            return Page(limit, offset=max(rest, 0), from_end=True)
        return Page(limit, offset=start)

    def _arrived(self, generation: int, block: int, rows: list[Any]) -> None:
        self.pending.discard(block)
        if generation != self.generation:
            return
        self.blocks[block] = rows
        self.blocks.move_to_end(block)
        while len(self.blocks) > KEEP:
            self.blocks.popitem(last=False)
        first = block * BLOCK
        last = min(first + BLOCK, self.total) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.columns) - 1))

    def row(self, number: int) -> Any | None:
        """The row at ``number`` if loaded (asking for its block if not)."""
        block, at = divmod(number, BLOCK)
        rows = self.blocks.get(block)
        if rows is None:
            self._load(block)
            return None
        self.blocks.move_to_end(block)
        return rows[at] if at < len(rows) else None

    def loaded_rows(self) -> list[Any]:
        return [row for block in sorted(self.blocks) for row in self.blocks[block]]

    # ------------------------------------------------------------ the model

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.total

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            column = self.columns[section]
            if column.sort is None:
                return column.title
            key, descending = self.sorted_by
            if column.sort == key:
                return column.title + (" ▼" if descending else " ▲")
            return column.title + " ▲▼"
        return None

    def data(self, index: Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        row = self.row(index.row())
        column = self.columns[index.column()]
        if row is None:
            return "…" if role == Qt.ItemDataRole.DisplayRole and index.column() == 0 else None
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ToolTipRole and column.tip is not None:
            return column.tip(row)
        if role == Qt.ItemDataRole.ForegroundRole and column.colour is not None:
            from PySide6.QtGui import QBrush, QColor

            colour = column.colour(row)
            return QBrush(QColor(colour)) if colour else None
        return None
