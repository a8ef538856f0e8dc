"""The outbox: outgoing e-mail, as supervisors see it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.services.context import ServiceContext
from engine.services.errors import InvalidInput
from engine.services.permissions import STAFF
from engine.store.models import OutboxRow

STATUSES = ("pending", "sending", "sent", "failed")


class OutboxService:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    def list(self, *, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"'{status}' is not one of {', '.join(STATUSES)}")
        with self.context.read() as session:
            self.context.require(session, STAFF, "read the outbox")
            query = select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit)
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
