"""Escalation ladders: rungs fire at offsets from the due date, exactly once, after restarts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from engine.services.baton import Baton
from engine.store.models import OutboxRow, TimerRow
from tests.conftest import define, events, people

LADDER = """
format: 1
name: flow
forms: {ok: {fields: [{name: note, type: text}]}}
elements:
  - kind: stage
    name: s
    steps:
      - kind: interactive
        name: review
        form: ok
        assignee: {user: alice}
        due: 2 hours
        escalations:
          - {offset: -1 hours, action: notify, to: {user: alice}, message: Your review is due in an hour.}
          - {offset: 0 hours, action: notify, to: {user: carol}}
          - {offset: 1 hours, action: reassign, to: {queue: legal}}
          - {offset: 2 hours, action: run_actions, actions: [{type: set_variables, values: {late: "True"}}]}
"""


@pytest.fixture
def b(baton: Baton) -> Baton:
    people(baton)
    define(baton, LADDER)
    return baton


def mail(baton: Baton) -> list[tuple[str, str]]:
    with baton.db.read() as session:
        return [
            (r.recipient, r.subject)
            for r in session.scalars(select(OutboxRow).order_by(OutboxRow.id))
        ]


def timers(baton: Baton) -> list[str]:
    with baton.db.read() as session:
        return [t.status for t in session.scalars(select(TimerRow).order_by(TimerRow.rung))]


def test_rungs_fire_in_order_each_exactly_once(b: Baton, clock: Any) -> None:
    run = b.runs.start("flow")
    assert timers(b) == ["pending"] * 4
    b.worker.run_once()
    assert timers(b) == ["pending"] * 4
    clock.advance(dt.timedelta(minutes=61))
    assert b.worker.run_once().timers_fired == 1
    assert ("alice@example.com", "[Baton] Overdue: Review") in mail(b)
    clock.advance(dt.timedelta(hours=1))
    b.worker.run_once()
    assert ("carol@example.com", "[Baton] Overdue: Review") in mail(b)
    clock.advance(dt.timedelta(hours=1))
    b.worker.run_once()
    item = b.runs.show(run.id).work_items[0]
    assert (item.assignee_kind, item.assignee) == ("queue", "legal")
    clock.advance(dt.timedelta(hours=1))
    b.worker.run_once()
    assert b.runs.show(run.id).variables == {"late": True}
    assert timers(b) == ["fired"] * 4
    sent = len(mail(b))
    # Exactly once: more passes (and a "restart": a new service on the same database) add nothing.
    again = Baton(b.db.url, actor="admin")
    assert again.worker.run_once().timers_fired == 0
    b.worker.run_once()
    assert len(mail(b)) == sent
    assert events(b, run.id).count("work_item_escalated") == 4
    again.close()


def test_timers_survive_a_restart(b: Baton, clock: Any) -> None:
    run = b.runs.start("flow")
    url = b.db.url
    b.close()
    clock.advance(dt.timedelta(hours=5))
    restarted = Baton(url, actor="admin")
    assert restarted.worker.run_once().timers_fired == 4
    assert events(restarted, run.id).count("work_item_escalated") == 4
    restarted.close()


def test_completed_work_is_not_escalated(b: Baton, clock: Any) -> None:
    run = b.runs.start("flow")
    item = b.runs.show(run.id).work_items[0]
    b.as_user("alice").work.complete(item.id, {})
    clock.advance(dt.timedelta(hours=5))
    b.worker.run_once()
    assert timers(b) == ["skipped"] * 4
    assert "work_item_escalated" not in events(b, run.id)


def test_a_rung_that_cannot_act_is_logged_and_the_rest_still_fire(b: Baton, clock: Any) -> None:
    run = b.runs.start("flow")
    b.directory.deactivate("carol", "left")
    clock.advance(dt.timedelta(hours=5))
    report = b.worker.run_once()
    assert report.timers_fired == 4
    assert timers(b) == ["fired", "failed", "fired", "fired"]
    failure = next(e for e in b.runs.show(run.id).log if e.event == "escalation_failed")
    assert "names user 'carol', who is deactivated" in (failure.message or "")
