"""Who may do what. Every service operation names what it needs here, before changing anything.

- admin: designs and manages everything (definitions, people, calendars, settings).
- supervisor: monitors and intervenes (every run and work item, cancel, reassign, events).
- user: sees and acts on their own work and their groups' and queues' work; starts runs and
  works with records.

``actor=None`` is the system itself (the worker, trusted Python code, a fresh install that has
no users yet), which may do everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from engine.errors import PermissionDenied
from engine.store.models import User
from engine.store.prepared import Prepared
from engine.store.rows import Tx

ADMIN, SUPERVISOR, USER, SYSTEM = "admin", "supervisor", "user", "system"
ROLES = (ADMIN, SUPERVISOR, USER)
ANYONE = frozenset(ROLES)
STAFF = frozenset({ADMIN, SUPERVISOR})
ADMINS = frozenset({ADMIN})

_users = User.__table__
_ROLE_OF = Prepared(
    select(_users.c.role, _users.c.active).where(_users.c.username == bindparam("u"))
)


@dataclass(frozen=True)
class Caller:
    username: str | None
    role: str

    @property
    def is_staff(self) -> bool:
        return self.role in (ADMIN, SUPERVISOR, SYSTEM)

    def describe(self) -> str:
        return "the system" if self.username is None else f"{self.username} ({self.role})"


def caller(session: Session, actor: str | None) -> Caller:
    """Who is acting. A database with no users at all is being set up: its caller is admin."""
    if actor is None:
        return Caller(None, SYSTEM)
    rows = _ROLE_OF.rows(Tx.of(session).connection, {"u": actor})
    row = (rows[0]["role"], rows[0]["active"]) if rows else None
    if row is None:
        if not session.scalar(select(func.count()).select_from(_users)):
            return Caller(actor, ADMIN)
        raise PermissionDenied(f"'{actor}' is not a Baton user")
    if not row[1]:
        raise PermissionDenied(f"'{actor}' is deactivated and can do nothing in Baton")
    return Caller(actor, str(row[0]))


def require(session: Session, actor: str | None, allowed: frozenset[str], action: str) -> Caller:
    """The caller, if their role allows ``action``; else a PermissionDenied saying why."""
    who = caller(session, actor)
    if who.role == SYSTEM or who.role in allowed:
        return who
    needed = " or ".join(sorted(allowed))
    raise PermissionDenied(f"{who.describe()} cannot {action}: that needs the {needed} role")
