"""The outbox: outgoing e-mail, as supervisors see it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from engine.errors import Conflict, InvalidInput, NotFound
from engine.services.context import ServiceContext
from engine.services.permissions import STAFF
from engine.store.base import utcnow
from engine.store.models import OutboxRow
from engine.store.rows import OutboxRec, Tx

STATUSES = ("pending", "sending", "sent", "failed")


class OutboxService:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    def list(
        self, *, status: str | None = None, limit: int = 200, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Messages, newest first; ``offset`` pages through a long outbox."""
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"'{status}' is not one of {', '.join(STATUSES)}")
        if limit < 0 or offset < 0:
            raise InvalidInput("a limit and an offset cannot be negative")
        with self.context.read() as session:
            self.context.require(session, STAFF, "read the outbox")
            query = select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit).offset(offset)
            if status:
                query = query.where(OutboxRow.status == status)
            return [
                {
                    "id": r.id,
                    "status": r.status,
                    "recipient": r.recipient,
                    "subject": r.subject,
                    "body": r.body,
                    "attempts": r.attempts,
                    "created_at": r.created_at,
                    "sent_at": r.sent_at,
                    "last_error": r.last_error,
                    "run_id": r.run_id,
                }
                for r in session.scalars(query)
            ]

    def count(self, *, status: str | None = None) -> int:
        """How many messages the outbox holds (with ``status``, if given)."""
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"'{status}' is not one of {', '.join(STATUSES)}")
        with self.context.read() as session:
            self.context.require(session, STAFF, "read the outbox")
            query = select(func.count()).select_from(OutboxRow)
            if status:
                query = query.where(OutboxRow.status == status)
            return int(session.scalar(query) or 0)

    def retry(self, message_id: int) -> None:
        """Send a failed message again: it is pending from now, with its attempts counted
        afresh (the worker delivers it on its next pass)."""
        with self.context.write() as session:
            self.context.require(session, STAFF, "retry outgoing e-mail")
            row = Tx.of(session).get(OutboxRec, message_id, lock=True)  # Tx announces it
            if row is None:
                raise NotFound(f"no outgoing message with id {message_id}")
            if row.status != "failed":
                raise Conflict(
                    f"message {message_id} is {row.status}, not failed: only failed messages "
                    "are retried"
                )
            row.status = "pending"
            row.attempts = 0
            row.next_attempt_at = utcnow()
