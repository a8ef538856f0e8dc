"""Work items: list what a person can do, claim, release, complete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.runtime import work as runtime_work
from engine.runtime.context import definition_for
from engine.runtime.statuses import WorkStatus
from engine.services.context import ServiceContext
from engine.services.dto import WorkItemInfo
from engine.services.errors import InvalidInput, NotFound
from engine.services.runs import work_item_info
from engine.store.models import OrchestrationRow, User, WorkItemRow
from engine.store.rows import RunRec, Tx, WorkItemRec


class WorkService:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    def _user(self, user: str | None) -> str:
        username = user or self.context.actor
        if not username:
            raise InvalidInput("say whose work this is (--user)")
        return username

    def list(
        self,
        *,
        user: str | None = None,
        include_closed: bool = False,
        limit: int = 200,
        offset: int = 0,
    ) -> list[WorkItemInfo]:
        """Open items of ``user`` (and their groups and queues); all open items without one."""
        with self.context.read() as session:
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
            row = session.execute(
                select(WorkItemRow, OrchestrationRow.name)
                .join(OrchestrationRow, OrchestrationRow.id == WorkItemRow.orchestration_id)
                .where(WorkItemRow.id == item_id)
            ).first()
            if row is None:
                raise NotFound(f"no work item with id {item_id}")
            return work_item_info(row[0], row[1])

    def complete(
        self,
        item_id: int,
        values: dict[str, Any] | None = None,
        *,
        user: str | None = None,
        outcome: str | None = None,
        comment: str | None = None,
    ) -> WorkItemInfo:
        username = self._user(user)
        with self.context.write() as session:
            item = runtime_work.complete_work_item(
                session, item_id, username, values or {}, outcome=outcome, comment=comment
            )
            return self._info(session, item)

    def claim(self, item_id: int, *, user: str | None = None) -> WorkItemInfo:
        with self.context.write() as session:
            return self._info(session, runtime_work.claim(session, item_id, self._user(user)))

    def release(self, item_id: int, *, user: str | None = None) -> WorkItemInfo:
        with self.context.write() as session:
            return self._info(session, runtime_work.release(session, item_id, self._user(user)))

    @staticmethod
    def _info(session: Session, item: WorkItemRec) -> WorkItemInfo:
        run = Tx.of(session).get_one(RunRec, item.run_id)
        return work_item_info(item, definition_for(session, run.version_id).orchestration)
