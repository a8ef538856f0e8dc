"""People: users, groups and queues, passwords, roles, and the install's owner."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.runtime.statuses import WorkStatus
from engine.runtime.work import release_claim
from engine.services.context import ServiceContext
from engine.services.dto import Data, UserInfo
from engine.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.services.permissions import ADMINS, ANYONE, ROLES
from engine.store.base import utcnow
from engine.store.log import write_log
from engine.store.models import Group, GroupMember, SettingRow, User
from engine.store.rows import Tx, WorkItemRec
from engine.text import did_you_mean

GROUP_KINDS = ("group", "queue")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MIN_PASSWORD = 8
_hasher = PasswordHasher()
_items = WorkItemRec.table()


@dataclass(frozen=True)
class GroupInfo(Data):
    kind: str
    name: str
    label: str
    email: str | None
    members: list[str]


@dataclass(frozen=True)
class Deactivation(Data):
    username: str
    claims_released: int
    items_flagged: int


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


def user_info(session: Session, user: User) -> UserInfo:
    rows = session.execute(
        select(Group.kind, Group.name)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.user_id == user.id)
        .order_by(Group.name)
    ).all()
    return UserInfo(
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        role=user.role,
        active=user.active,
        groups=[n for k, n in rows if k == "group"],
        queues=[n for k, n in rows if k == "queue"],
    )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"'{role}' is not a role; use one of {', '.join(ROLES)}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters")


class DirectoryService:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    # ------------------------------------------------------------ users

    def create_user(
        self,
        username: str,
        *,
        display_name: str | None = None,
        email: str | None = None,
        role: str = "user",
        password: str | None = None,
    ) -> UserInfo:
        _check_role(role)
        if not USERNAME.match(username or ""):
            raise InvalidInput(
                f"'{username}' is not a username: start with a letter or digit, then use "
                "letters, digits, '.', '_' or '-'"
            )
        if email is not None and "@" not in email:
            raise InvalidInput(f"'{email}' is not an e-mail address")
        if password is not None:
            _check_password(password)
        with self.context.write() as session:
            self.context.require(session, ADMINS, "create users")
            if session.scalar(select(User.id).where(User.username == username)) is not None:
                raise Conflict(f"user '{username}' already exists")
            user = User(
                username=username,
                display_name=display_name or username,
                email=email,
                role=role,
                active=True,
                password_hash=_hasher.hash(password) if password else None,
                created_at=utcnow(),
            )
            session.add(user)
            session.flush()
            return user_info(session, user)

    def update_user(
        self, username: str, *, display_name: str | None = None, email: str | None = None
    ) -> UserInfo:
        with self.context.write() as session:
            self.context.require(session, ADMINS, "change users")
            user = find_user(session, username)
            if display_name is not None:
                user.display_name = display_name
            if email is not None:
                user.email = email or None
            return user_info(session, user)

    def set_role(self, username: str, role: str) -> UserInfo:
        _check_role(role)
        with self.context.write() as session:
            who = self.context.require(session, ADMINS, "change roles")
            user = find_user(session, username)
            if who.username == username and role != "admin":
                raise Conflict("you cannot take the admin role from yourself; ask another admin")
            user.role = role
            return user_info(session, user)

    def set_password(self, username: str, password: str) -> None:
        """Admins set anyone's password; people set their own."""
        _check_password(password)
        with self.context.write() as session:
            who = self.context.require(session, ANYONE, "set passwords")
            if who.username not in (None, username) and who.role != "admin":
                raise PermissionDenied(f"{who.describe()} cannot set {username}'s password")
            find_user(session, username).password_hash = _hasher.hash(password)

    def authenticate(self, username: str, password: str) -> UserInfo:
        """The user, if the password is theirs. The same message for every failure."""
        refused = PermissionDenied("wrong username or password")
        with self.context.read() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None or not user.password_hash:
                raise refused
            try:
                _hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                raise refused from None
            if not user.active:
                raise PermissionDenied(f"'{username}' is deactivated; ask an admin")
            return user_info(session, user)

    def deactivate(self, username: str, reason: str) -> Deactivation:
        """Deactivate a user: their claims are released and their own open work is flagged
        for reassignment, all in one transaction, each logged on its run."""
        if not reason.strip():
            raise InvalidInput("say why the user is deactivated (a reason is required)")
        with self.context.write() as session:
            who = self.context.require(session, ADMINS, "deactivate users")
            user = find_user(session, username)
            if who.username == username:
                raise Conflict("you cannot deactivate yourself")
            if not user.active:
                raise Conflict(f"'{username}' is already deactivated")
            user.active = False
            # Through Tx, like every write of work items: the change is announced ("work").
            tx = Tx.of(session)
            claimed = tx.query(
                WorkItemRec,
                select(_items)
                .where(_items.c.claimed_by == username, _items.c.status == WorkStatus.CLAIMED)
                .with_for_update(),
            )
            for item in claimed:
                release_claim(
                    session, item, who.username, f"{username} was deactivated: {reason.strip()}"
                )
            own = tx.query(
                WorkItemRec,
                select(_items)
                .where(
                    _items.c.assignee_kind == "user",
                    _items.c.assignee == username,
                    _items.c.status.in_(WorkStatus.OPEN),
                )
                .with_for_update(),
            )
            for item in own:
                item.flag = f"assignee {username} was deactivated: reassign this work"
                item.row_version += 1
                write_log(
                    session,
                    item.run_id,
                    "work_item_flagged",
                    actor=who.username,
                    stage=item.stage,
                    step=item.step,
                    work_item_id=item.id,
                    message=f"{username} was deactivated: {reason.strip()}",
                )
            return Deactivation(username, len(claimed), len(own))

    def activate(self, username: str) -> UserInfo:
        with self.context.write() as session:
            self.context.require(session, ADMINS, "activate users")
            user = find_user(session, username)
            user.active = True
            return user_info(session, user)

    def users(self) -> list[UserInfo]:
        with self.context.read() as session:
            self.context.require(session, ANYONE, "list people")
            return [
                user_info(session, u) for u in session.scalars(select(User).order_by(User.username))
            ]

    def user(self, username: str) -> UserInfo:
        with self.context.read() as session:
            self.context.require(session, ANYONE, "look up people")
            return user_info(session, find_user(session, username))

    # ------------------------------------------------------------ groups and queues

    def create_group(
        self, kind: str, name: str, *, label: str | None = None, email: str | None = None
    ) -> GroupInfo:
        if kind not in GROUP_KINDS:
            raise InvalidInput(f"'{kind}' is not group or queue")
        if not USERNAME.match(name or ""):
            raise InvalidInput(
                f"'{name}' is not a {kind} name: use letters, digits, '.', '_' or '-'"
            )
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

    # ------------------------------------------------------------ the owner

    def set_owner(self, username: str) -> None:
        """The install's owner: who the command line acts as when no --as is given."""
        with self.context.write() as session:
            self.context.require(session, ADMINS, "set the owner")
            find_user(session, username)
            row = session.get(SettingRow, "owner")
            if row is None:
                session.add(
                    SettingRow(
                        key="owner",
                        value={"username": username},
                        updated_at=utcnow(),
                        updated_by=self.context.actor,
                    )
                )
            else:
                row.value = {"username": username}
                row.updated_at = utcnow()

    def owner(self) -> str | None:
        with self.context.read() as session:
            row = session.get(SettingRow, "owner")
            return None if row is None else str(row.value.get("username"))
