"""External events, published by name and correlation key."""

from __future__ import annotations

from typing import Any

from engine.errors import InvalidInput
from engine.runtime.worker import publish_event
from engine.services.context import ServiceContext
from engine.services.dto import EventInfo
from engine.services.limits import json_problems, text_problems
from engine.services.permissions import STAFF
from engine.store.models import EventRow


class EventsService:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    def publish(self, name: str, key: str, data: dict[str, Any] | None = None) -> EventInfo:
        if not name.strip() or not key.strip():
            raise InvalidInput("an event needs a name and a correlation key")
        if data is not None and not isinstance(data, dict):
            raise InvalidInput('event data must be a JSON object, e.g. {"approved": true}')
        problems = text_problems(EventRow, {"name": name, "key": key})
        problems += json_problems(data or {}, "data")
        if problems:
            raise InvalidInput("the event cannot be published", problems)
        with self.context.write() as session:
            self.context.require(session, STAFF, "publish events")
            event_id, step_run_id = publish_event(
                session, name, key, data or {}, self.context.actor
            )
            row = session.get_one(EventRow, event_id)
            return EventInfo(
                row.id, row.name, row.key, dict(row.data), row.received_at, step_run_id
            )
