"""Whose work is whose: the groups and queues a person belongs to, and the SQL condition for
the work items they may see. Light on purpose: listing work loads nothing of the runtime."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from engine.store.models import Group, GroupMember, User, WorkItemRow


def memberships(session: Session, username: str) -> list[tuple[str, str]]:
    """(kind, name) of every group and queue ``username`` belongs to."""
    rows = session.execute(
        select(Group.kind, Group.name)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .join(User, User.id == GroupMember.user_id)
        .where(User.username == username)
    ).all()
    return [(kind, name) for kind, name in rows]


def visible_to(session: Session, username: str) -> ColumnElement[bool]:
    """SQL condition: items assigned to ``username`` or to one of their groups or queues."""
    conditions = [and_(WorkItemRow.assignee_kind == "user", WorkItemRow.assignee == username)]
    by_kind: dict[str, list[str]] = {}
    for kind, name in memberships(session, username):
        by_kind.setdefault(kind, []).append(name)
    for kind, names in by_kind.items():
        conditions.append(and_(WorkItemRow.assignee_kind == kind, WorkItemRow.assignee.in_(names)))
    return or_(*conditions)
