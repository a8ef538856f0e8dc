"""A failed run resumed after its cause is fixed: retrying the failed step."""

from __future__ import annotations

import pytest

from engine.definitions.objects import ObjectType
from engine.errors import Conflict, InvalidInput, PermissionDenied
from engine.services.baton import Baton
from tests.conftest import define, events, people

FLOW = """
format: 1
name: split
variables: [{name: owner, type: text, input: true, default: alice}]
forms: {ok: {fields: [{name: note, type: text}]}}
error_recipients: [ops@example.com]
elements:
  - kind: stage
    name: work
    steps:
      - kind: background
        name: divide
        retry: {attempts: 1}
        actions: [{type: set_variables, values: {share: "100 / record.parts"}}]
      - {kind: interactive, name: check, form: ok, assignee: {expression: vars.owner}}
  - kind: stage
    name: done
    steps: [{kind: background, name: finish, actions: [{type: set_variables, values: {ok: "True"}}]}]
"""


@pytest.fixture
def b(baton: Baton) -> Baton:
    people(baton)
    baton.records.define_type(
        ObjectType.model_validate({"name": "job", "fields": [{"name": "parts", "type": "number"}]})
    )
    define(baton, FLOW)
    return baton


def test_a_failed_run_resumes_after_the_cause_is_fixed(b: Baton) -> None:
    job = b.records.create("job", {"parts": 0})
    run = b.runs.start("split", record_id=job.id)
    b.worker.run_once()
    assert b.runs.get(run.id).status == "Error"
    assert [s.status for s in b.runs.show(run.id).stages[0].steps] == ["Error", "Discontinued"]
    b.records.update(job.id, {"parts": 4})  # the cause is fixed
    carol = b.as_user("carol")
    resumed = carol.runs.retry_step(run.id, "parts fixed on the job record")
    assert (resumed.status, resumed.error) == ("InProgress", None)
    b.worker.run_once()
    detail = b.runs.show(run.id)
    assert [s.status for s in detail.stages[0].steps] == ["Completed", "InProgress"]
    assert detail.variables["share"] == 25
    item = next(w for w in detail.work_items if w.status == "Assigned")
    b.as_user("alice").work.complete(item.id, {})
    b.worker.run_once()
    assert b.runs.get(run.id).status == "Completed"
    retried = next(e for e in b.runs.show(run.id).log if e.event == "step_retried")
    assert (retried.actor, retried.message) == ("carol", "parts fixed on the job record")


def test_an_assignment_failure_is_retried_once_the_person_exists(b: Baton) -> None:
    job = b.records.create("job", {"parts": 2})
    run = b.runs.start("split", {"owner": "newhire"}, record_id=job.id)
    assert b.runs.get(run.id).status == "Error"
    b.directory.create_user("newhire")
    b.runs.retry_step(run.id, "account created", step="check")
    b.worker.run_once()
    detail = b.runs.show(run.id)
    assert detail.run.status == "InProgress"
    assert any(w.assignee == "newhire" and w.status == "Assigned" for w in detail.work_items)
    assert events(b, run.id).count("step_retried") == 1


def test_retry_refusals(b: Baton) -> None:
    job = b.records.create("job", {"parts": 2})
    run = b.runs.start("split", record_id=job.id)
    with pytest.raises(Conflict, match="has no failed step in stage 'work'"):
        b.runs.retry_step(run.id, "why not")
    with pytest.raises(InvalidInput, match="a reason is required"):
        b.runs.retry_step(run.id, " ")
    with pytest.raises(PermissionDenied, match="alice \\(user\\) cannot retry steps"):
        b.as_user("alice").runs.retry_step(run.id, "please")
    b.runs.cancel(run.id, "not needed")
    with pytest.raises(Conflict, match="is Canceled; only a failed run or step can be retried"):
        b.runs.retry_step(run.id, "again")
