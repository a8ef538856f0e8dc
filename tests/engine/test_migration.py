"""Moving in-flight runs to another version: where the run's place still makes sense it
carries on under the new version; otherwise nothing changes and the refusal says why."""

from __future__ import annotations

import pytest

from engine.errors import Conflict, NotFound, PermissionDenied
from engine.services.baton import Baton
from tests.conftest import define, events, open_items, people

V1 = """
format: 1
name: order
variables: [{name: owner, type: text, input: true, default: alice}]
forms: {ok: {fields: [{name: amount, type: number}]}}
elements:
  - kind: stage
    name: check
    steps:
      - {kind: interactive, name: review, form: ok, assignee: {expression: vars.owner}}
  - kind: stage
    name: ship
    steps:
      - {kind: interactive, name: pack, form: ok, assignee: {user: bob}}
"""

# A new step in the run's stage, a new variable with a default.
V2 = V1.replace(
    "assignee: {expression: vars.owner}}\n",
    "assignee: {expression: vars.owner}}\n"
    "      - {kind: interactive, name: audit, form: ok, assignee: {expression: vars.auditor}}\n",
).replace(
    "default: alice}]",
    "default: alice}, {name: auditor, type: text, default: carol}]",
)
# The run's stage renamed: there is no place for it.
V3 = V1.replace("name: check", "name: verify")
# The step the run has started is gone.
V4 = V1.replace("name: review, form: ok", "name: second_look, form: ok")


@pytest.fixture
def b(baton: Baton) -> Baton:
    people(baton)
    define(baton, V1)
    return baton


def test_a_run_moves_to_a_newer_version_and_carries_on_there(b: Baton) -> None:
    run = b.runs.start("order")
    review = open_items(b, run.id)
    assert review == ["review"]
    define(b, V2)
    carol = b.as_user("carol")
    moved = carol.runs.migrate(run.id, 2, "the audit step is now required")
    assert (moved.version, moved.status, moved.current_element) == (2, "InProgress", "check")
    detail = b.runs.show(run.id)
    assert detail.variables == {"owner": "alice", "auditor": "carol"}
    assert sorted(open_items(b, run.id)) == ["audit", "review"]  # the review item is the same
    entry = next(e for e in detail.log if e.event == "run_migrated")
    assert (entry.actor, entry.message) == (
        "carol",
        "from version 1 to 2: the audit step is now required",
    )
    for item in [w for w in detail.work_items if w.status == "Assigned"]:
        b.as_user(item.assignee).work.complete(item.id, {"amount": 1})
    assert open_items(b, run.id) == ["pack"]
    assert b.runs.get(run.id).version == 2


def test_a_run_that_has_no_place_in_the_version_is_left_as_it_was(b: Baton) -> None:
    run = b.runs.start("order")
    define(b, V3)
    define(b, V4)
    carol = b.as_user("carol")
    before = b.runs.show(run.id)
    with pytest.raises(Conflict, match="cannot move to version 2") as refused:
        carol.runs.migrate(run.id, 2, "try")
    assert refused.value.details == [
        "its current stage 'check' is not a stage of version 2; jump it to a stage that is, "
        "then move it"
    ]
    with pytest.raises(Conflict) as refused:
        carol.runs.migrate(run.id, 3, "try")
    assert refused.value.details == [
        "step 'check.review' (InProgress) is not in version 3's stage 'check'"
    ]
    after = b.runs.show(run.id)
    assert (after.run, after.log) == (before.run, before.log)
    with pytest.raises(NotFound, match="order has no version 9"):
        carol.runs.migrate(run.id, 9, "try")
    with pytest.raises(Conflict, match="already on version 1"):
        carol.runs.migrate(run.id, 1, "try")
    with pytest.raises(PermissionDenied, match="supervisor"):
        b.as_user("alice").runs.migrate(run.id, 3, "try")


def test_drafts_and_finished_runs_are_refused(b: Baton) -> None:
    run = b.runs.start("order")
    define(b, V2, activate=False)
    carol = b.as_user("carol")
    with pytest.raises(Conflict, match="version 2 of order is a draft; activate it first"):
        carol.runs.migrate(run.id, 2, "too soon")
    b.definitions.activate("order", 2)
    carol.runs.cancel(run.id, "withdrawn")
    with pytest.raises(Conflict, match="only a run in progress or suspended"):
        carol.runs.migrate(run.id, 2, "too late")


def test_a_suspended_run_moves_and_stays_suspended(b: Baton) -> None:
    run = b.runs.start("order")
    carol = b.as_user("carol")
    carol.runs.suspend(run.id, "hold")
    define(b, V2)
    assert carol.runs.migrate(run.id, 2, "while it waits").status == "Suspended"
    assert open_items(b, run.id) == ["review"]  # nothing starts while suspended
    carol.runs.resume(run.id, "go")
    assert sorted(open_items(b, run.id)) == ["audit", "review"]


def test_steps_not_started_that_the_new_version_dropped_are_discontinued(b: Baton) -> None:
    later = V2.replace(
        "assignee: {expression: vars.auditor}}",
        "assignee: {expression: vars.auditor}, start: {when: after, steps: [review]}}",
    )
    define(b, later)
    run = b.runs.start("order")
    assert b.runs.get(run.id).version == 2 and open_items(b, run.id) == ["review"]
    b.definitions.activate("order", 1)
    carol = b.as_user("carol")
    assert carol.runs.migrate(run.id, 1, "audit dropped again").version == 1
    steps = {s.step: s for s in b.runs.show(run.id).stages[0].steps}
    assert steps["audit"].status == "Discontinued"
    assert events(b, run.id)[-2:] == ["step_discontinued", "run_migrated"]
    item = next(w for w in b.runs.show(run.id).work_items if w.step == "review")
    b.as_user("alice").work.complete(item.id, {"amount": 1})
    assert open_items(b, run.id) == ["pack"]


def test_bulk_move_says_what_happened_to_each_run(b: Baton) -> None:
    runs = [b.runs.start("order").id for _ in range(3)]
    carol = b.as_user("carol")
    carol.runs.cancel(runs[1], "duplicate")
    define(b, V2)
    outcomes = carol.runs.bulk("migrate", runs, "audit for all", version=2)
    assert [(o.run_id, o.done) for o in outcomes] == [
        (runs[0], True),
        (runs[1], False),
        (runs[2], True),
    ]
    assert "only a run in progress or suspended" in outcomes[1].message
    define(b, V3)
    refused = carol.runs.bulk("migrate", [runs[0]], "rename", version=3)
    assert "cannot move to version 3" in refused[0].message
    assert "its current stage 'check' is not a stage of version 3" in refused[0].message
    with pytest.raises(Exception, match="a version number, not 'x'"):
        carol.runs.bulk("migrate", runs, "why", version="x")
