"""Escalation ladders: durable timers that notify, reassign or run actions when work is late.

A rung's timer is a row written with its work item. The worker fires each due timer in one
transaction together with everything the rung does (e-mails go to the outbox in the same
transaction), and marks it fired in that transaction: after a crash it fires again only if
nothing was committed, so each rung takes effect exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, select

from engine.definitions.model import EscalationAction, InteractiveStep
from engine.errors import BatonError
from engine.expressions.helpers import text as as_text
from engine.runtime import notify
from engine.runtime.access import lock_run, lock_work_item
from engine.runtime.actions import ExternalCall, Wait, run_inline
from engine.runtime.assignment import AssignmentError, resolve_assignee
from engine.runtime.context import stage_of
from engine.runtime.engine import RunEngine, RunFailed
from engine.runtime.work import reassign
from engine.statuses import RunStatus, WorkStatus
from engine.store.base import utcnow
from engine.store.database import Database
from engine.store.log import log_mark, log_rollback_to, write_log
from engine.store.prepared import Prepared
from engine.store.rows import StepRunRec, TimerRec, Tx

_timers = TimerRec.table()
DUE = Prepared(
    select(_timers.c.id)
    .where(_timers.c.status == "pending", _timers.c.fire_at <= bindparam("now"))
    .order_by(_timers.c.fire_at, _timers.c.id)
    .limit(200)
)


@dataclass
class TimerReport:
    fired: int = 0
    errors: list[str] = field(default_factory=list)


def fire_due_timers(db: Database) -> TimerReport:
    report = TimerReport()
    with db.read() as session:
        ids = [row["id"] for row in DUE.rows(Tx.of(session).connection, {"now": utcnow()})]
    for timer_id in ids:
        try:
            with db.write() as session:
                if fire(session, timer_id):
                    report.fired += 1
        except Exception as exc:  # one broken rung must not stop the others
            report.errors.append(f"timer {timer_id}: {type(exc).__name__}: {exc}")
    return report


def fire(session: object, timer_id: int) -> bool:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    tx = Tx.of(session)
    timer = tx.get(TimerRec, timer_id, lock=True)
    if timer is None or timer.status != "pending":
        return False
    now = utcnow()
    timer.fired_at = now
    found = lock_work_item(session, timer.work_item_id, "")
    if found is None or found[0].status not in WorkStatus.OPEN:
        timer.status = "skipped"  # the work was done in time: nothing to escalate
        return True
    item = found[0]
    run = lock_run(session, item.run_id)
    if run is None or run.status != RunStatus.IN_PROGRESS:
        timer.status = "skipped"
        return True
    engine = RunEngine(session, run, actor="escalation")
    step = next(s for s in stage_of(engine.definition, item.stage).steps if s.name == item.step)
    assert isinstance(step, InteractiveStep)
    rung = step.escalations[timer.rung]
    where = f"step '{item.stage}.{item.step}', escalation {timer.rung + 1}"
    late = f"'{item.title}' was due {item.due_at:%Y-%m-%d %H:%M} UTC" if item.due_at else ""
    mark, tx_mark = log_mark(session), tx.mark()
    savepoint = session.begin_nested()
    try:
        target = None
        if rung.to is not None:
            try:
                kind, name = resolve_assignee(session, rung.to, lambda e: engine.value(e, where))
            except AssignmentError as exc:
                raise RunFailed(f"{where}: {exc}") from None
            target = f"{kind}:{name}"
        if rung.action == EscalationAction.notify and target is not None:
            kind, _, name = target.partition(":")
            message = rung.message or f"Work is overdue: {late}."
            notify.escalated(session, item, kind, name, message)
        elif rung.action == EscalationAction.reassign and target is not None:
            reassign(
                session,
                item.id,
                target,
                f"escalation {timer.rung + 1}: {late} ".strip(),
                None,
                staff=True,
            )
        elif rung.action == EscalationAction.run_actions:
            row = tx.get_one(StepRunRec, item.step_run_id)
            for number, action in enumerate(rung.actions, start=1):
                result = run_inline(engine, row, action, f"{where}, action {number}")
                if isinstance(result, ExternalCall | Wait):
                    raise RunFailed(
                        f"{where}, action {number}: escalations run only actions "
                        "that finish at once (no HTTP, plugins or waits)"
                    )
        savepoint.commit()
        timer.status = "fired"
        write_log(
            session,
            item.run_id,
            "work_item_escalated",
            actor="escalation",
            stage=item.stage,
            step=item.step,
            work_item_id=item.id,
            message=f"rung {timer.rung + 1}: {rung.action.value}"
            + (f" → {target}" if target else ""),
            details={"rung": timer.rung + 1, "action": rung.action.value},
        )
    except (RunFailed, BatonError) as exc:
        savepoint.rollback()
        log_rollback_to(session, mark)
        tx.restore(tx_mark)
        timer.status = "failed"
        timer.fired_at = now
        write_log(
            session,
            item.run_id,
            "escalation_failed",
            actor="escalation",
            stage=item.stage,
            step=item.step,
            work_item_id=item.id,
            message=as_text(str(getattr(exc, "message", exc))),
        )
    return True
