"""What a transition tells the outside world, inside its own transaction: outbox messages,
wake-ups for waiting parents, and change notes for subscribers (sent after commit)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.runtime.assignment import person
from engine.runtime.calendar import CalendarError, load_calendar
from engine.runtime.context import Pinned
from engine.statuses import StepStatus
from engine.store.base import utcnow
from engine.store.changes import note
from engine.store.models import Group, GroupMember, User
from engine.store.rows import OutboxRec, RunRec, StepRunRec, Tx, WorkItemRec


def note_change(session: Session, kind: str) -> None:
    """Remember that ``kind`` changed; it is announced when the transaction commits."""
    note(session, kind)


def background_work_ready(session: Session) -> None:
    note_change(session, "background")


# Where an e-mail's link takes its reader: the item or run, in the app (``baton://``).
WORK_LINK = "baton://work/{id}"
RUN_LINK = "baton://runs/{id}"
ZONES_KEY = "baton_zones"


@dataclass(frozen=True)
class Recipient:
    """An address, and the person behind it when it is one (for their time zone and link)."""

    email: str
    username: str | None = None


def _recipients(session: Session, kind: str, name: str) -> list[Recipient]:
    if kind == "user":
        user = person(session, name)
        if user is None or not user.active or not user.email:
            return []
        return [Recipient(user.email, user.username)]
    group = session.scalar(select(Group).where(Group.kind == kind, Group.name == name))
    if group is None:
        return []
    if group.email:
        return [Recipient(group.email)]
    return [
        Recipient(email, username)
        for email, username in session.execute(
            select(User.email, User.username)
            .join(GroupMember, GroupMember.user_id == User.id)
            .where(GroupMember.group_id == group.id, User.active.is_(True))
        )
        if email
    ]


def _emails_for(session: Session, kind: str, name: str) -> list[str]:
    return [r.email for r in _recipients(session, kind, name)]


def recipients_of(session: Session, recipient: str) -> list[Recipient]:
    """An address as it is, or a username's, group's or queue's addresses."""
    if "@" in recipient:
        return [Recipient(recipient)]
    for prefix in ("queue:", "group:"):
        if recipient.startswith(prefix):
            return _recipients(session, prefix[:-1], recipient[len(prefix) :])
    return _recipients(session, "user", recipient)


def recipient_emails(session: Session, recipient: str) -> list[str]:
    return [r.email for r in recipients_of(session, recipient)]


def _zone(session: Session, recipient: Recipient, calendar: str | None) -> ZoneInfo:
    """The recipient's own zone, else the orchestration's calendar's (read once per
    transaction each)."""
    zones: dict[str | None, ZoneInfo] = session.info.setdefault(ZONES_KEY, {})
    key = f"user:{recipient.username}" if recipient.username else None
    if key is not None and key not in zones:
        chosen = session.scalar(select(User.time_zone).where(User.username == recipient.username))
        try:
            zones[key] = ZoneInfo(chosen) if chosen else _calendar_zone(session, calendar)
        except (ZoneInfoNotFoundError, ValueError):
            zones[key] = _calendar_zone(session, calendar)
    return zones[key] if key is not None else _calendar_zone(session, calendar)


def _calendar_zone(session: Session, calendar: str | None) -> ZoneInfo:
    zones: dict[str | None, ZoneInfo] = session.info.setdefault(ZONES_KEY, {})
    key = f"calendar:{calendar}"
    if key not in zones:
        try:
            zones[key] = load_calendar(session, calendar).zone
        except CalendarError:
            zones[key] = ZoneInfo("UTC")
    return zones[key]


def _when(moment: dt.datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%A %d %B %Y, %H:%M} {zone.key}"


def _link(template: str, id_: int, recipient: Recipient) -> str:
    link = template.format(id=id_)
    return f"{link}?for={recipient.username}" if recipient.username else link


def queue_email(session: Session, to: str, subject: str, body: str, run_id: int | None) -> None:
    Tx.of(session).add(
        OutboxRec(
            kind="email",
            recipient=to,
            subject=subject[:400],
            body=body,
            run_id=run_id,
            status="pending",
            attempts=0,
            next_attempt_at=utcnow(),
            created_at=utcnow(),
        )
    )
    note_change(session, "outbox")


def work_assigned(session: Session, run: RunRec, item: WorkItemRec, pinned: Pinned) -> None:
    note_change(session, "work")
    calendar = pinned.definition.calendar
    for to in _recipients(session, item.assignee_kind, item.assignee):
        due = f"Due: {_when(item.due_at, _zone(session, to, calendar))}\n" if item.due_at else ""
        body = (
            f"You have new work in Baton: {item.title}\n\n"
            f"Orchestration: {pinned.definition.display_label()} (run {run.id})\n"
            f"Stage: {item.stage}\n{due}"
            f"{'Record: ' + str(item.record_id) + chr(10) if item.record_id else ''}\n"
            f"Open it in Baton: {_link(WORK_LINK, item.id, to)}\n"
            f"(or on the command line: baton work list --user <you>, item {item.id})\n"
        )
        queue_email(session, to.email, f"[Baton] New work: {item.title}", body, run.id)


def work_reassigned(session: Session, item: WorkItemRec, actor: str | None, reason: str) -> None:
    note_change(session, "work")
    for to in _recipients(session, item.assignee_kind, item.assignee):
        due = f"Due: {_when(item.due_at, _zone(session, to, None))}\n" if item.due_at else ""
        body = (
            f"Work in Baton was passed to you: {item.title}\n\n"
            f"From: {actor or 'Baton'}\nWhy: {reason}\n{due}"
            f"Run: {item.run_id}, stage {item.stage}\n\n"
            f"Open it in Baton: {_link(WORK_LINK, item.id, to)}\n"
        )
        queue_email(
            session, to.email, f"[Baton] Reassigned to you: {item.title}", body, item.run_id
        )


def escalated(session: Session, item: WorkItemRec, kind: str, name: str, message: str) -> None:
    assigned = f"{item.assignee_kind} {item.assignee}"
    for to in _recipients(session, kind, name):
        due = f"Was due: {_when(item.due_at, _zone(session, to, None))}\n" if item.due_at else ""
        body = (
            f"{message}\n\n"
            f"Work item {item.id}: {item.title}\nAssigned to: {assigned}\n{due}"
            f"Run {item.run_id}, stage {item.stage}\n\n"
            f"Open the run in Baton: {_link(RUN_LINK, item.run_id, to)}\n"
            f"(or on the command line: baton runs show {item.run_id})\n"
        )
        queue_email(session, to.email, f"[Baton] Overdue: {item.title}", body, item.run_id)


def run_failed(session: Session, run: RunRec, pinned: Pinned, error: str) -> None:
    for recipient in pinned.definition.error_recipients:
        for to in recipients_of(session, recipient):
            body = (
                f"A run of {pinned.definition.display_label()} failed and needs attention.\n\n"
                f"Run: {run.id} (version {pinned.version})\nError: {error}\n\n"
                f"Open it in Baton: {_link(RUN_LINK, run.id, to)}\n"
                f"(or on the command line: baton runs show {run.id})\n"
            )
            queue_email(
                session,
                to.email,
                f"[Baton] Run {run.id} of {pinned.orchestration} failed",
                body,
                run.id,
            )


def run_finished(session: Session, run: RunRec) -> None:
    """Wake a parent step that waits for this run."""
    note_change(session, "runs")
    if run.parent_step_run_id is None:
        return
    parent = Tx.of(session).get(StepRunRec, run.parent_step_run_id)
    if (
        parent is not None
        and parent.status == StepStatus.IN_PROGRESS
        and parent.wait_event == "child_run"
    ):
        parent.available_at = utcnow()
        background_work_ready(session)
