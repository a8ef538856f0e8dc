"""People: users, passwords, roles, and the install's owner (groups and queues: ``groups``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.services.context import ServiceContext
from engine.services.dto import Data, UserInfo
from engine.services.groups import NAME as USERNAME
from engine.services.groups import GroupMethods, find_user
from engine.services.permissions import ADMIN, ADMINS, ANYONE, ROLES
from engine.services.queries import Cursor, paged
from engine.statuses import WorkStatus
from engine.store.base import utcnow
from engine.store.log import write_log
from engine.store.models import Group, GroupMember, SettingRow, User, WorkItemRow
from engine.store.rows import Tx, WorkItemRec

MIN_PASSWORD = 8
_hasher = PasswordHasher()
_items = WorkItemRec.table()


@dataclass(frozen=True)
class Deactivation(Data):
    username: str
    claims_released: int
    items_flagged: int
    items_reassigned: int = 0


@dataclass(frozen=True)
class PeopleFilter(Data):
    """Which people a paged list shows: ``text`` matches a username, name or e-mail."""

    text: str = ""
    role: str | None = None
    active: bool | None = None


def _people_conditions(where: PeopleFilter) -> list[Any]:
    conditions: list[Any] = []
    text = where.text.strip().lower()
    if text:
        conditions.append(
            or_(
                func.lower(User.username).contains(text, autoescape=True),
                func.lower(User.display_name).contains(text, autoescape=True),
                func.lower(func.coalesce(User.email, "")).contains(text, autoescape=True),
            )
        )
    if where.role:
        _check_role(where.role)
        conditions.append(User.role == where.role)
    if where.active is not None:
        conditions.append(User.active.is_(where.active))
    return conditions


def _infos(session: Session, users: Sequence[User]) -> list[UserInfo]:
    """``user_info`` for a page of users, their groups read in one query."""
    ids = [u.id for u in users]
    memberships: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
    if ids:
        rows = session.execute(
            select(GroupMember.user_id, Group.kind, Group.name)
            .join(Group, GroupMember.group_id == Group.id)
            .where(GroupMember.user_id.in_(ids))
            .order_by(Group.name)
        ).all()
        for user_id, kind, name in rows:
            memberships[user_id].append((kind, name))
    return [
        UserInfo(
            username=u.username,
            display_name=u.display_name,
            email=u.email,
            role=u.role,
            active=u.active,
            groups=[n for k, n in memberships[u.id] if k == "group"],
            queues=[n for k, n in memberships[u.id] if k == "queue"],
        )
        for u in users
    ]


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
        time_zone=user.time_zone,
    )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"'{role}' is not a role; use one of {', '.join(ROLES)}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters")


class DirectoryService(GroupMethods):
    """Users, roles and passwords, the install's owner; groups and queues (``GroupMethods``)."""

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

    def check_user(
        self,
        username: str | None = None,
        *,
        email: str | None = None,
        password: str | None = None,
        role: str | None = None,
    ) -> dict[str, str]:
        """What is wrong with these values for a new or changed user, by field (empty: all
        good). The same rules and words as ``create_user``, for forms that check as typed."""
        problems: dict[str, str] = {}
        if role is not None and role not in ROLES:
            problems["role"] = f"'{role}' is not a role; use one of {', '.join(ROLES)}"
        if email and "@" not in email:
            problems["email"] = f"'{email}' is not an e-mail address"
        if password is not None and len(password) < MIN_PASSWORD:
            problems["password"] = f"a password needs at least {MIN_PASSWORD} characters"
        if username is not None:
            if not USERNAME.match(username):
                problems["username"] = (
                    f"'{username}' is not a username: start with a letter or digit, then use "
                    "letters, digits, '.', '_' or '-'"
                )
            else:
                with self.context.read() as session:
                    self.context.require(session, ANYONE, "look up people")
                    if session.scalar(select(User.id).where(User.username == username)):
                        problems["username"] = f"user '{username}' already exists"
        return problems

    def update_user(
        self,
        username: str,
        *,
        display_name: str | None = None,
        email: str | None = None,
        role: str | None = None,
        if_unchanged: UserInfo | None = None,
    ) -> UserInfo:
        """Change a user's name, e-mail ('' clears it) and role in one transaction (admins).

        With ``if_unchanged`` (the user as the form showed them), a change someone else made
        meanwhile refuses this one, so nobody overwrites what they have not seen."""
        if role is not None:
            _check_role(role)
        if email and "@" not in email:
            raise InvalidInput(f"'{email}' is not an e-mail address")
        if display_name is not None and not display_name.strip():
            raise InvalidInput("a user needs a name; leave it unchanged or write one")
        with self.context.write() as session:
            who = self.context.require(session, ADMINS, "change users")
            user = find_user(session, username)
            if if_unchanged is not None:
                now = (user.display_name, user.email, user.role, user.active)
                seen = (
                    if_unchanged.display_name,
                    if_unchanged.email,
                    if_unchanged.role,
                    if_unchanged.active,
                )
                if now != seen:
                    raise Conflict(
                        f"{username} was changed by someone else after you opened them; "
                        "reopen them and make your change again"
                    )
            if role is not None and role != user.role:
                if who.username == username and role != "admin":
                    raise Conflict(
                        "you cannot take the admin role from yourself; ask another admin"
                    )
                user.role = role
            if display_name is not None:
                user.display_name = display_name.strip()
            if email is not None:
                user.email = email.strip() or None
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

    def deactivate(
        self, username: str, reason: str, *, reassign_to: str | None = None
    ) -> Deactivation:
        """Deactivate a user: their claims are released and their own open work is flagged
        for reassignment — or, with ``reassign_to`` (a username, ``queue:NAME`` or
        ``group:NAME``), reassigned to it — all in one transaction, each logged on its run.
        A target that cannot take the work refuses the whole change."""
        from engine.runtime.work import reassign, release_claim  # not needed to list people

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
            if reassign_to and reassign_to.strip():
                because = f"{username} was deactivated: {reason.strip()}"
                for item in own:
                    reassign(
                        session, item.id, reassign_to.strip(), because, who.username, staff=True
                    )
                return Deactivation(username, len(claimed), 0, len(own))
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

    def count_people(self, where: PeopleFilter | None = None) -> int:
        """How many people ``where`` shows (for a paged list)."""
        with self.context.read() as session:
            self.context.require(session, ANYONE, "list people")
            query = select(func.count()).select_from(User)
            conditions = _people_conditions(where or PeopleFilter())
            if conditions:
                query = query.where(and_(*conditions))
            return int(session.scalar(query) or 0)

    def people(
        self,
        where: PeopleFilter | None = None,
        *,
        limit: int = 200,
        offset: int = 0,
        after: Cursor | None = None,
        before: Cursor | None = None,
        from_end: bool = False,
    ) -> list[UserInfo]:
        """One page of people, by username, filtered in SQL (see ``queries.paged``); a
        row's cursor is ``(username, username)``."""
        if not 1 <= limit <= 1000:
            raise InvalidInput(f"a page holds 1 to 1000 rows, not {limit}")
        if offset < 0:
            raise InvalidInput("an offset cannot be negative")
        with self.context.read() as session:
            self.context.require(session, ANYONE, "list people")
            query = select(User)
            conditions = _people_conditions(where or PeopleFilter())
            if conditions:
                query = query.where(and_(*conditions))
            query, reverse = paged(  # usernames are unique: the name alone is the cursor
                query,
                User.username,
                User.username,
                descending=False,
                limit=limit,
                offset=offset,
                after=after,
                before=before,
                from_end=from_end,
            )
            users = list(session.scalars(query))
            if reverse:
                users.reverse()
            return _infos(session, users)

    def open_work(self, username: str) -> dict[str, int]:
        """What deactivating ``username`` would touch: their claims and their own open work."""
        with self.context.read() as session:
            self.context.require(session, ADMINS, "see whose work is whose")
            find_user(session, username)
            claims = session.scalar(
                select(func.count())
                .select_from(WorkItemRow)
                .where(
                    WorkItemRow.claimed_by == username,
                    WorkItemRow.status == WorkStatus.CLAIMED,
                )
            )
            own = session.scalar(
                select(func.count())
                .select_from(WorkItemRow)
                .where(
                    WorkItemRow.assignee_kind == "user",
                    WorkItemRow.assignee == username,
                    WorkItemRow.status.in_(WorkStatus.OPEN),
                )
            )
            return {"claims": int(claims or 0), "assigned": int(own or 0)}

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

    def set_time_zone(self, username: str, zone: str | None) -> UserInfo:
        """The zone times in ``username``'s e-mails are shown in (None: the calendar's).

        People set their own; admins anyone's."""
        if zone:
            zone = zone.strip()
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise InvalidInput(
                    f"'{zone}' is not a time zone (write one like Europe/London or UTC)"
                ) from None
        with self.context.write() as session:
            who = self.context.require(session, ANYONE, "set a time zone")
            if who.username is not None and who.username != username and who.role != ADMIN:
                raise PermissionDenied(
                    f"{who.describe()} cannot set {username}'s time zone: people set their own, "
                    "admins anyone's"
                )
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise NotFound(f"no user named '{username}'")
            user.time_zone = zone or None
            return user_info(session, user)

    def owner(self) -> str | None:
        with self.context.read() as session:
            row = session.get(SettingRow, "owner")
            return None if row is None else str(row.value.get("username"))
