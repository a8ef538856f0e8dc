"""Resolving an assignee rule to a user, group or queue that can do the work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from engine.definitions.model import Assignee
from engine.store.models import Group, GroupMember, User
from engine.store.prepared import Prepared
from engine.store.rows import Tx


class AssignmentError(Exception):
    """The rule names nobody who can do the work."""


USERS_KEY = "baton_users"
_users = User.__table__
_PERSON = Prepared(
    select(_users.c.username, _users.c.active, _users.c.email).where(
        _users.c.username == bindparam("username")
    )
)


@dataclass(frozen=True)
class Person:
    username: str
    active: bool
    email: str | None


def person(session: Session, username: str) -> Person | None:
    """A user as work assignment needs them, read once per transaction."""
    cache: dict[str, Person | None] = session.info.setdefault(USERS_KEY, {})
    if username not in cache:
        rows = _PERSON.rows(Tx.of(session).connection, {"username": username})
        row = rows[0] if rows else None
        cache[username] = (
            Person(row["username"], bool(row["active"]), row["email"]) if row else None
        )
    return cache[username]


def remember_person(session: Session, username: str, found: Person | None) -> None:
    """Record a user read along with something else, so ``person`` need not read it again."""
    session.info.setdefault(USERS_KEY, {})[username] = found


def _user(session: Session, username: str, rule: str) -> tuple[str, str]:
    user = person(session, username)
    if user is None:
        raise AssignmentError(f"{rule} names user '{username}', who does not exist")
    if not user.active:
        raise AssignmentError(f"{rule} names user '{username}', who is deactivated")
    return "user", username


def _group(session: Session, kind: str, name: str, rule: str) -> tuple[str, str]:
    with session.no_autoflush:  # transitions never change groups
        group = session.scalar(select(Group).where(Group.kind == kind, Group.name == name))
        if group is None:
            raise AssignmentError(f"{rule} names {kind} '{name}', which does not exist")
        members = session.scalar(
            select(func.count())
            .select_from(GroupMember)
            .join(User, User.id == GroupMember.user_id)
            .where(GroupMember.group_id == group.id, User.active.is_(True))
        )
    if not members:
        raise AssignmentError(f"{rule} names {kind} '{name}', which has no active members")
    return kind, name


def resolve_assignee(
    session: Session, rule: Assignee, evaluate: Callable[[str], Any]
) -> tuple[str, str]:
    """(kind, name) with kind 'user', 'group' or 'queue'; raises AssignmentError."""
    if rule.user:
        return _user(session, rule.user, "the rule")
    if rule.group:
        return _group(session, "group", rule.group, "the rule")
    if rule.queue:
        return _group(session, "queue", rule.queue, "the rule")
    assert rule.expression is not None
    value = evaluate(rule.expression)
    described = f"the rule '{rule.expression}'"
    if value is None or value == "":
        raise AssignmentError(f"{described} resolved to nobody")
    if not isinstance(value, str):
        raise AssignmentError(f"{described} resolved to {value!r}, not a username")
    for prefix in ("queue:", "group:"):
        if value.startswith(prefix):
            return _group(session, prefix[:-1], value[len(prefix) :], described)
    return _user(session, value, described)
