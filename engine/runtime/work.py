"""Work items: who may see and act on them, claiming, and completing them from a form."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.definitions.model import Assignee, InteractiveStep
from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.runtime import notify
from engine.runtime.access import lock_run, lock_work_item
from engine.runtime.assignment import AssignmentError, person, resolve_assignee
from engine.runtime.context import stage_of
from engine.runtime.engine import RunEngine
from engine.runtime.forms import SubmissionRejected, check_submission
from engine.runtime.visibility import memberships
from engine.statuses import RunStatus, StepStatus, WorkStatus
from engine.store.base import utcnow
from engine.store.log import write_log
from engine.store.models import WorkItemRow
from engine.store.rows import StageRunRec, StepRunRec, Tx, WorkItemRec


def can_act(session: Session, item: WorkItemRec, username: str) -> bool:
    if item.assignee_kind == "user":
        return item.assignee == username
    return (item.assignee_kind, item.assignee) in memberships(session, username)


def _open_item(session: Session, item_id: int, username: str) -> tuple[WorkItemRec, StageRunRec]:
    found = lock_work_item(session, item_id, username)
    if found is None:
        raise NotFound(f"no work item with id {item_id}")
    item, stage_run = found
    if item.status == WorkStatus.COMPLETED:
        when = f"{item.completed_at:%Y-%m-%d %H:%M:%S} UTC" if item.completed_at else "earlier"
        raise Conflict(
            f"work item {item_id} ({item.title}) was already completed by {item.completed_by} at {when}; "
            "your submission was not applied"
        )
    if item.status == WorkStatus.CANCELED:
        raise Conflict(
            f"work item {item_id} ({item.title}) was canceled; there is nothing left to do"
        )
    user = person(session, username)
    if user is None or not user.active:
        raise PermissionDenied(f"'{username}' is not an active user")
    if not can_act(session, item, username):
        who = "that user" if item.assignee_kind == "user" else "a member"
        raise PermissionDenied(
            f"{username} cannot act on work item {item_id}: it is assigned to "
            f"{item.assignee_kind} '{item.assignee}', and {username} is not {who}"
        )
    if item.claimed_by is not None and item.claimed_by != username:
        raise Conflict(
            f"work item {item_id} is claimed by {item.claimed_by}; ask them to release it"
        )
    return item, stage_run


def complete_work_item(
    session: Session,
    item_id: int,
    username: str,
    values: dict[str, Any],
    *,
    outcome: str | None = None,
    comment: str | None = None,
) -> WorkItemRec:
    """Submit the item's form. The first completion wins; a later one gets a Conflict."""
    item, _ = _open_item(session, item_id, username)
    run = lock_run(session, item.run_id)
    assert run is not None
    if run.status != RunStatus.IN_PROGRESS:
        raise Conflict(f"run {run.id} is {run.status}; its work cannot be completed now")
    step_run = Tx.of(session).get_one(StepRunRec, item.step_run_id)
    if step_run.status != StepStatus.IN_PROGRESS:
        raise Conflict(
            f"step '{item.stage}.{item.step}' is {step_run.status}; the item cannot be completed"
        )
    engine = RunEngine(session, run, actor=username)
    step = next(s for s in stage_of(engine.definition, item.stage).steps if s.name == item.step)
    assert isinstance(step, InteractiveStep) and step.form is not None
    form = engine.definition.forms[step.form]
    try:
        clean = check_submission(form, values, outcome, engine.names())
    except SubmissionRejected as exc:
        raise InvalidInput(
            f"the form '{form.title or step.form}' was not submitted", fields=exc.problems
        ) from None
    now = utcnow()
    item.status = WorkStatus.COMPLETED
    item.completed_at = now
    item.completed_by = username
    item.values = clean
    item.comment = comment
    item.row_version += 1
    engine.log(
        "work_item_completed",
        stage=item.stage,
        step=item.step,
        work_item_id=item.id,
        message=comment,
        actor=username,
        details={"outcome": clean.get("outcome")},
    )
    outputs = {**clean, "comment": comment}
    engine.complete_step(step_run, outputs, completed_by=username)
    return item


def claim(session: Session, item_id: int, username: str) -> WorkItemRec:
    item, _ = _open_item(session, item_id, username)
    if item.assignee_kind == "user":
        raise Conflict(
            f"work item {item_id} is assigned to {item.assignee} alone; there is nothing to claim"
        )
    if item.claimed_by == username:
        return item
    item.claimed_by = username
    item.claimed_at = utcnow()
    item.status = WorkStatus.CLAIMED
    item.row_version += 1
    write_log(
        session,
        item.run_id,
        "work_item_claimed",
        actor=username,
        stage=item.stage,
        step=item.step,
        work_item_id=item.id,
    )
    return item


def release(session: Session, item_id: int, username: str) -> WorkItemRec:
    item, _ = _open_item(session, item_id, username)
    if item.claimed_by is None:
        raise Conflict(f"work item {item_id} is not claimed")
    release_claim(session, item, username)
    return item


def release_claim(
    session: Session, item: WorkItemRec | WorkItemRow, actor: str | None, why: str | None = None
) -> None:
    """Give a claimed item back to its group or queue, and say so on its run."""
    item.claimed_by = None
    item.claimed_at = None
    item.status = WorkStatus.ASSIGNED
    item.row_version += 1
    write_log(
        session,
        item.run_id,
        "work_item_released",
        actor=actor,
        stage=item.stage,
        step=item.step,
        work_item_id=item.id,
        message=why,
    )


def parse_target(text: str) -> Assignee:
    """'user:bob', 'queue:legal', 'group:security', or a plain username."""
    kind, sep, name = text.partition(":")
    if not sep:
        kind, name = "user", text
    if kind not in ("user", "group", "queue") or not name.strip():
        raise InvalidInput(
            f"'{text}' is not an assignee: write user:NAME, queue:NAME or group:NAME"
        )
    return Assignee.model_validate({kind: name.strip()})


def reassign(
    session: Session, item_id: int, target: str, reason: str, actor: str | None, *, staff: bool
) -> WorkItemRec:
    """Give the item to someone else. Its assignee (or a member) may, and so may staff; a
    claimed item only its holder and staff, since a claim keeps the item from the others."""
    if not reason.strip():
        raise InvalidInput("say why the work is reassigned (a reason is required)")
    rule = parse_target(target)
    found = lock_work_item(session, item_id, actor or "")
    if found is None:
        raise NotFound(f"no work item with id {item_id}")
    item, _ = found
    if item.status not in WorkStatus.OPEN:
        raise Conflict(f"work item {item_id} is {item.status}; only open work can be reassigned")
    if not staff and (actor is None or not can_act(session, item, actor)):
        raise PermissionDenied(
            f"{actor} cannot reassign work item {item_id}: only its assignee, a supervisor "
            "or an admin may"
        )
    if not staff and item.claimed_by is not None and item.claimed_by != actor:
        raise PermissionDenied(
            f"{actor} cannot reassign work item {item_id}: {item.claimed_by} has claimed it, "
            f"and only {item.claimed_by}, a supervisor or an admin may reassign it"
        )
    try:
        kind, name = resolve_assignee(session, rule, lambda _: None)
    except AssignmentError as exc:
        raise InvalidInput(f"cannot reassign work item {item_id}: {exc}") from None
    if (kind, name) == (item.assignee_kind, item.assignee):
        raise Conflict(f"work item {item_id} is already assigned to {kind} {name}")
    before = f"{item.assignee_kind} {item.assignee}"
    item.assignee_kind, item.assignee = kind, name
    item.claimed_by = None
    item.claimed_at = None
    item.status = WorkStatus.ASSIGNED
    item.flag = None
    item.row_version += 1
    write_log(
        session,
        item.run_id,
        "work_item_reassigned",
        actor=actor,
        stage=item.stage,
        step=item.step,
        work_item_id=item.id,
        message=f"from {before} to {kind} {name}: {reason.strip()}",
        details={"from": before, "to": f"{kind} {name}", "reason": reason.strip()},
    )
    notify.work_reassigned(session, item, actor, reason.strip())
    return item
