"""The supervisor console's filters: what a Runs or Work Items view shows, as SQL.

A filter is plain data (it is saved as a person's named view), turned into SQL conditions
that the indexes of migration 0003 serve. Pages are read by keyset (``after`` / ``before``
a row's sort key) wherever the sort key is never empty, so scrolling a million rows reads
only the rows shown; otherwise by offset, counted from the nearer end.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, false, or_, select, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine import clock
from engine.errors import InvalidInput
from engine.services import search
from engine.services.dto import Data
from engine.statuses import RunStatus, WorkStatus
from engine.store.models import RunRow, VersionRow, WorkItemRow

DUE_SOON = dt.timedelta(hours=24)
RUN_DATES = ("started_from", "started_to", "ended_from", "ended_to")
SLA_STATES = ("overdue", "due_soon", "on_time", "no_due_date", "breached")
RUN_SORTS = {"started": RunRow.started_at, "id": RunRow.id}
WORK_SORTS = {"due": WorkItemRow.due_at, "created": WorkItemRow.created_at, "id": WorkItemRow.id}


def _date(value: Any) -> dt.datetime | None:
    """A filter bound: a date (its midnight, UTC) or datetime, or its ISO text."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"'{value}' is not a date (use YYYY-MM-DD)") from None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    raise InvalidInput(f"'{value}' is not a date")


@dataclass(frozen=True)
class RunFilter(Data):
    orchestration: str | None = None
    version: int | None = None
    statuses: tuple[str, ...] = ()
    stage: str | None = None
    started_from: dt.datetime | None = None
    started_to: dt.datetime | None = None  # exclusive
    ended_from: dt.datetime | None = None  # the dashboards' "completed / failed that day"
    ended_to: dt.datetime | None = None  # exclusive
    record_id: int | None = None
    assignee: str | None = None  # open work assigned to, or claimed by, this person or queue
    variable: str | None = None  # search: the variable named so (None: any) ...
    variable_value: str | None = None  # ... has this value (see engine.services.search)
    record_field: str | None = None  # the run's record has this field (None: any) ...
    record_value: str | None = None  # ... with this value
    error_text: str | None = None  # the run's error says this
    sort: str = "started"
    descending: bool = True

    def to_json(self) -> dict[str, Any]:
        data = self.to_dict()
        for key in RUN_DATES:
            data[key] = data[key].isoformat() if data[key] else None
        data["statuses"] = list(self.statuses)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunFilter:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["statuses"] = tuple(values.get("statuses") or ())
        for key in RUN_DATES:
            values[key] = _date(values.get(key))
        return cls(**values)


@dataclass(frozen=True)
class WorkFilter(Data):
    orchestration: str | None = None
    stage: str | None = None
    step: str | None = None
    statuses: tuple[str, ...] = WorkStatus.OPEN
    record_id: int | None = None
    assignee: str | None = None
    sla: str | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    run_id: int | None = None
    sort: str = "due"
    descending: bool = False

    def to_json(self) -> dict[str, Any]:
        data = self.to_dict()
        for key in ("created_from", "created_to"):
            data[key] = data[key].isoformat() if data[key] else None
        data["statuses"] = list(self.statuses)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkFilter:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "statuses" in values:
            values["statuses"] = tuple(values["statuses"] or ())
        for key in ("created_from", "created_to"):
            values[key] = _date(values.get(key))
        return cls(**values)


def _check_statuses(statuses: tuple[str, ...], allowed: tuple[str, ...], what: str) -> None:
    for status in statuses:
        if status not in allowed:
            raise InvalidInput(f"'{status}' is not a {what} status; use {', '.join(allowed)}")


def run_conditions(session: Session, f: RunFilter) -> list[ColumnElement[bool]]:
    from engine.services.definitions import find_orchestration  # loads the definitions

    _check_statuses(f.statuses, RunStatus.ALL, "run")
    if f.sort not in RUN_SORTS:
        raise InvalidInput(f"runs sort by {' or '.join(RUN_SORTS)}, not '{f.sort}'")
    conditions: list[ColumnElement[bool]] = []
    if f.orchestration:
        orchestration = find_orchestration(session, f.orchestration)
        conditions.append(RunRow.orchestration_id == orchestration.id)
        if f.version is not None:
            version_id = session.scalar(
                select(VersionRow.id).where(
                    VersionRow.orchestration_id == orchestration.id,
                    VersionRow.number == f.version,
                )
            )
            conditions.append(RunRow.version_id == version_id if version_id else false())
    elif f.version is not None:
        raise InvalidInput("choose the orchestration whose version to show")
    if f.statuses:
        conditions.append(RunRow.status.in_(f.statuses))
    if f.stage:
        conditions.append(RunRow.current_element == f.stage)
    if f.started_from:
        conditions.append(RunRow.started_at >= f.started_from)
    if f.started_to:
        conditions.append(RunRow.started_at < f.started_to)
    if f.ended_from:
        conditions.append(RunRow.ended_at >= f.ended_from)
    if f.ended_to:
        conditions.append(RunRow.ended_at < f.ended_to)
    if f.record_id is not None:
        conditions.append(RunRow.record_id == f.record_id)
    if f.assignee:
        holders = select(WorkItemRow.run_id).where(
            WorkItemRow.status.in_(WorkStatus.OPEN),
            or_(WorkItemRow.assignee == f.assignee, WorkItemRow.claimed_by == f.assignee),
        )
        conditions.append(RunRow.id.in_(holders))
    conditions.extend(search_conditions(f))
    return conditions


def search_conditions(f: RunFilter) -> list[ColumnElement[bool]]:
    """What the runs must hold: a variable's value, a record field's, words of the error."""
    conditions: list[ColumnElement[bool]] = []
    for name, value, what, condition in (
        (f.variable, f.variable_value, "variable", search.variable_condition),
        (f.record_field, f.record_value, "record field", search.record_condition),
    ):
        if value not in (None, ""):
            conditions.append(condition(name, str(value)))
        elif name:
            raise InvalidInput(f"say which value of the {what} '{name}' to look for")
    if f.error_text:
        conditions.append(search.error_condition(f.error_text))
    return conditions


def work_conditions(session: Session, f: WorkFilter) -> list[ColumnElement[bool]]:
    from engine.services.definitions import find_orchestration  # loads the definitions

    _check_statuses(f.statuses, (*WorkStatus.OPEN, "Completed", "Canceled"), "work item")
    if f.sort not in WORK_SORTS:
        raise InvalidInput(f"work items sort by {', '.join(WORK_SORTS)}, not '{f.sort}'")
    if f.sla is not None and f.sla not in SLA_STATES:
        raise InvalidInput(f"'{f.sla}' is not an SLA state; use {', '.join(SLA_STATES)}")
    conditions: list[ColumnElement[bool]] = []
    if f.orchestration:
        conditions.append(
            WorkItemRow.orchestration_id == find_orchestration(session, f.orchestration).id
        )
    if f.stage:
        conditions.append(WorkItemRow.stage == f.stage)
    if f.step:
        conditions.append(WorkItemRow.step == f.step)
    if f.statuses:
        conditions.append(WorkItemRow.status.in_(f.statuses))
    if f.record_id is not None:
        conditions.append(WorkItemRow.record_id == f.record_id)
    if f.run_id is not None:
        conditions.append(WorkItemRow.run_id == f.run_id)
    if f.assignee:
        conditions.append(
            or_(WorkItemRow.assignee == f.assignee, WorkItemRow.claimed_by == f.assignee)
        )
    if f.created_from:
        conditions.append(WorkItemRow.created_at >= f.created_from)
    if f.created_to:
        conditions.append(WorkItemRow.created_at < f.created_to)
    if f.sla:
        conditions.append(sla_condition(f.sla, clock.now()))
    return conditions


def sla_condition(state: str, now: dt.datetime) -> ColumnElement[bool]:
    due, is_open = WorkItemRow.due_at, WorkItemRow.status.in_(WorkStatus.OPEN)
    if state == "overdue":
        return and_(is_open, due < now)
    if state == "due_soon":
        return and_(is_open, due >= now, due < now + DUE_SOON)
    # Said outright beside the OR (which implies it): SQLite reads the due-time index, which
    # holds only the items with a due time, only for a condition it sees at the top.
    dated = due.is_not(None)
    if state == "on_time":
        return and_(
            dated, or_(and_(is_open, due >= now + DUE_SOON), WorkItemRow.completed_at <= due)
        )
    if state == "breached":  # done late, or still open past its due time
        return and_(dated, or_(WorkItemRow.completed_at > due, and_(is_open, due < now)))
    return due.is_(None)


def sla_state(
    status: str, due: dt.datetime | None, done: dt.datetime | None, now: dt.datetime
) -> str:
    """How a work item stands against its due time, in the words the console shows."""
    if due is None:
        return "no due date"
    if status in WorkStatus.OPEN:
        if due < now:
            return "overdue"
        return "due soon" if due < now + DUE_SOON else "on time"
    if status == "Completed" and done is not None and done > due:
        return "done late"
    return "on time" if status == "Completed" else "—"


Cursor = tuple[Any, int]


def paged(
    query: Any,
    key: Any,
    ident: Any,
    *,
    descending: bool,
    limit: int,
    offset: int = 0,
    after: Cursor | None = None,
    before: Cursor | None = None,
    from_end: bool = False,
) -> tuple[Any, bool]:
    """Order and cut ``query`` for one page. Returns the query and whether its rows come in
    reverse (the caller turns them round): reading ``before`` a row, or from the far end."""
    reverse = before is not None or from_end
    down = descending != reverse
    if key is ident:
        order = [ident.desc() if down else ident.asc()]
        pair = ident
    else:
        order = [key.desc(), ident.desc()] if down else [key.asc(), ident.asc()]
        pair = tuple_(key, ident)
    cursor = after if after is not None else before
    if cursor is not None:
        value = (
            bindparam(None, cursor[1], type_=ident.type)
            if key is ident
            else tuple_(
                bindparam(None, cursor[0], type_=key.type),
                bindparam(None, cursor[1], type_=ident.type),
            )
        )
        query = query.where(pair < value if down else pair > value)
    query = query.order_by(*order).limit(limit)
    if offset and cursor is None:
        query = query.offset(offset)
    return query, reverse
