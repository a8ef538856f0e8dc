"""Groups and queues: who is in them, and how much open work waits on them.

``DirectoryService`` (``engine.services.directory``) offers these with the rest of the
people's directory; they live here so each file stays about one thing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.errors import Conflict, InvalidInput, NotFound
from engine.services.context import ServiceContext
from engine.services.dto import Data
from engine.services.permissions import ADMINS, ANYONE
from engine.statuses import WorkStatus
from engine.store.base import utcnow
from engine.store.models import Group, GroupMember, User, WorkItemRow
from engine.text import did_you_mean

GROUP_KINDS = ("group", "queue")
# The names of users, groups and queues.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class GroupInfo(Data):
    kind: str
    name: str
    label: str
    email: str | None
    members: list[str]


@dataclass(frozen=True)
class GroupStatus(Data):
    """A group or queue as the Admin panel shows it: who is in it, who of them can work, and
    how much open work waits on it."""

    group: GroupInfo
    active_members: list[str]
    open_work: int

    @property
    def warning(self) -> str | None:
        """Said when work routed to it can reach nobody."""
        if self.open_work and not self.active_members:
            return (
                f"{self.open_work} open work item(s) wait on {self.group.kind} "
                f"'{self.group.name}', which has no active members: nobody can do them"
            )
        return None


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        names = session.scalars(select(User.username)).all()
        raise NotFound(f"no user named '{username}'{did_you_mean(username, names)}")
    return user


def find_group(session: Session, kind: str, name: str) -> Group:
    group = session.scalar(select(Group).where(Group.kind == kind, Group.name == name))
    if group is None:
        names = session.scalars(select(Group.name).where(Group.kind == kind)).all()
        raise NotFound(f"no {kind} named '{name}'{did_you_mean(name, names)}")
    return group


class GroupMethods:
    """The groups-and-queues half of ``DirectoryService``."""

    context: ServiceContext

    def check_group(
        self, kind: str, name: str | None = None, *, email: str | None = None
    ) -> dict[str, str]:
        """What ``create_group`` would refuse in these values, by field (empty: nothing)."""
        if kind not in GROUP_KINDS:
            raise InvalidInput(f"'{kind}' is not group or queue")
        problems: dict[str, str] = {}
        if email and "@" not in email:
            problems["email"] = f"'{email}' is not an e-mail address"
        if name is not None:
            if not NAME.match(name):
                problems["name"] = (
                    f"'{name}' is not a {kind} name: use letters, digits, '.', '_' or '-'"
                )
            else:
                with self.context.read() as session:
                    self.context.require(session, ANYONE, f"list {kind}s")
                    taken = select(Group.id).where(Group.kind == kind, Group.name == name)
                    if session.scalar(taken) is not None:
                        problems["name"] = f"{kind} '{name}' already exists"
        return problems

    def update_group(
        self,
        kind: str,
        name: str,
        *,
        label: str | None = None,
        email: str | None = None,
    ) -> GroupInfo:
        """Rename a group or queue (its label: the name stays, since definitions and work
        refer to it), or set its shared e-mail address ('' clears it)."""
        if label is not None and not label.strip():
            raise InvalidInput(f"a {kind} needs a label; leave it unchanged or write one")
        if email and "@" not in email:
            raise InvalidInput(f"'{email}' is not an e-mail address")
        with self.context.write() as session:
            self.context.require(session, ADMINS, f"change {kind}s")
            group = find_group(session, kind, name)
            if label is not None:
                group.label = label.strip()
            if email is not None:
                group.email = email.strip() or None
            session.flush()
            return self._group_info(session, group)

    def group_status(self, kind: str) -> list[GroupStatus]:
        """Every group (or queue) with its active members and its open work count."""
        if kind not in GROUP_KINDS:
            raise InvalidInput(f"'{kind}' is not group or queue")
        with self.context.read() as session:
            self.context.require(session, ANYONE, f"list {kind}s")
            groups = list(
                session.scalars(select(Group).where(Group.kind == kind).order_by(Group.name))
            )
            work = dict(
                session.execute(
                    select(WorkItemRow.assignee, func.count())
                    .where(
                        WorkItemRow.assignee_kind == kind,
                        WorkItemRow.status.in_(WorkStatus.OPEN),
                    )
                    .group_by(WorkItemRow.assignee)
                ).all()
            )
            result = []
            for group in groups:
                members = session.execute(
                    select(User.username, User.active)
                    .join(GroupMember, GroupMember.user_id == User.id)
                    .where(GroupMember.group_id == group.id)
                    .order_by(User.username)
                ).all()
                info = GroupInfo(
                    group.kind, group.name, group.label, group.email, [m for m, _ in members]
                )
                result.append(
                    GroupStatus(info, [m for m, a in members if a], int(work.get(group.name, 0)))
                )
            return result

    def create_group(
        self, kind: str, name: str, *, label: str | None = None, email: str | None = None
    ) -> GroupInfo:
        if kind not in GROUP_KINDS:
            raise InvalidInput(f"'{kind}' is not group or queue")
        if not NAME.match(name or ""):
            raise InvalidInput(
                f"'{name}' is not a {kind} name: use letters, digits, '.', '_' or '-'"
            )
        if email and "@" not in email:
            raise InvalidInput(f"'{email}' is not an e-mail address")
        with self.context.write() as session:
            self.context.require(session, ADMINS, f"create {kind}s")
            if session.scalar(select(Group.id).where(Group.kind == kind, Group.name == name)):
                raise Conflict(f"{kind} '{name}' already exists")
            group = Group(
                kind=kind,
                name=name,
                label=label or name.replace("_", " ").title(),
                email=email,
                created_at=utcnow(),
            )
            session.add(group)
            session.flush()
            return self._group_info(session, group)

    def add_member(self, kind: str, name: str, username: str) -> GroupInfo:
        with self.context.write() as session:
            self.context.require(session, ADMINS, f"change {kind} members")
            group = find_group(session, kind, name)
            user = find_user(session, username)
            if session.get(GroupMember, (group.id, user.id)) is None:
                session.add(GroupMember(group_id=group.id, user_id=user.id))
                session.flush()
            return self._group_info(session, group)

    def remove_member(self, kind: str, name: str, username: str) -> GroupInfo:
        with self.context.write() as session:
            self.context.require(session, ADMINS, f"change {kind} members")
            group = find_group(session, kind, name)
            user = find_user(session, username)
            removed = session.execute(
                delete(GroupMember).where(
                    GroupMember.group_id == group.id, GroupMember.user_id == user.id
                )
            )
            if not removed.rowcount:  # type: ignore[attr-defined]
                raise NotFound(f"{username} is not a member of {kind} {name}")
            return self._group_info(session, group)

    def groups(self, kind: str) -> Sequence[GroupInfo]:
        with self.context.read() as session:
            self.context.require(session, ANYONE, f"list {kind}s")
            rows = session.scalars(select(Group).where(Group.kind == kind).order_by(Group.name))
            return [self._group_info(session, g) for g in rows]

    @staticmethod
    def _group_info(session: Session, group: Group) -> GroupInfo:
        members = session.scalars(
            select(User.username)
            .join(GroupMember, GroupMember.user_id == User.id)
            .where(GroupMember.group_id == group.id)
            .order_by(User.username)
        ).all()
        return GroupInfo(group.kind, group.name, group.label, group.email, list(members))
