"""Deleting a record: its open runs are canceled or kept, on purpose, never left dangling;
every run that pointed at it keeps its history and says the record went."""

from __future__ import annotations

import pytest

from engine.definitions.objects import ObjectType
from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.services.baton import Baton
from tests.conftest import define, people

FLOW = """
format: 1
name: claims
type: record_triggered
trigger: {object: claim, events: [created]}
forms: {ok: {fields: [{name: note, type: text}]}}
elements:
  - kind: stage
    name: handle
    steps:
      - {kind: interactive, name: check, form: ok, assignee: {user: alice}}
"""


@pytest.fixture
def b(baton: Baton) -> Baton:
    people(baton)
    baton.records.define_type(
        ObjectType.model_validate(
            {
                "name": "claim",
                "title_field": "number",
                "fields": [{"name": "number", "type": "text"}],
            }
        )
    )
    define(baton, FLOW)
    return baton


def open_work(b: Baton) -> list[int]:
    return [w.id for w in b.work.list(user="alice")]


def test_a_record_with_open_runs_is_refused_without_a_choice(b: Baton) -> None:
    record = b.records.create("claim", {"number": "C-1"})
    [run] = b.runs.list(orchestration="claims")
    with pytest.raises(
        Conflict, match=rf"C-1 \(record {record.id}\) has 1 open run\(s\) \({run.id}\)"
    ):
        b.records.delete(record.id)
    assert b.records.get(record.id).title == "C-1"  # nothing changed
    with pytest.raises(InvalidInput, match="a reason is required"):
        b.records.delete(record.id, open_runs="cancel")
    with pytest.raises(InvalidInput, match="'drop' is not what to do"):
        b.records.delete(record.id, open_runs="drop")
    with pytest.raises(PermissionDenied, match="cannot delete records"):
        b.as_user("alice").records.delete(record.id, open_runs="keep")
    assert b.runs.show(run.id).run.status == "InProgress" and open_work(b)


def test_canceling_the_open_runs_takes_their_work_out_of_every_inbox(b: Baton) -> None:
    record = b.records.create("claim", {"number": "C-1"})
    [run] = b.runs.list(orchestration="claims")
    done = b.as_user("carol").records.delete(record.id, open_runs="cancel", reason="a duplicate")
    assert (done.runs_canceled, done.runs_kept, done.runs_unlinked) == ([run.id], [], 1)
    detail = b.runs.show(run.id)
    assert detail.run.status == "Canceled" and detail.run.record_id is None
    assert open_work(b) == []
    [gone] = [e for e in detail.log if e.event == "record_deleted"]
    assert (
        gone.actor == "carol"
        and "C-1" in (gone.message or "")
        and "a duplicate" in (gone.message or "")
    )
    with pytest.raises(NotFound):
        b.records.get(record.id)


def test_kept_runs_go_on_without_their_record_and_finished_ones_keep_their_history(
    b: Baton,
) -> None:
    record = b.records.create("claim", {"number": "C-1"})
    b.records.create("claim", {"number": "C-2"})
    first, _ = sorted(r.id for r in b.runs.list(orchestration="claims"))
    b.runs.cancel(first, "not needed")  # a finished run of the record
    b.records.update(record.id, {"number": "C-1b"})  # no new run: only [created] triggers
    done = b.records.delete(record.id, open_runs="keep")
    assert done.runs_unlinked == 1 and done.runs_kept == [] and done.runs_canceled == []
    assert b.runs.show(first).run.status == "Canceled"
    other = b.records.create("claim", {"number": "C-3"})
    live = max(r.id for r in b.runs.list(orchestration="claims"))
    kept = b.records.delete(other.id, open_runs="keep")
    assert kept.runs_kept == [live]
    item = next(w for w in b.runs.show(live).work_items if w.status == "Assigned")
    assert item.record_id is None
    b.as_user("alice").work.complete(item.id, {"note": "done anyway"})  # still workable
    assert b.runs.show(live).run.status == "Completed"


def test_an_object_type_is_defined_from_a_forms_data_with_problems_by_place(b: Baton) -> None:
    good = {
        "name": "supplier",
        "label": "Supplier",
        "title_field": "name",
        "fields": [
            {"name": "name", "type": "text", "required": True},
            {"name": "tier", "type": "picklist", "options": ["A", "B"]},
        ],
    }
    assert b.records.check_type(good) == {}
    made = b.records.define_type_from_data(good)
    assert (made.name, [f["name"] for f in made.fields]) == ("supplier", ["name", "tier"])
    bad = {"name": "Bad Name", "fields": [{"name": "ok"}, {"name": "x", "type": "colour"}]}
    problems = b.records.check_type(bad)
    assert set(problems) == {"name", "fields.1.type"}
    assert problems["name"].startswith("'Bad Name' is not a name: start with a letter")
    with pytest.raises(InvalidInput) as refused:
        b.records.define_type_from_data(bad)
    assert refused.value.fields == problems
    assert b.records.check_type({"name": "t", "fields": [{"name": "owner"}]}) == {
        "fields": "these field names are reserved: owner"
    }
    with pytest.raises(PermissionDenied):
        b.as_user("carol").records.define_type_from_data(good)
    assert [t.name for t in b.records.types()] == ["claim", "supplier"]
