"""The supervisor console's lists: runs and work items by filter, a page at a time, and each
person's saved views of them. Staff only (admins and supervisors)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.errors import InvalidInput, NotFound
from engine.services.context import ServiceContext
from engine.services.dto import Data, RunSummary, WorkItemInfo
from engine.services.infos import work_item_info
from engine.services.permissions import STAFF
from engine.services.queries import (
    RUN_SORTS,
    WORK_SORTS,
    Cursor,
    RunFilter,
    WorkFilter,
    paged,
    run_conditions,
    search_conditions,
    work_conditions,
)
from engine.services.runs import _summaries
from engine.services.search import Unindexed
from engine.services.work import record_titles
from engine.store.base import utcnow
from engine.store.models import OrchestrationRow, RunRow, SavedViewRow, WorkItemRow

VIEW_KINDS = ("runs", "work")
SUMMARY_COLUMNS = (  # what ``runs.run_summary`` reads, and the row's last change
    RunRow.id,
    RunRow.orchestration_id,
    RunRow.version_id,
    RunRow.status,
    RunRow.current_element,
    RunRow.record_id,
    RunRow.started_by,
    RunRow.started_at,
    RunRow.ended_at,
    RunRow.error,
    RunRow.updated_at,
)
MAX_PAGE = 1000


@dataclasses.dataclass(frozen=True)
class SavedView(Data):
    id: int
    kind: str
    name: str
    query: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Page:
    """Which rows of a list to read (see ``queries.paged``)."""

    limit: int
    offset: int = 0
    after: Cursor | None = None
    before: Cursor | None = None
    from_end: bool = False


def _read(
    run: Callable[[Any], Any], query: Any, key: Any, ident: Any, descending: bool, page: Page
) -> list[Any]:
    """The page's rows in list order, through ``run`` (``session.scalars`` or ``execute``)."""
    query, reverse = paged(
        query,
        key,
        ident,
        descending=descending,
        limit=page.limit,
        offset=page.offset,
        after=page.after,
        before=page.before,
        from_end=page.from_end,
    )
    rows = list(run(query))
    if reverse:
        rows.reverse()
    return rows


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"a page holds 1 to {MAX_PAGE} rows, not {limit}")
    return limit


class ConsoleService:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    # ------------------------------------------------------------ runs

    def runs(
        self,
        where: RunFilter | None = None,
        *,
        limit: int = 200,
        offset: int = 0,
        after: Cursor | None = None,
        before: Cursor | None = None,
        from_end: bool = False,
    ) -> list[RunSummary]:
        """One page of runs in the filter's order (see ``queries.paged`` for the cursors)."""
        f = where or RunFilter()
        with self.context.read() as session:
            self.context.require(session, STAFF, "list runs")
            # The columns a summary shows, not whole rows: a run's state and variables are
            # much of its row, and plain rows are freed as soon as the page is made (a
            # million-run export makes no work for the garbage collector).
            query = select(*SUMMARY_COLUMNS).where(*run_conditions(session, f))
            page = Page(_limit(limit), offset, after, before, from_end)
            key: Any = RUN_SORTS[f.sort]
            ident: Any = RunRow.id
            if search_conditions(f):  # see search.Unindexed
                key, ident = Unindexed(key), Unindexed(ident)
            rows = _read(session.execute, query, key, ident, f.descending, page)
            titles = record_titles(session, {r.record_id for r in rows if r.record_id})
            return [
                dataclasses.replace(
                    summary, updated_at=row.updated_at, record_title=titles.get(row.record_id)
                )
                for summary, row in zip(_summaries(session, cast(Any, rows)), rows, strict=True)
            ]

    def count_runs(self, where: RunFilter | None = None) -> int:
        with self.context.read() as session:
            self.context.require(session, STAFF, "count runs")
            conditions = run_conditions(session, where or RunFilter())
            return int(
                session.scalar(select(func.count()).select_from(RunRow).where(*conditions)) or 0
            )

    # ------------------------------------------------------------ work items

    def work_items(
        self,
        where: WorkFilter | None = None,
        *,
        limit: int = 200,
        offset: int = 0,
        after: Cursor | None = None,
        before: Cursor | None = None,
        from_end: bool = False,
    ) -> list[WorkItemInfo]:
        """One page of work items; items without a due date come last when sorted by it."""
        f = where or WorkFilter()
        if f.sort == "due" and (after is not None or before is not None):
            raise InvalidInput("work sorted by due date is paged by offset")
        page = Page(_limit(limit), offset, after, before, from_end)
        return self._work_page(f, page, WORK_SORTS[f.sort], undated_last=f.sort == "due")

    def _work_page(
        self,
        f: WorkFilter,
        page: Page,
        key: Any,
        *,
        undated_last: bool = False,
        also: Sequence[ColumnElement[bool]] = (),
    ) -> list[WorkItemInfo]:
        with self.context.read() as session:
            self.context.require(session, STAFF, "list work items")
            query = select(WorkItemRow, OrchestrationRow.name).join(
                OrchestrationRow, OrchestrationRow.id == WorkItemRow.orchestration_id
            )
            query = query.where(*work_conditions(session, f), *also)
            if undated_last:  # nullable: paged by offset, items without a due date last
                undated = case((WorkItemRow.due_at.is_(None), 1), else_=0)
                query = query.order_by(undated.desc() if page.from_end else undated.asc())
            rows = _read(session.execute, query, key, WorkItemRow.id, f.descending, page)
            titles = record_titles(session, {w.record_id for w, _ in rows if w.record_id})
            return [
                dataclasses.replace(work_item_info(w, name), record_title=titles.get(w.record_id))
                for w, name in rows
            ]

    def count_work_items(self, where: WorkFilter | None = None) -> int:
        with self.context.read() as session:
            self.context.require(session, STAFF, "count work items")
            conditions = work_conditions(session, where or WorkFilter())
            query = select(func.count()).select_from(WorkItemRow).where(*conditions)
            return int(session.scalar(query) or 0)

    # ------------------------------------------------------------ export

    def stream_runs(
        self, where: RunFilter | None = None, *, page_size: int = MAX_PAGE
    ) -> Iterator[list[RunSummary]]:
        """Every run of the filter, in its order, a page at a time (for an export).

        Each page is read by keyset after the last one, in a transaction of its own, so a
        million runs are never in memory at once and no page costs more than the first.
        Runs started while it reads come in only if they sort after where it has got to."""
        f = where or RunFilter()
        cursor: Cursor | None = None
        while True:
            rows = self.runs(f, limit=page_size, after=cursor)
            if rows:
                yield rows
            if len(rows) < page_size:
                return
            last = rows[-1]
            cursor = (last.started_at, last.id) if f.sort == "started" else (last.id, last.id)

    def stream_work_items(
        self, where: WorkFilter | None = None, *, page_size: int = MAX_PAGE
    ) -> Iterator[list[WorkItemInfo]]:
        """Every work item of the filter, in the list's order, a page at a time by keyset.
        Sorted by due date, the dated items come first by (due, id), then the undated by id,
        as the list shows them."""
        f = where or WorkFilter()
        _limit(page_size)
        if f.sort != "due":
            yield from self._stream_work(f, WORK_SORTS[f.sort], (), page_size)
            return
        dated = (WorkItemRow.due_at.is_not(None),)
        yield from self._stream_work(f, WorkItemRow.due_at, dated, page_size)
        yield from self._stream_work(f, WorkItemRow.id, (WorkItemRow.due_at.is_(None),), page_size)

    def _stream_work(
        self, f: WorkFilter, key: Any, also: Sequence[ColumnElement[bool]], page_size: int
    ) -> Iterator[list[WorkItemInfo]]:
        by_id = key is WorkItemRow.id
        cursor: Cursor | None = None
        while True:
            rows = self._work_page(f, Page(page_size, after=cursor), key, also=also)
            if rows:
                yield rows
            if len(rows) < page_size:
                return
            last = rows[-1]
            value = (
                last.id
                if by_id
                else (last.due_at if key is WorkItemRow.due_at else last.created_at)
            )
            cursor = (value, last.id)

    # ------------------------------------------------------------ saved views

    def views(self, kind: str) -> list[SavedView]:
        """The caller's saved views of ``kind`` ('runs' or 'work'), by name."""
        _kind(kind)
        with self.context.read() as session:
            owner = self._owner(session)
            rows = session.scalars(
                select(SavedViewRow)
                .where(SavedViewRow.owner == owner, SavedViewRow.kind == kind)
                .order_by(SavedViewRow.name)
            )
            return [SavedView(r.id, r.kind, r.name, dict(r.query)) for r in rows]

    def save_view(self, kind: str, name: str, where: RunFilter | WorkFilter) -> SavedView:
        """Save (or overwrite) the caller's view ``name``."""
        _kind(kind)
        expected = RunFilter if kind == "runs" else WorkFilter
        if not isinstance(where, expected):
            raise InvalidInput(f"a {kind} view saves a {expected.__name__}")
        name = name.strip()
        if not name:
            raise InvalidInput("give the view a name")
        with self.context.write() as session:
            owner = self._owner(session)
            query = where.to_json()
            row = session.scalar(
                select(SavedViewRow).where(
                    SavedViewRow.owner == owner,
                    SavedViewRow.kind == kind,
                    SavedViewRow.name == name,
                )
            )
            if row is None:
                row = SavedViewRow(owner=owner, kind=kind, name=name, query=query)
                session.add(row)
            else:
                row.query = query
                row.updated_at = utcnow()
            session.flush()
            return SavedView(row.id, kind, name, query)

    def delete_view(self, kind: str, name: str) -> None:
        _kind(kind)
        with self.context.write() as session:
            owner = self._owner(session)
            done = session.execute(
                delete(SavedViewRow).where(
                    SavedViewRow.owner == owner,
                    SavedViewRow.kind == kind,
                    SavedViewRow.name == name,
                )
            )
            if not getattr(done, "rowcount", 0):
                raise NotFound(f"you have no saved {kind} view named '{name}'")

    def _owner(self, session: Session) -> str:
        who = self.context.require(session, STAFF, "keep console views")
        return who.username or "system"


def _kind(kind: str) -> None:
    if kind not in VIEW_KINDS:
        raise InvalidInput(f"views are of {' or '.join(VIEW_KINDS)}, not '{kind}'")
