"""Work items: list what a person can do, claim, release, complete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.runtime import work as runtime_work
from engine.runtime.context import definition_for
from engine.runtime.statuses import WorkStatus
from engine.services.context import ServiceContext
from engine.services.dto import Data, WorkItemInfo
from engine.services.errors import BatonError, InvalidInput, NotFound, PermissionDenied
from engine.services.permissions import ANYONE
from engine.services.runs import work_item_info
from engine.store.models import OrchestrationRow, User, WorkItemRow
from engine.store.rows import RunRec, Tx, WorkItemRec


@dataclass(frozen=True)
class ItemOutcome(Data):
    """What happened to one item of a bulk operation."""

    item_id: int
    done: bool
    message: str


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

    def list(
        self,
        *,
        user: str | None = None,
        include_closed: bool = False,
        limit: int = 200,
        offset: int = 0,
    ) -> list[WorkItemInfo]:
        """Open items of ``user`` and their groups and queues. Staff may list anyone's, or
        everyone's (no ``user``); others see their own."""
        with self.context.read() as session:
            who = self.context.require(session, ANYONE, "list work")
            if user is None and not who.is_staff:
                user = who.username
            if user is not None and user != who.username and not who.is_staff:
                raise PermissionDenied(
                    f"{who.describe()} cannot see {user}'s work: that needs the admin or "
                    "supervisor role"
                )
            query = select(WorkItemRow, OrchestrationRow.name).join(
                OrchestrationRow, OrchestrationRow.id == WorkItemRow.orchestration_id
            )
            if user is not None:
                if session.scalar(select(User.id).where(User.username == user)) is None:
                    raise NotFound(f"no user named '{user}'")
                query = query.where(runtime_work.visible_to(session, user))
            if not include_closed:
                query = query.where(WorkItemRow.status.in_(WorkStatus.OPEN))
            query = query.order_by(WorkItemRow.priority.desc(), WorkItemRow.due_at, WorkItemRow.id)
            rows = session.execute(query.limit(limit).offset(offset)).all()
            return [work_item_info(item, name) for item, name in rows]

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
                        WorkItemRow.id == item_id, runtime_work.visible_to(session, who.username)
                    )
                ).first()
                if visible is None:
                    raise PermissionDenied(f"work item {item_id} is not {who.username}'s work")
            return work_item_info(item, row[1])

    def complete(
        self,
        item_id: int,
        values: dict[str, Any] | None = None,
        *,
        user: str | None = None,
        outcome: str | None = None,
        comment: str | None = None,
    ) -> WorkItemInfo:
        with self.context.write() as session:
            username = self._acting_as(session, user, "complete work")
            item = runtime_work.complete_work_item(
                session, item_id, username, values or {}, outcome=outcome, comment=comment
            )
            return self._info(session, item)

    def claim(self, item_id: int, *, user: str | None = None) -> WorkItemInfo:
        with self.context.write() as session:
            username = self._acting_as(session, user, "claim work")
            return self._info(session, runtime_work.claim(session, item_id, username))

    def release(self, item_id: int, *, user: str | None = None) -> WorkItemInfo:
        with self.context.write() as session:
            username = self._acting_as(session, user, "release work")
            return self._info(session, runtime_work.release(session, item_id, username))

    def reassign(self, item_ids: Sequence[int], to: str, reason: str) -> Sequence[ItemOutcome]:
        """Reassign each item, each in its own transaction; say what was done and what not."""
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
        run = Tx.of(session).get_one(RunRec, item.run_id)
        return work_item_info(item, definition_for(session, run.version_id).orchestration)
