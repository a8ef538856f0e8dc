"""A supervisor's interventions: suspend / resume, skip a step with its outputs, jump to a
stage, resume a failed run, and each in bulk with honest per-run outcomes."""

from __future__ import annotations

import pytest

from engine.definitions.objects import ObjectType
from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.services.baton import Baton
from tests.conftest import define, events, open_items, people, step_status

FLOW = """
format: 1
name: order
variables: [{name: owner, type: text, input: true, default: alice}]
forms: {ok: {fields: [{name: amount, type: number}]}}
elements:
  - kind: stage
    name: check
    steps:
      - {kind: interactive, name: review, form: ok, assignee: {expression: vars.owner}}
      - kind: background
        name: divide
        retry: {attempts: 1}
        start: {when: after, steps: [review]}
        actions: [{type: set_variables, values: {share: "check.review.outputs.amount / record.parts"}}]
  - kind: stage
    name: ship
    steps:
      - {kind: interactive, name: pack, form: ok, assignee: {user: bob}}
"""


@pytest.fixture
def b(baton: Baton) -> Baton:
    people(baton)
    baton.records.define_type(
        ObjectType.model_validate({"name": "job", "fields": [{"name": "parts", "type": "number"}]})
    )
    define(baton, FLOW)
    return baton


def _review(b: Baton, run_id: int, amount: int = 100) -> None:
    item = next(w for w in b.runs.show(run_id).work_items if w.step == "review")
    b.as_user("alice").work.complete(item.id, {"amount": amount})


def test_a_suspended_run_stops_until_resumed(b: Baton) -> None:
    job = b.records.create("job", {"parts": 4})
    run = b.runs.start("order", record_id=job.id)
    carol = b.as_user("carol")
    assert carol.runs.suspend(run.id, "customer on hold").status == "Suspended"
    item = b.runs.show(run.id).work_items[0]
    with pytest.raises(Conflict, match="Suspended"):
        b.as_user("alice").work.complete(item.id, {"amount": 100})
    with pytest.raises(Conflict, match="only a run in progress"):
        carol.runs.suspend(run.id, "again")
    assert b.runs.show(run.id).stages[0].status == "Suspended"
    assert carol.runs.resume(run.id, "hold lifted").status == "InProgress"
    _review(b, run.id)
    b.worker.run_once()
    assert step_status(b, run.id)["check.divide"] == "Completed"
    assert b.runs.show(run.id).variables["share"] == 25
    assert {"run_suspended", "run_resumed"} <= set(events(b, run.id))
    log = {e.event: e for e in b.runs.show(run.id).log}
    assert (log["run_suspended"].actor, log["run_suspended"].message) == (
        "carol",
        "customer on hold",
    )


def test_the_worker_leaves_a_suspended_runs_background_steps(b: Baton) -> None:
    job = b.records.create("job", {"parts": 4})
    run = b.runs.start("order", record_id=job.id)
    _review(b, run.id)  # the background step is now due
    b.as_user("carol").runs.suspend(run.id, "pause")
    b.worker.run_once()
    assert step_status(b, run.id)["check.divide"] == "InProgress"
    b.as_user("carol").runs.resume(run.id, "go on")
    b.worker.run_once()
    assert step_status(b, run.id)["check.divide"] == "Completed"


def test_skip_a_step_supplying_its_outputs(b: Baton) -> None:
    job = b.records.create("job", {"parts": 2})
    run = b.runs.start("order", record_id=job.id)
    carol = b.as_user("carol")
    carol.runs.skip_step(run.id, "review", "approved by phone", {"amount": 50})
    b.worker.run_once()
    detail = b.runs.show(run.id)
    assert step_status(b, run.id)["check.review"] == "Skipped"
    assert detail.variables["share"] == 25  # the next step saw the supplied outputs
    assert [w.status for w in detail.work_items if w.step == "review"] == ["Canceled"]
    assert open_items(b, run.id) == ["pack"]
    with pytest.raises(NotFound, match="no step 'nope'"):
        carol.runs.skip_step(run.id, "nope", "why")
    with pytest.raises(InvalidInput, match="reason"):
        carol.runs.skip_step(run.id, "pack", "  ")
    with pytest.raises(InvalidInput, match="not a name"):
        carol.runs.skip_step(run.id, "pack", "why", {"not a name": 1})


def test_a_failed_run_carries_on_when_its_failed_step_is_skipped(b: Baton) -> None:
    job = b.records.create("job", {"parts": 0})
    run = b.runs.start("order", record_id=job.id)
    _review(b, run.id)
    b.worker.run_once()
    assert b.runs.get(run.id).status == "Error"
    b.as_user("carol").runs.skip_step(run.id, "divide", "shared by hand", {"share": 7})
    assert b.runs.get(run.id).status == "InProgress"
    assert open_items(b, run.id) == ["pack"]


def test_resume_a_failed_run_after_its_cause_is_fixed(b: Baton) -> None:
    job = b.records.create("job", {"parts": 0})
    run = b.runs.start("order", record_id=job.id)
    _review(b, run.id)
    b.worker.run_once()
    carol = b.as_user("carol")
    with pytest.raises(Conflict, match="retry its failed step"):
        carol.runs.resume(run.id, "not like this")
    b.records.update(job.id, {"parts": 5})
    assert carol.runs.resume_failed(run.id, "parts fixed").status == "InProgress"
    b.worker.run_once()
    assert b.runs.show(run.id).variables["share"] == 20
    with pytest.raises(Conflict, match="only a failed run"):
        carol.runs.resume_failed(run.id, "twice")


def test_a_failed_run_can_be_given_up(b: Baton) -> None:
    job = b.records.create("job", {"parts": 0})
    run = b.runs.start("order", record_id=job.id)
    _review(b, run.id)
    b.worker.run_once()
    carol = b.as_user("carol")
    assert [a.run_id for a in carol.attention.report().items if a.kind == "failed"] == [run.id]
    assert carol.runs.cancel(run.id, "customer withdrew").status == "Canceled"
    assert carol.attention.report().counts["failed"] == 0
    assert events(b, run.id)[-1] == "run_canceled"
    with pytest.raises(Conflict, match="already Canceled; there is nothing to cancel"):
        carol.runs.cancel(run.id, "again")
    with pytest.raises(Conflict, match="only a failed run"):
        carol.runs.resume_failed(run.id, "too late")


def test_jump_to_a_stage(b: Baton) -> None:
    run = b.runs.start("order")
    carol = b.as_user("carol")
    carol.runs.jump_to_stage(run.id, "ship", "reviewed elsewhere")
    detail = b.runs.show(run.id)
    assert [(s.stage, s.status) for s in detail.stages] == [
        ("check", "Discontinued"),
        ("ship", "InProgress"),
    ]
    assert open_items(b, run.id) == ["pack"]
    assert "run_jumped" in events(b, run.id)
    with pytest.raises(NotFound, match="no stage 'moon'"):
        carol.runs.jump_to_stage(run.id, "moon", "why")
    carol.runs.jump_to_stage(run.id, "check", "back again")
    assert b.runs.show(run.id).stages[-1].visit == 2


def test_interventions_need_the_supervisor_role(b: Baton) -> None:
    run = b.runs.start("order")
    alice = b.as_user("alice")
    for call in (
        lambda: alice.runs.suspend(run.id, "x"),
        lambda: alice.runs.skip_step(run.id, "review", "x"),
        lambda: alice.runs.jump_to_stage(run.id, "ship", "x"),
        lambda: alice.runs.cancel(run.id, "x"),
    ):
        with pytest.raises(PermissionDenied, match="supervisor"):
            call()
    outcomes = alice.runs.bulk("suspend", [run.id], "x")
    assert [(o.done, "supervisor" in o.message) for o in outcomes] == [(False, True)]
    assert b.runs.get(run.id).status == "InProgress"


def test_bulk_over_a_frozen_list_says_what_happened_to_each_run(b: Baton) -> None:
    runs = [b.runs.start("order").id for _ in range(3)]
    carol = b.as_user("carol")
    carol.runs.cancel(runs[1], "duplicate")
    outcomes = carol.runs.bulk("suspend", [*runs, 999999], "audit freeze")
    assert [(o.run_id, o.done) for o in outcomes] == [
        (runs[0], True),
        (runs[1], False),
        (runs[2], True),
        (999999, False),
    ]
    assert "Canceled" in outcomes[1].message and "no run" in outcomes[3].message
    resumed = carol.runs.bulk("resume", runs, "freeze over")
    assert [o.done for o in resumed] == [True, False, True]
    with pytest.raises(InvalidInput, match="not an operation"):
        carol.runs.bulk("explode", runs, "why")
    with pytest.raises(InvalidInput, match="reason"):
        carol.runs.bulk("cancel", runs, "")
    jumped = carol.runs.bulk("jump_to_stage", [runs[0]], "skip ahead", stage="ship")
    assert jumped[0].done and open_items(b, runs[0]) == ["pack"]
