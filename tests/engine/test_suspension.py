"""Suspending, resuming and canceling a run that has open work and background steps waiting:
a canceled suspended run leaves nothing open, and a resumed run keeps every step's own due
time (waits and retry backoffs), while an event wait looks again for its event."""

from __future__ import annotations

import datetime as dt
import socket
from typing import Any

import pytest

from engine.errors import Conflict
from engine.services.baton import Baton
from engine.store.models import EventRow
from tests.conftest import define, events, open_items, people, step_status

TRIAL = """
format: 1
name: trial
forms: {ok: {fields: [{name: note, type: text}]}}
elements:
  - kind: stage
    name: trial
    steps:
      - {kind: interactive, name: welcome, form: ok, assignee: {user: alice}}
      - {kind: interactive, name: vet, form: ok, assignee: {queue: legal}}
      - kind: background
        name: ends
        actions:
          - {type: wait_until, until: "add_days(run.started_at, 14)"}
          - {type: send_email, to: [alice], subject: "Your trial has ended"}
          - {type: set_variables, values: {ended: "True"}}
"""


def one_background_step(name: str, step: str) -> str:
    return f"""
format: 1
name: {name}
elements:
  - kind: stage
    name: work
    steps:
{step}"""


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def b(baton: Baton) -> Baton:
    people(baton)
    define(baton, TRIAL)
    return baton


def test_canceling_a_suspended_run_closes_its_stage_steps_and_work(b: Baton, clock: Any) -> None:
    run = b.runs.start("trial")
    b.worker.run_once()  # the background step now waits 14 days
    vet = next(w.id for w in b.runs.show(run.id).work_items if w.step == "vet")
    b.as_user("bob").work.claim(vet)
    carol = b.as_user("carol")
    carol.runs.suspend(run.id, "customer on hold")
    assert carol.runs.cancel(run.id, "customer left").status == "Canceled"
    detail = b.runs.show(run.id)
    assert [(s.stage, s.status) for s in detail.stages] == [("trial", "Canceled")]
    assert step_status(b, run.id) == {
        "trial.welcome": "Canceled",
        "trial.vet": "Canceled",
        "trial.ends": "Canceled",
    }
    assert [w.status for w in detail.work_items] == ["Canceled", "Canceled"]
    assert open_items(b, run.id) == []
    for user in ("alice", "bob", "dave"):
        assert b.as_user(user).work.list() == []
        assert b.as_user(user).work.count() == 0
    assert b.work.count() == 0
    clock.advance(dt.timedelta(days=15))
    assert b.worker.run_once().steps_run == 0  # the canceled wait never fires
    assert "ended" not in b.runs.show(run.id).variables
    assert events(b, run.id)[-1] == "run_canceled"
    with pytest.raises(Conflict, match="only a suspended run can be resumed"):
        carol.runs.resume(run.id, "changed my mind")


def test_resume_keeps_a_long_wait(b: Baton, clock: Any) -> None:
    run = b.runs.start("trial")
    b.worker.run_once()
    carol = b.as_user("carol")
    carol.runs.suspend(run.id, "billing dispute")
    clock.advance(dt.timedelta(days=1))
    carol.runs.resume(run.id, "dispute settled")
    assert b.worker.run_once().steps_run == 0  # eleven days early would be wrong
    assert step_status(b, run.id)["trial.ends"] == "InProgress"
    assert "ended" not in b.runs.show(run.id).variables
    clock.advance(dt.timedelta(days=12, hours=1))  # day 13: still waiting
    b.worker.run_once()
    assert "ended" not in b.runs.show(run.id).variables
    clock.advance(dt.timedelta(days=1))  # past day 14: the trial has ended
    b.worker.run_once()
    assert b.runs.show(run.id).variables["ended"] is True
    assert step_status(b, run.id)["trial.ends"] == "Completed"


def test_resume_keeps_a_retry_backoff(baton: Baton, clock: Any) -> None:
    people(baton)
    port = closed_port()
    define(
        baton,
        one_background_step(
            "hook",
            f"""      - kind: background
        name: call
        retry: {{attempts: 3, backoff_seconds: 3600, max_backoff_seconds: 3600}}
        actions: [{{type: http_request, url: "http://127.0.0.1:{port}/hook", timeout_seconds: 2}}]
""",
        ),
    )
    run = baton.runs.start("hook")
    baton.worker.run_once()
    assert events(baton, run.id).count("step_retry") == 1  # backing off about an hour
    carol = baton.as_user("carol")
    carol.runs.suspend(run.id, "the hook's server is being moved")
    clock.advance(dt.timedelta(minutes=10))
    carol.runs.resume(run.id, "moved")
    assert baton.worker.run_once().steps_run == 0  # still backing off
    assert events(baton, run.id).count("step_retry") == 1
    clock.advance(dt.timedelta(hours=2))
    baton.worker.run_once()
    assert events(baton, run.id).count("step_retry") == 2


WAIT_EVENT = """      - kind: background
        name: await_payment
        actions:
          - {type: wait_for_event, event: payment, key: "'INV-' + text(run.id)", output: paid, timeout: 2 hours}
"""


def test_an_event_published_while_suspended_is_taken_on_resume(baton: Baton, clock: Any) -> None:
    people(baton)
    define(baton, one_background_step("pay", WAIT_EVENT))
    run = baton.runs.start("pay")
    baton.worker.run_once()
    carol = baton.as_user("carol")
    carol.runs.suspend(run.id, "audit")
    clock.advance(dt.timedelta(minutes=30))
    event = baton.events.publish("payment", f"INV-{run.id}", {"amount": 120})
    assert event.consumed_by_step_run_id is None  # a suspended run takes nothing
    carol.runs.resume(run.id, "audit done")
    baton.worker.run_once()
    detail = baton.runs.show(run.id)
    assert detail.run.status == "Completed"
    assert detail.stages[0].steps[0].outputs == {"paid": {"amount": 120}}


def test_an_event_wait_keeps_its_timeout_across_a_suspension(baton: Baton, clock: Any) -> None:
    people(baton)
    define(baton, one_background_step("pay", WAIT_EVENT))
    run = baton.runs.start("pay")
    baton.worker.run_once()
    carol = baton.as_user("carol")
    carol.runs.suspend(run.id, "audit")
    clock.advance(dt.timedelta(hours=1))
    carol.runs.resume(run.id, "audit done")
    baton.worker.run_once()
    assert step_status(baton, run.id)["work.await_payment"] == "InProgress"
    clock.advance(dt.timedelta(hours=1, minutes=1))  # two hours after the wait began
    baton.worker.run_once()
    summary = baton.runs.get(run.id)
    assert summary.status == "Error"
    assert summary.error is not None and "arrived before the timeout" in summary.error


def test_an_event_arriving_after_its_timeout_while_suspended_is_not_taken(
    baton: Baton, clock: Any
) -> None:
    people(baton)
    define(baton, one_background_step("pay", WAIT_EVENT))
    run = baton.runs.start("pay")
    baton.worker.run_once()
    carol = baton.as_user("carol")
    carol.runs.suspend(run.id, "audit")
    clock.advance(dt.timedelta(hours=3))
    event = baton.events.publish("payment", f"INV-{run.id}", {"amount": 120})
    carol.runs.resume(run.id, "audit done")
    baton.worker.run_once()
    assert baton.runs.get(run.id).status == "Error"  # the wait had timed out an hour before
    with baton.db.read() as session:
        assert session.get_one(EventRow, event.id).consumed_at is None
