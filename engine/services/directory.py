"""People: users, groups and queues (the directory)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.services.context import ServiceContext
from engine.services.dto import UserInfo
from engine.services.errors import Conflict, InvalidInput, NotFound
from engine.store.base import utcnow
from engine.store.models import Group, GroupMember, User
from engine.text import did_you_mean

ROLES = ("admin", "supervisor", "user")
GROUP_KINDS = ("group", "queue")


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


class DirectoryService:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    def create_user(
        self,
        username: str,
        *,
        display_name: str | None = None,
        email: str | None = None,
        role: str = "user",
    ) -> UserInfo:
        if role not in ROLES:
            raise InvalidInput(f"'{role}' is not a role; use one of {', '.join(ROLES)}")
        if (
            not username
            or not username.replace(".", "").replace("_", "").replace("-", "").isalnum()
        ):
            raise InvalidInput(
                f"'{username}' is not a username: use letters, digits, '.', '_' or '-'"
            )
        with self.context.write() as session:
            if session.scalar(select(User.id).where(User.username == username)) is not None:
                raise Conflict(f"user '{username}' already exists")
            user = User(
                username=username,
                display_name=display_name or username,
                email=email,
                role=role,
                active=True,
                created_at=utcnow(),
            )
            session.add(user)
            session.flush()
            return user_info(session, user)

    def users(self) -> list[UserInfo]:
        with self.context.read() as session:
            return [
                user_info(session, u) for u in session.scalars(select(User).order_by(User.username))
            ]

    def user(self, username: str) -> UserInfo:
        with self.context.read() as session:
            return user_info(session, find_user(session, username))

    def create_group(
        self, kind: str, name: str, *, label: str | None = None, email: str | None = None
    ) -> None:
        if kind not in GROUP_KINDS:
            raise InvalidInput(f"'{kind}' is not group or queue")
        with self.context.write() as session:
            if (
                session.scalar(select(Group.id).where(Group.kind == kind, Group.name == name))
                is not None
            ):
                raise Conflict(f"{kind} '{name}' already exists")
            session.add(
                Group(
                    kind=kind,
                    name=name,
                    label=label or name.replace("_", " ").title(),
                    email=email,
                    created_at=utcnow(),
                )
            )

    def add_member(self, kind: str, name: str, username: str) -> None:
        with self.context.write() as session:
            group = find_group(session, kind, name)
            user = find_user(session, username)
            exists = session.get(GroupMember, (group.id, user.id))
            if exists is None:
                session.add(GroupMember(group_id=group.id, user_id=user.id))
