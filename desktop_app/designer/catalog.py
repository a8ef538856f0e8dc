"""What the designer offers to choose from, read from the database in the background: people,
groups and queues (with how many members), record types and their fields, calendars and
other orchestrations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from engine.errors import PermissionDenied
from engine.services.baton import Baton

T = TypeVar("T")


@dataclass
class Catalog:
    users: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    queues: dict[str, int] = field(default_factory=dict)  # name → active members
    objects: dict[str, list[str]] = field(default_factory=dict)  # type → field names
    object_fields: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # type → specs
    calendars: list[str] = field(default_factory=list)
    orchestrations: list[str] = field(default_factory=list)

    def choices(self) -> dict[str, list[str]]:
        """Choices for the property panel, by 'Model.field'."""
        return {
            "Assignee.user": self.users,
            "Assignee.group": self.groups,
            "Assignee.queue": sorted(self.queues),
            "Trigger.object": sorted(self.objects),
            "CreateRecord.object": sorted(self.objects),
            "Orchestration.calendar": self.calendars,
            "StartOrchestration.orchestration": self.orchestrations,
            # who hears of a failed run: a person, a queue or a group (an address typed works)
            "Orchestration.error_recipients": [
                *self.users,
                *(f"queue:{q}" for q in sorted(self.queues)),
                *(f"group:{g}" for g in self.groups),
            ],
        }


def _allowed(read: Callable[[], Sequence[T]]) -> Sequence[T]:
    try:
        return read()
    except PermissionDenied:  # what this person may not see is simply not offered
        return []


def read_catalog(baton: Baton) -> Catalog:
    """Called off the GUI thread."""
    users = _allowed(baton.directory.users)
    active = {u.username for u in users if u.active}
    queues = _allowed(lambda: baton.directory.groups("queue"))
    types = _allowed(baton.records.types)
    return Catalog(
        users=sorted(active),
        groups=[g.name for g in _allowed(lambda: baton.directory.groups("group"))],
        queues={g.name: sum(1 for m in g.members if m in active) for g in queues},
        objects={t.name: [str(f.get("name")) for f in t.fields] for t in types},
        object_fields={t.name: list(t.fields) for t in types},
        calendars=[c.name for c in _allowed(baton.calendars.list)],
        orchestrations=[o.name for o in _allowed(baton.definitions.list)],
    )
