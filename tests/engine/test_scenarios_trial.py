"""Try it travels in a time of its own (the real database's time never moves), and a Try it
session recorded as a scenario replays to the same end state."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from engine import clock as engine_clock
from engine.clients.trial import Trial
from engine.definitions import load_file, to_data
from engine.errors import InvalidInput
from engine.scenarios.recording import record_trial, to_yaml
from engine.scenarios.suite import load_suite, run_suite
from engine.services.baton import Baton
from tests.conftest import RESOURCES

ONBOARDING = RESOURCES / "definitions" / "customer_onboarding.yaml"
INTAKE = {"contract_signed": True, "billing_email": "ap@example.com"}


def demo_world(baton: Baton) -> None:
    """The demo's people, queues, groups and calendar, without its runs."""
    directory = yaml.safe_load((RESOURCES / "demo" / "directory.yaml").read_text())
    system = baton.as_user(None)
    for user in directory["users"]:
        system.directory.create_user(user["username"], email=user["email"], role=user["role"])
    for kind in ("queue", "group"):
        for group in directory[f"{kind}s"]:
            system.directory.create_group(kind, group["name"])
            for member in group["members"]:
                system.directory.add_member(kind, group["name"], member)
    system.calendars.define_from_file(str(RESOURCES / "demo" / "calendars.yaml"))


def open_trial(baton: Baton, folder: Path) -> Trial:
    demo_world(baton)
    return Trial.open(baton.as_user("admin"), to_data(load_file(str(ONBOARDING))), folder)


def item_of(trial: Trial, run_id: int, step: str) -> int:
    items = trial.state(run_id).items
    return next(i.item.id for i in items if i.item.step == step)


def test_try_it_travels_in_its_own_time_and_escalations_fire_at_theirs(
    baton: Baton, tmp_path: Path
) -> None:
    trial = open_trial(baton, tmp_path)
    try:
        run_id = trial.start({"customer_name": "Umbrella", "amount": 20000})
        trial.complete(item_of(trial, run_id, "intake_check"), "alice", INTAKE)
        legal = next(i.item for i in trial.state(run_id).items if i.item.step == "legal")
        assert legal.due_at is not None
        before = trial.now()
        arrived = trial.advance(by="4 business days")
        log = trial.state(run_id).log
    finally:
        trial.close()
    assert arrived - before >= dt.timedelta(days=4)
    # The process's (and so the real database's) time did not move.
    assert abs(engine_clock.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    escalations = [e for e in log if e.event == "work_item_escalated" and e.step == "legal"]
    assert [e.message.split(":")[0] for e in escalations if e.message] == ["rung 1", "rung 2"]
    notified, reassigned = (e.at for e in escalations)
    # Each rung at its own moment, not on arrival (the trial's clock ticks, so within a second).
    assert abs(notified - legal.due_at) < dt.timedelta(seconds=1)
    assert reassigned > notified and reassigned < arrived
    assert not baton.runs.list()  # nothing of it reached the real database


def test_advancing_to_the_next_due_moment_needs_something_waiting(
    baton: Baton, tmp_path: Path
) -> None:
    trial = open_trial(baton, tmp_path)
    try:
        with pytest.raises(InvalidInput, match="nothing in this trial is waiting on time"):
            trial.advance(next_due=True)
        with pytest.raises(InvalidInput, match="only moves forward"):
            trial.advance(by="-2 hours")
        with pytest.raises(InvalidInput, match="not a duration"):
            trial.advance(by="a while")
        run_id = trial.start({"customer_name": "Umbrella", "amount": 20000})
        trial.complete(item_of(trial, run_id, "intake_check"), "alice", INTAKE)
        due = next(i.item.due_at for i in trial.state(run_id).items if i.item.step == "legal")
        assert due is not None
        moment = trial.advance(next_due=True)  # the legal review's first rung
        assert abs(moment - due) < dt.timedelta(seconds=1)
    finally:
        trial.close()


def test_a_recorded_try_it_session_replays_to_the_same_end_state(
    baton: Baton, tmp_path: Path
) -> None:
    trial = open_trial(baton, tmp_path)
    try:
        run_id = trial.start({"customer_name": "Acme", "amount": 250000})
        trial.complete(item_of(trial, run_id, "intake_check"), "alice", INTAKE)
        trial.advance(by="3 business days")  # legal is reassigned to carol by escalation
        trial.complete(item_of(trial, run_id, "legal"), "carol", {"risk": "low"}, outcome="approve")
        trial.complete(
            item_of(trial, run_id, "security"), "sam", {"risk": "low"}, outcome="approve"
        )
        state = trial.state(run_id)
        data = record_trial(trial, run_id, name="recorded", orchestration=str(ONBOARDING))
    finally:
        trial.close()
    expect = data["scenarios"][0]["steps"][-1]["expect"]
    assert expect["status"] == state.run.status == "InProgress"
    assert sorted(w["step"] for w in expect["work"]) == sorted(i.item.step for i in state.items)
    assert {"step": "senior_approval", "assigned_to": "user:carol"} in expect["work"]
    assert expect["steps"]["review.legal"] == "Completed"

    path = tmp_path / "recorded.yaml"
    path.write_text(to_yaml(data), encoding="utf-8")
    assert _replay(path) == [True]

    # The replay checks the end state: a recording that claims another one fails.
    expect["steps"]["review.finance"] = "Completed"
    path.write_text(to_yaml(data), encoding="utf-8")
    assert _replay(path) == [False]


def _replay(path: Path) -> list[bool]:
    suite, missing = load_suite([str(path)])
    try:
        assert not missing and not suite.problems, [p.describe() for p in suite.problems]
        return [r.passed for r in run_suite(suite, jobs=1)]
    finally:
        suite.close()
