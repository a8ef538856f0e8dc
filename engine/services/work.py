"""Work items: list what a person can do, claim, release, complete.

The runtime (and the definitions it runs) is imported by the methods that act on work, so
listing work — the Inbox's page, ``baton work list`` — loads only the store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from engine.errors import BatonError, InvalidInput, NotFound, PermissionDenied
from engine.runtime.visibility import visible_to
from engine.services.context import ServiceContext
from engine.services.dto import Data, WorkItemInfo
from engine.services.infos import record_info, work_item_info
from engine.services.permissions import ANYONE, STAFF
from engine.statuses import WorkStatus
from engine.store.models import (
    ObjectTypeRow,
    OrchestrationRow,
    RecordRow,
    RunRow,
    User,
    WorkItemRow,
)
from engine.store.rows import RunRec, Tx, WorkItemRec


@dataclass(frozen=True)
class ItemDetails(Data):
    """Everything a person needs to do a work item: its form and its context."""

    item: WorkItemInfo
    form: dict[str, Any]
    instructions: str | None
    record: dict[str, Any] | None
    record_title: str | None
    progress: list[tuple[str, str, str | None]]  # (stage, label, status) in order
    earlier_outputs: dict[str, dict[str, Any]]  # 'stage.step' → outputs
    # What the run is about: its input variables that have a value, label → value, in the
    # order the orchestration declares them (a run with no record has no other context).
    about: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class ItemOutcome(Data):
    """What happened to one item of a bulk operation."""

    item_id: int
    done: bool
    message: str


# The Inbox's sorts: each a column people click, ordered in SQL with a unique tie-breaker.
INBOX_SORTS = ("priority", "item", "orchestration", "stage", "assignee", "due", "age")
ASSIGNEE_KINDS = ("user", "group", "queue")


def _ordering(sort: str, descending: bool) -> list[Any]:
    """ORDER BY for ``sort``: work without a due date comes last either way."""
    column: Any = {
        "item": WorkItemRow.title,
        "orchestration": OrchestrationRow.name,
        "stage": WorkItemRow.stage,
        "assignee": WorkItemRow.assignee,
        "due": WorkItemRow.due_at,
        "age": WorkItemRow.created_at,
    }.get(sort)
    if column is None:  # priority: the most urgent first, then the soonest due
        first = [WorkItemRow.priority.asc() if descending else WorkItemRow.priority.desc()]
        return [*first, WorkItemRow.due_at.is_(None), WorkItemRow.due_at, WorkItemRow.id]
    if sort == "age":  # the youngest first: the latest created
        descending = not descending
    tie = WorkItemRow.id.desc() if descending else WorkItemRow.id.asc()
    keys: list[Any] = [column.desc() if descending else column.asc(), tie]
    if sort == "due":
        keys.insert(0, WorkItemRow.due_at.is_(None))
    return keys


def record_titles(session: Session, record_ids: set[int | None]) -> dict[int | None, str]:
    """The titles of a page's records, in one query."""
    if not record_ids:
        return {}
    rows = session.execute(
        select(RecordRow, ObjectTypeRow)
        .join(ObjectTypeRow, ObjectTypeRow.id == RecordRow.object_type_id)
        .where(RecordRow.id.in_(record_ids))
    ).all()
    return {record.id: record_info(record, kind).title for record, kind in rows}


def _infos(session: Session, rows: Sequence[Any]) -> list[WorkItemInfo]:
    """Rows of (work item, orchestration name) as the lists show them, with record titles."""
    titles = record_titles(session, {item.record_id for item, _ in rows if item.record_id})
    return [
        dataclasses.replace(work_item_info(item, name), record_title=titles.get(item.record_id))
        for item, name in rows
    ]


class WorkService:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    def _acting_as(self, session: Session, user: str | None, action: str) -> str:
        """The user whose work this is: the caller, or anyone when the system acts."""
        who = self.context.require(session, ANYONE, action)
        username = user or who.username
        if not username:
            raise InvalidInput("say whose work this is (--user)")
        if who.username is not None and username != who.username:
            raise PermissionDenied(
                f"{who.describe()} cannot {action} as {username}: people act on work as themselves"
            )
        return username

    def _whose_work(self, session: Session, user: str | None, action: str) -> str | None:
        """Whose work the caller may list or count: their own, or (staff only) anyone's, or
        everyone's (None). One rule, so a count never tells what the list would not show."""
        who = self.context.require(session, ANYONE, action)
        if user is None and not who.is_staff:
            user = who.username
        if user is not None and user != who.username and not who.is_staff:
            raise PermissionDenied(
                f"{who.describe()} cannot see {user}'s work: that needs the admin or "
                "supervisor role"
            )
        if (
            user is not None
            and session.scalar(select(User.id).where(User.username == user)) is None
        ):
            raise NotFound(f"no user named '{user}'")
        return user

    def list(
        self,
        *,
        user: str | None = None,
        record_id: int | None = None,
        include_closed: bool = False,
        hide_claimed_by_others: bool = False,
        text: str | None = None,
        due_before: dt.datetime | None = None,
        assignee_kind: str | None = None,
        sort: str = "priority",
        descending: bool = False,
        limit: int = 200,
        offset: int = 0,
    ) -> list[WorkItemInfo]:
        """Open items of ``user`` and their groups and queues. Staff may list anyone's, or
        everyone's (no ``user``); others see their own.

        Filtered and sorted in SQL, so every page is full until the last: ``text`` matches
        the title, stage, step, orchestration or assignee; ``hide_claimed_by_others`` leaves
        out what someone else has claimed (theirs until released); ``due_before`` keeps what
        is due before that moment (overdue included); ``assignee_kind`` ('user', 'group' or
        'queue') keeps what is assigned to that kind. ``sort`` is one of ``INBOX_SORTS``."""
        with self.context.read() as session:
            query = self._list_query(
                session,
                user,
                record_id,
                include_closed,
                hide_claimed_by_others,
                text,
                sort,
                descending,
                due_before=due_before,
                assignee_kind=assignee_kind,
            )
            rows = session.execute(query.limit(limit).offset(offset)).all()
            return _infos(session, rows)

    def stream(
        self,
        *,
        user: str | None = None,
        include_closed: bool = False,
        hide_claimed_by_others: bool = False,
        text: str | None = None,
        due_before: dt.datetime | None = None,
        assignee_kind: str | None = None,
        sort: str = "priority",
        descending: bool = False,
        page_size: int = 1000,
    ) -> Iterator[Sequence[WorkItemInfo]]:
        """Every item ``list`` would page through with the same filters, a page at a time
        (for an export). One query read as it goes, in one read transaction: the pages are
        one moment's list (the Inbox's sorts have no unique key to read by keyset), and no
        more than a page is held at once."""
        with self.context.read() as session:
            query = self._list_query(
                session,
                user,
                None,
                include_closed,
                hide_claimed_by_others,
                text,
                sort,
                descending,
                due_before=due_before,
                assignee_kind=assignee_kind,
            )
            result = session.execute(query.execution_options(yield_per=page_size))
            for rows in result.partitions():
                yield _infos(session, rows)

    def _list_query(
        self,
        session: Session,
        user: str | None,
        record_id: int | None,
        include_closed: bool,
        hide_claimed_by_others: bool,
        text: str | None,
        sort: str,
        descending: bool,
        *,
        due_before: dt.datetime | None = None,
        assignee_kind: str | None = None,
    ) -> Any:
        if sort not in INBOX_SORTS:
            raise InvalidInput(
                f"cannot sort work by '{sort}': choose one of {', '.join(INBOX_SORTS)}"
            )
        user = self._whose_work(session, user, "list work")
        conditions = self._conditions(
            session,
            user,
            record_id,
            include_closed,
            hide_claimed_by_others,
            text,
            due_before=due_before,
            assignee_kind=assignee_kind,
        )
        return (
            select(WorkItemRow, OrchestrationRow.name)
            .join(OrchestrationRow, OrchestrationRow.id == WorkItemRow.orchestration_id)
            .where(*conditions)
            .order_by(*_ordering(sort, descending))
        )

    @staticmethod
    def _conditions(
        session: Session,
        user: str | None,
        record_id: int | None,
        include_closed: bool,
        hide_claimed_by_others: bool,
        text: str | None,
        *,
        due_before: dt.datetime | None = None,
        assignee_kind: str | None = None,
    ) -> Sequence[ColumnElement[bool]]:
        """The WHERE of a list and of its count: one place, so they always agree."""
        conditions: list[ColumnElement[bool]] = []
        if assignee_kind is not None:
            if assignee_kind not in ASSIGNEE_KINDS:
                raise InvalidInput(
                    f"cannot list work assigned to a '{assignee_kind}': choose one of "
                    f"{', '.join(ASSIGNEE_KINDS)}"
                )
            conditions.append(WorkItemRow.assignee_kind == assignee_kind)
        if due_before is not None:
            conditions.append(WorkItemRow.due_at.is_not(None))
            conditions.append(WorkItemRow.due_at < due_before)
        if user is not None:
            conditions.append(visible_to(session, user))
            if hide_claimed_by_others:
                conditions.append(
                    or_(WorkItemRow.claimed_by.is_(None), WorkItemRow.claimed_by == user)
                )
        if record_id is not None:  # the Work Guide: work about one record
            conditions.append(WorkItemRow.record_id == record_id)
        if not include_closed:
            conditions.append(WorkItemRow.status.in_(WorkStatus.OPEN))
        words = (text or "").strip().lower()
        if words:
            columns = (
                WorkItemRow.title,
                WorkItemRow.stage,
                WorkItemRow.step,
                WorkItemRow.assignee,
                OrchestrationRow.name,
            )
            conditions.append(
                or_(*(func.lower(c).contains(words, autoescape=True) for c in columns))
            )
        return conditions

    def get(self, item_id: int) -> WorkItemInfo:
        with self.context.read() as session:
            who = self.context.require(session, ANYONE, "look at work items")
            row = session.execute(
                select(WorkItemRow, OrchestrationRow.name)
                .join(OrchestrationRow, OrchestrationRow.id == WorkItemRow.orchestration_id)
                .where(WorkItemRow.id == item_id)
            ).first()
            if row is None:
                raise NotFound(f"no work item with id {item_id}")
            item = row[0]
            if not who.is_staff and who.username is not None:
                visible = session.execute(
                    select(WorkItemRow.id).where(
                        WorkItemRow.id == item_id, visible_to(session, who.username)
                    )
                ).first()
                if visible is None:
                    raise PermissionDenied(f"work item {item_id} is not {who.username}'s work")
            return work_item_info(item, row[1])

    def open_counts(self, targets: Sequence[str]) -> dict[str, int]:
        """Open work held by each target ("alice", "queue:legal", "group:security"), for
        choosing whom to give more (supervisors and admins: it tells whose work is whose)."""
        with self.context.read() as session:
            self.context.require(session, STAFF, "see how much work people hold")
            wanted: dict[tuple[str, str], str] = {}
            for target in targets:
                kind, sep, name = target.partition(":")
                wanted[(kind, name) if sep and kind in ("queue", "group") else ("user", target)] = (
                    target
                )
            if not wanted:
                return {}
            rows = session.execute(
                select(WorkItemRow.assignee_kind, WorkItemRow.assignee, func.count())
                .where(
                    WorkItemRow.status.in_(WorkStatus.OPEN),
                    WorkItemRow.assignee.in_(sorted({name for _, name in wanted})),
                )
                .group_by(WorkItemRow.assignee_kind, WorkItemRow.assignee)
            ).all()
            counts = dict.fromkeys(wanted.values(), 0)
            for kind, name, count in rows:
                found = wanted.get((kind, name))
                if found is not None:
                    counts[found] = int(count)
            return counts

    def count(
        self,
        *,
        user: str | None = None,
        record_id: int | None = None,
        include_closed: bool = False,
        hide_claimed_by_others: bool = False,
        text: str | None = None,
        due_before: dt.datetime | None = None,
        assignee_kind: str | None = None,
    ) -> int:
        """How many items ``list`` would page through with the same filters."""
        with self.context.read() as session:
            user = self._whose_work(session, user, "count work")
            conditions = self._conditions(
                session,
                user,
                record_id,
                include_closed,
                hide_claimed_by_others,
                text,
                due_before=due_before,
                assignee_kind=assignee_kind,
            )
            query = select(func.count()).select_from(WorkItemRow).where(*conditions)
            if text and text.strip():  # the text may match the orchestration's name
                query = query.join(
                    OrchestrationRow, OrchestrationRow.id == WorkItemRow.orchestration_id
                )
            return int(session.scalar(query) or 0)

    def details(self, item_id: int) -> ItemDetails:
        """The item with its form (from its run's version) and the context to do it."""
        from engine.definitions.model import InteractiveStep, label_of
        from engine.runtime.context import definition_for, record_context, stage_of

        info = self.get(item_id)  # also checks the caller may see it
        with self.context.read() as session:
            run = session.get_one(RunRow, info.run_id)
            pinned = definition_for(session, run.version_id)
            definition = pinned.definition
            step = next(s for s in stage_of(definition, info.stage).steps if s.name == info.step)
            assert isinstance(step, InteractiveStep) and step.form is not None
            form = definition.forms[step.form]
            record = record_title = None
            if run.record_id is not None:
                row = session.get(RecordRow, run.record_id)
                if row is not None:
                    object_type = session.get_one(ObjectTypeRow, row.object_type_id)
                    record = record_context(row)
                    record_title = record_info(row, object_type).title
            state = run.state or {}
            progress = [
                (s.name, label_of(s), state.get(s.name, {}).get("status"))
                for s in definition.stages()
            ]
            outputs = {
                f"{stage}.{name}": dict(entry.get("outputs") or {})
                for stage, stage_state in state.items()
                for name, entry in stage_state.items()
                if isinstance(entry, dict) and entry.get("outputs")
            }
            variables = run.variables or {}
            about = {
                label_of(v): variables[v.name]
                for v in definition.variables
                if v.input and variables.get(v.name) not in (None, "")
            }
            return ItemDetails(
                item=info,
                form=form.model_dump(mode="json"),
                instructions=form.instructions,
                record=record,
                record_title=record_title,
                progress=progress,
                earlier_outputs=outputs,
                about=about,
            )

    def complete(
        self,
        item_id: int,
        values: dict[str, Any] | None = None,
        *,
        user: str | None = None,
        outcome: str | None = None,
        comment: str | None = None,
    ) -> WorkItemInfo:
        from engine.runtime import work as runtime_work

        with self.context.write() as session:
            username = self._acting_as(session, user, "complete work")
            item = runtime_work.complete_work_item(
                session, item_id, username, values or {}, outcome=outcome, comment=comment
            )
            return self._info(session, item)

    def claim(self, item_id: int, *, user: str | None = None) -> WorkItemInfo:
        from engine.runtime import work as runtime_work

        with self.context.write() as session:
            username = self._acting_as(session, user, "claim work")
            return self._info(session, runtime_work.claim(session, item_id, username))

    def release(self, item_id: int, *, user: str | None = None) -> WorkItemInfo:
        from engine.runtime import work as runtime_work

        with self.context.write() as session:
            username = self._acting_as(session, user, "release work")
            return self._info(session, runtime_work.release(session, item_id, username))

    def reassign(self, item_ids: Sequence[int], to: str, reason: str) -> Sequence[ItemOutcome]:
        """Reassign each item, each in its own transaction; say what was done and what not."""
        from engine.runtime import work as runtime_work

        outcomes = []
        for item_id in item_ids:
            try:
                with self.context.write() as session:
                    who = self.context.require(session, ANYONE, "reassign work")
                    item = runtime_work.reassign(
                        session, item_id, to, reason, who.username, staff=who.is_staff
                    )
                    message = f"reassigned to {item.assignee_kind} {item.assignee}"
                outcomes.append(ItemOutcome(item_id, True, message))
            except BatonError as exc:
                outcomes.append(ItemOutcome(item_id, False, exc.message))
        return outcomes

    @staticmethod
    def _info(session: Session, item: WorkItemRec) -> WorkItemInfo:
        from engine.runtime.context import definition_for

        run = Tx.of(session).get_one(RunRec, item.run_id)
        return work_item_info(item, definition_for(session, run.version_id).orchestration)
