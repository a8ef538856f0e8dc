"""A table over a million rows that loads only what is on screen.

The row count comes from SQL (``count``); rows arrive in blocks of ``BLOCK`` when the view
first asks for them, in the background. A block is read by keyset from a neighbouring block
already loaded (cheap at any depth), else by offset from the nearer end. At most ``KEEP``
blocks stay in memory; a row not loaded yet shows "…" until its block arrives.

A change announced elsewhere (``reload``) does not reset the table: the count and the blocks
on screen (and those holding selected rows) are read again in one background call, and the
rows are replaced in place. Rows that came or went are inserted or removed at the end, and
the selection and current row follow their rows by id (``key``) to where they are now — or
let go of a row that is no longer among the rows read again — so a supervisor's selection
and scroll position survive other people's work.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from desktop_app import tasks
from engine.services.console import Page

BLOCK = 200
KEEP = 60
SCREEN = 4  # the blocks last looked at: what a refresh reads again first
REREAD = 12  # at most this many blocks are read again on a refresh
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


def _by_offset(block: int, total: int) -> Page:
    """How to read ``block`` of ``total`` rows by offset, from the nearer end."""
    start = block * BLOCK
    limit = max(0, min(BLOCK, total - start))
    rest = total - start - BLOCK
    if rest < start:
        return Page(limit, offset=max(rest, 0), from_end=True)
    return Page(limit, offset=start)


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
        key: Callable[[Any], Any] = operator.attrgetter("id"),
    ) -> None:
        super().__init__()
        self.columns = list(columns)
        self._count = count
        self._fetch = fetch
        self.cursor = cursor  # a row's keyset cursor, or None when paging by offset only
        self.key = key  # what a row is known by across refreshes
        self.total = 0
        self.blocks: OrderedDict[int, list[Any]] = OrderedDict()
        self.pending: set[int] = set()
        self.latest = tasks.Latest()  # a refresh or a new filter drops older answers
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
        """Count again and re-read the blocks on screen (a change was announced), changing the
        rows in place; without ``keep_rows``, forget every row first (a new filter)."""
        if not keep_rows:
            self.pending.clear()
            self.beginResetModel()
            self.total = 0
            self.blocks.clear()
            self.endResetModel()
            self.latest.run(self._count, self._counted, self._failed)
            return
        wanted = self._wanted()
        self.pending.clear()  # their answers are dropped: the refresh reads them
        count, fetch = self._count, self._fetch

        def reread() -> tuple[int, dict[int, list[Any]]]:
            total = count()
            return total, {b: fetch(_by_offset(b, total)) for b in wanted if b * BLOCK < total}

        self.latest.run(reread, self._refreshed, self._failed)

    def _wanted(self) -> list[int]:
        """The blocks to read again: those last looked at, then any holding a selected (or
        otherwise remembered) row, then any the view was waiting for."""
        wanted = list(self.blocks)[-SCREEN:][::-1]
        for index in self.persistentIndexList():
            wanted.append(index.row() // BLOCK)
        wanted.extend(sorted(self.pending))
        return list(dict.fromkeys(b for b in wanted if b >= 0))[:REREAD]

    def _counted(self, total: int) -> None:
        self.beginResetModel()
        self.total = total
        self.blocks.clear()
        self.endResetModel()
        self.counted.emit(total)

    def _refreshed(self, answer: tuple[int, dict[int, list[Any]]]) -> None:
        total, fresh = answer
        before = self.total
        if total > before:  # rows came: the table grows at its end
            self.beginInsertRows(QModelIndex(), before, total - 1)
            self.total = total
            self.endInsertRows()
        self._follow_rows(fresh)
        if total < before:  # rows went: it shrinks at its end
            self.beginRemoveRows(QModelIndex(), total, before - 1)
            self.total = total
            self.endRemoveRows()
        self.pending.clear()
        if self.total:
            self.dataChanged.emit(
                self.index(0, 0), self.index(self.total - 1, len(self.columns) - 1)
            )
        self.counted.emit(total)

    def _follow_rows(self, fresh: dict[int, list[Any]]) -> None:
        """Take the rows read again; remembered rows (the selection, the current row: Qt's
        persistent indexes) follow their ids."""
        key, old = self.key, self.blocks
        where = {
            key(row): b * BLOCK + at for b, rows in fresh.items() for at, row in enumerate(rows)
        }

        def now(number: int) -> int | None:
            """Where the row at ``number`` is now: None if unknown (it stays), -1 if gone."""
            block, at = divmod(number, BLOCK)
            rows = old.get(block)
            if rows is None or at >= len(rows):
                return None
            found = where.get(key(rows[at]))
            if found is None:
                return -1 if block in fresh else None
            return found

        moved = bool(self.persistentIndexList()) and any(
            [key(r) for r in old.get(b, ())] != [key(r) for r in rows] for b, rows in fresh.items()
        )
        if moved:
            self.layoutAboutToBeChanged.emit()
        # LRU order kept: the blocks read again, most recently used last; the rest are stale.
        order = [b for b in old if b in fresh] + [b for b in fresh if b not in old]
        self.blocks = OrderedDict((b, fresh[b]) for b in order)
        if moved:
            froms, tos = [], []
            for index in self.persistentIndexList():
                row = now(index.row())
                if row is not None and row != index.row():
                    froms.append(QModelIndex(index))
                    tos.append(self.index(row, index.column()) if row >= 0 else QModelIndex())
            self.changePersistentIndexList(froms, tos)
            self.layoutChanged.emit()

    def _failed(self, exc: BaseException) -> None:
        self.failed.emit(exc)

    def _load(self, block: int) -> None:
        if block in self.pending or block * BLOCK >= self.total:
            return  # asked already, or past the end (or not counted yet)
        self.pending.add(block)
        how = self._how(block, min(BLOCK, self.total - block * BLOCK))

        def failed(exc: BaseException) -> None:
            self.pending.discard(block)
            self._failed(exc)

        fetch = self._fetch
        self.latest.join(lambda: fetch(how), lambda rows: self._arrived(block, rows), failed)

    def _how(self, block: int, limit: int) -> Page:
        if self.cursor is not None:
            before = self.blocks.get(block - 1)
            if before:
                return Page(limit, after=self.cursor(before[-1]))
            after = self.blocks.get(block + 1)
            if after:
                return Page(limit, before=self.cursor(after[0]))
        return _by_offset(block, self.total)

    def _arrived(self, block: int, rows: list[Any]) -> None:
        self.pending.discard(block)
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
