"""Fixing a run's data: a supervisor changes a variable (typed, with a reason, logged with the
old and new value), and the retried step then completes."""

from __future__ import annotations

import pytest

from engine.errors import Conflict, InvalidInput, PermissionDenied
from engine.services.baton import Baton
from tests.conftest import define, people, step_status

FLOW = """
format: 1
name: shares
variables:
  - {name: parts, type: number, input: true, default: 0}
  - {name: note, type: text}
elements:
  - kind: stage
    name: split
    steps:
      - kind: background
        name: divide
        retry: {attempts: 1}
        actions: [{type: set_variables, values: {share: "100 / vars.parts"}}]
"""


@pytest.fixture
def b(baton: Baton) -> Baton:
    people(baton)
    define(baton, FLOW)
    return baton


def test_a_variable_fixed_with_a_reason_lets_the_retried_step_complete(b: Baton) -> None:
    run = b.runs.start("shares")
    b.worker.run_once()
    assert b.runs.show(run.id).run.status == "Error"  # 100 / 0
    carol = b.as_user("carol")
    changes = carol.runs.set_variables(run.id, {"parts": "4"}, "the order has four parts")
    assert changes == {"parts": {"old": 0, "new": 4}}
    [entry] = [e for e in b.runs.show(run.id).log if e.event == "variables_changed"]
    assert entry.actor == "carol" and entry.message == "parts: 0 → 4 (the order has four parts)"
    carol.runs.retry_step(run.id, "parts fixed")
    b.worker.run_once()
    detail = b.runs.show(run.id)
    assert detail.run.status == "Completed"
    assert step_status(b, run.id)["split.divide"] == "Completed"
    assert detail.variables["share"] == 25


def test_changing_variables_is_refused_clearly_and_changes_nothing(b: Baton) -> None:
    run = b.runs.start("shares", {"parts": 2})
    with pytest.raises(InvalidInput) as refused:
        b.runs.set_variables(run.id, {"parts": "many", "colour": "red"}, "typo")
    assert set(refused.value.fields) == {"parts", "colour"}
    assert "not a number" in refused.value.fields["parts"]
    with pytest.raises(InvalidInput) as no_reason:
        b.runs.set_variables(run.id, {"parts": 3}, "  ")
    assert "a reason is required" in no_reason.value.describe()
    with pytest.raises(PermissionDenied):
        b.as_user("alice").runs.set_variables(run.id, {"parts": 3}, "mine")
    b.worker.run_once()
    assert b.runs.show(run.id).run.status == "Completed"
    with pytest.raises(Conflict, match="Completed"):
        b.runs.set_variables(run.id, {"parts": 3}, "too late")
    assert b.runs.show(run.id).variables["parts"] == 2


def test_a_long_logs_latest_entries_are_shown_not_its_first(b: Baton) -> None:
    # The run window asked for 2,000 entries and got the first 2,000: on a long run what had
    # just happened was never in it.
    run = b.runs.start("shares")
    b.worker.run_once()
    carol = b.as_user("carol")
    for parts in (2, 3, 4):
        carol.runs.set_variables(run.id, {"parts": str(parts)}, f"now {parts}")
    whole = b.runs.show(run.id).log
    latest = b.runs.show(run.id, log_limit=2).log
    assert [e.id for e in latest] == [e.id for e in whole[-2:]]
    assert latest[-1].message == "parts: 3 → 4 (now 4)"


ASSIGNED = """
format: 1
name: assigned
variables:
  - {name: manager, type: text, input: true, default: nobody_yet}
forms: {ok: {fields: [{name: fine, type: checkbox}]}}
elements:
  - kind: stage
    name: intake
    steps:
      - {kind: interactive, name: check, form: ok, assignee: {expression: vars.manager}}
"""


def test_a_variable_that_assigns_work_must_name_someone_who_can_do_it(b: Baton) -> None:
    # A newcomer fixed a run failed on its account manager with a name nobody has: the
    # change was taken, and the run failed again once resumed.
    define(b, ASSIGNED)
    run = b.runs.start("assigned")
    assert b.runs.show(run.id).run.status == "Error"  # nobody_yet is nobody
    carol = b.as_user("carol")
    with pytest.raises(InvalidInput) as refused:
        carol.runs.set_variables(run.id, {"manager": "nobody"}, "the right one")
    said = refused.value.fields["manager"]
    assert "user 'nobody', who does not exist" in said and "intake.check" in said
    assert b.runs.show(run.id).variables["manager"] == "nobody_yet"  # nothing changed
    b.directory.create_group("queue", "empty")
    with pytest.raises(InvalidInput) as refused:
        carol.runs.set_variables(run.id, {"manager": "queue:empty"}, "the queue")
    assert "queue 'empty', which has no active members" in refused.value.fields["manager"]
    carol.runs.set_variables(run.id, {"manager": "queue:legal"}, "legal's queue does it")
    carol.runs.resume_failed(run.id, "manager fixed")
    assert [i.assignee for i in b.work.list(user="bob")] == ["legal"]
