"""What a transition tells the outside world, inside its own transaction: outbox messages,
wake-ups for waiting parents, and change notes for subscribers (sent after commit)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.runtime.assignment import person
from engine.runtime.context import Pinned
from engine.runtime.statuses import StepStatus
from engine.store.base import utcnow
from engine.store.changes import note
from engine.store.models import Group, GroupMember, User
from engine.store.rows import OutboxRec, RunRec, StepRunRec, Tx, WorkItemRec


def note_change(session: Session, kind: str) -> None:
    """Remember that ``kind`` changed; it is announced when the transaction commits."""
    note(session, kind)


def background_work_ready(session: Session) -> None:
    note_change(session, "background")


def _emails_for(session: Session, kind: str, name: str) -> list[str]:
    if kind == "user":
        user = person(session, name)
        return [user.email] if user is not None and user.active and user.email else []
    group = session.scalar(select(Group).where(Group.kind == kind, Group.name == name))
    if group is None:
        return []
    if group.email:
        return [group.email]
    return [
        e
        for e in session.scalars(
            select(User.email)
            .join(GroupMember, GroupMember.user_id == User.id)
            .where(GroupMember.group_id == group.id, User.active.is_(True))
        )
        if e
    ]


def recipient_emails(session: Session, recipient: str) -> list[str]:
    """An address as it is, or a username's, group's or queue's addresses."""
    if "@" in recipient:
        return [recipient]
    for prefix in ("queue:", "group:"):
        if recipient.startswith(prefix):
            return _emails_for(session, prefix[:-1], recipient[len(prefix) :])
    return _emails_for(session, "user", recipient)


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
    due = f"Due: {item.due_at:%A %d %B %Y, %H:%M} UTC\n" if item.due_at else ""
    body = (
        f"You have new work in Baton: {item.title}\n\n"
        f"Orchestration: {pinned.definition.display_label()} (run {run.id})\n"
        f"Stage: {item.stage}\n{due}"
        f"{'Record: ' + str(item.record_id) + chr(10) if item.record_id else ''}\n"
        f"Open it in Baton's Inbox, or: baton work list --user <you>  (item {item.id})\n"
    )
    for email in _emails_for(session, item.assignee_kind, item.assignee):
        queue_email(session, email, f"[Baton] New work: {item.title}", body, run.id)


def work_reassigned(session: Session, item: WorkItemRec, actor: str | None, reason: str) -> None:
    note_change(session, "work")
    due = f"Due: {item.due_at:%A %d %B %Y, %H:%M} UTC\n" if item.due_at else ""
    body = (
        f"Work in Baton was passed to you: {item.title}\n\n"
        f"From: {actor or 'Baton'}\nWhy: {reason}\n{due}"
        f"Run: {item.run_id}, stage {item.stage}\n\n"
        f"Open it in Baton's Inbox (item {item.id}).\n"
    )
    for email in _emails_for(session, item.assignee_kind, item.assignee):
        queue_email(session, email, f"[Baton] Reassigned to you: {item.title}", body, item.run_id)


def escalated(session: Session, item: WorkItemRec, kind: str, name: str, message: str) -> None:
    assigned = f"{item.assignee_kind} {item.assignee}"
    body = (
        f"{message}\n\n"
        f"Work item {item.id}: {item.title}\nAssigned to: {assigned}\n"
        f"Run {item.run_id}, stage {item.stage}\n\n"
        f"See it in Baton's Work Items, or: baton runs show {item.run_id}\n"
    )
    for email in _emails_for(session, kind, name):
        queue_email(session, email, f"[Baton] Overdue: {item.title}", body, item.run_id)


def run_failed(session: Session, run: RunRec, pinned: Pinned, error: str) -> None:
    body = (
        f"A run of {pinned.definition.display_label()} failed and needs attention.\n\n"
        f"Run: {run.id} (version {pinned.version})\nError: {error}\n\n"
        f"See its history with: baton runs show {run.id}\n"
    )
    for recipient in pinned.definition.error_recipients:
        for email in recipient_emails(session, recipient):
            queue_email(
                session,
                email,
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
