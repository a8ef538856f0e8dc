"""Record triggers (including "only when newly met"), version pinning, and atomic transitions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from engine.definitions.objects import ObjectType
from engine.errors import Conflict, InvalidInput
from engine.services.baton import Baton
from engine.store.models import LogRow, RecordRow, RunRow
from tests.conftest import define, people


@pytest.fixture
def b(baton: Baton) -> Baton:
    people(baton)
    baton.records.define_type(
        ObjectType.model_validate(
            {
                "name": "claim",
                "title_field": "number",
                "fields": [
                    {"name": "number", "type": "text"},
                    {"name": "amount", "type": "currency"},
                    {
                        "name": "status",
                        "type": "picklist",
                        "options": ["Draft", "Submitted", "Paid"],
                        "default": "Draft",
                    },
                ],
            }
        )
    )
    return baton


def triggered(events: str, newly: bool, criteria: str = "record.status == 'Submitted'") -> str:
    return f"""
format: 1
name: claims
type: record_triggered
trigger: {{object: claim, events: {events}, criteria: "{criteria}", only_when_newly_met: {str(newly).lower()}}}
forms: {{ok: {{fields: [{{name: note, type: text}}]}}}}
elements:
  - kind: stage
    name: handle
    steps:
      - {{kind: interactive, name: check, form: ok, assignee: {{expression: record.owner}}}}
"""


def runs_for(b: Baton, record_id: int) -> int:
    return sum(
        1 for r in b.runs.list(orchestration="claims", limit=1000) if r.record_id == record_id
    )


def test_create_that_meets_criteria_starts_one_run(b: Baton) -> None:
    define(b, triggered("[created]", newly=False))
    meets = b.records.create("claim", {"number": "C-1", "status": "Submitted"}, owner="alice")
    misses = b.records.create("claim", {"number": "C-2"}, owner="alice")
    assert runs_for(b, meets.id) == 1
    assert runs_for(b, misses.id) == 0
    run = b.runs.list(orchestration="claims")[0]
    # The assignee rule read the record: its owner.
    assert b.runs.show(run.id).work_items[0].assignee == "alice"
    assert "triggered" in [e.event for e in b.runs.show(run.id).log]


def test_every_update_that_meets_criteria_starts_a_run(b: Baton) -> None:
    define(b, triggered("[updated]", newly=False))
    record = b.records.create("claim", {"number": "C-1", "status": "Submitted"}, owner="alice")
    assert runs_for(b, record.id) == 0  # created is not among the events
    b.records.update(record.id, {"amount": 10})
    b.records.update(record.id, {"amount": 20})
    assert runs_for(b, record.id) == 2


def test_only_when_the_change_made_it_meet_the_criteria(b: Baton) -> None:
    define(b, triggered("[created, updated]", newly=True))
    record = b.records.create("claim", {"number": "C-1"}, owner="alice")
    assert runs_for(b, record.id) == 0
    b.records.update(record.id, {"status": "Submitted"})
    assert runs_for(b, record.id) == 1
    b.records.update(record.id, {"amount": 99})  # still meets, but the change did not make it
    assert runs_for(b, record.id) == 1
    b.records.update(record.id, {"status": "Draft"})
    b.records.update(record.id, {"status": "Submitted"})
    assert runs_for(b, record.id) == 2


def test_criteria_may_compare_with_old_values(b: Baton) -> None:
    define(
        b,
        triggered(
            "[updated]", newly=False, criteria="old is not None and record.amount > old.amount"
        ),
    )
    record = b.records.create("claim", {"number": "C-1", "amount": 10}, owner="alice")
    b.records.update(record.id, {"amount": 5})
    assert runs_for(b, record.id) == 0
    b.records.update(record.id, {"amount": 50})
    assert runs_for(b, record.id) == 1


def test_stale_record_update_is_refused(b: Baton) -> None:
    record = b.records.create("claim", {"number": "C-1"}, owner="alice")
    b.records.update(record.id, {"amount": 1}, expected_version=record.row_version)
    with pytest.raises(Conflict, match="was changed by admin"):
        b.records.update(record.id, {"amount": 2}, expected_version=record.row_version)
    assert b.records.get(record.id).data["amount"] == 1


FLOW = """
format: 1
name: pinned
forms: {{ok: {{fields: [{{name: note, type: text}}]}}}}
elements:
  - kind: stage
    name: {first}
    steps: [{{kind: interactive, name: t, form: ok, assignee: {{user: alice}}}}]
  - kind: stage
    name: {second}
    steps: [{{kind: interactive, name: t, form: ok, assignee: {{user: alice}}}}]
"""


def test_runs_stay_on_the_version_they_started_with(b: Baton) -> None:
    define(b, FLOW.format(first="draft_contract", second="sign_v1"))
    old = b.runs.start("pinned")
    define(b, FLOW.format(first="draft_contract", second="sign_v2"))
    new = b.runs.start("pinned")
    assert (old.version, new.version) == (1, 2)
    for run in (old, new):
        item = b.runs.show(run.id).work_items[0]
        b.as_user("alice").work.complete(item.id, {})
    assert b.runs.get(old.id).current_element == "sign_v1"
    assert b.runs.get(new.id).current_element == "sign_v2"
    versions = b.definitions.list()[0].versions
    assert [(v.number, v.status, v.runs) for v in versions] == [
        (1, "obsolete", 1),
        (2, "active", 1),
    ]


def test_a_draft_is_not_used_until_activated(b: Baton) -> None:
    define(b, FLOW.format(first="a", second="b"))
    define(b, FLOW.format(first="c", second="d"), activate=False)
    assert b.runs.start("pinned").current_element == "a"
    b.definitions.activate("pinned", 2)
    assert b.runs.start("pinned").current_element == "c"


def test_a_version_with_runs_cannot_be_deleted(b: Baton) -> None:
    define(b, FLOW.format(first="a", second="b"))
    b.runs.start("pinned")
    define(b, FLOW.format(first="c", second="d"))
    with pytest.raises(Conflict, match="has 1 run"):
        b.definitions.delete_version("pinned", 1)
    with pytest.raises(Conflict, match="is active"):
        b.definitions.delete_version("pinned", 2)
    define(b, FLOW.format(first="e", second="f"), activate=False)
    b.definitions.delete_version("pinned", 3)
    assert [v.number for v in b.definitions.list()[0].versions] == [1, 2]


def test_without_an_active_version_a_run_cannot_start(b: Baton) -> None:
    define(b, FLOW.format(first="a", second="b"), activate=False)
    with pytest.raises(
        Conflict,
        match="has no active version; activate one with: baton definitions activate pinned",
    ):
        b.runs.start("pinned")


def test_a_failing_transition_leaves_nothing_behind(b: Baton) -> None:
    # The database fails in the middle of a save that starts a triggered run: the record, the
    # run and every log row go, or none of them does.
    define(b, triggered("[created]", newly=False, criteria="True"))
    with b.db.write() as session:
        if b.db.is_sqlite:
            session.execute(
                text(
                    "CREATE TRIGGER fail_stage BEFORE INSERT ON run_log "
                    "WHEN NEW.event = 'stage_started' "
                    "BEGIN SELECT RAISE(ABORT, 'the disk failed'); END"
                )
            )
        else:
            session.execute(
                text(
                    "CREATE FUNCTION fail_stage() RETURNS trigger AS $$ BEGIN "
                    "IF NEW.event = 'stage_started' THEN RAISE EXCEPTION 'the disk failed'; "
                    "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            session.execute(
                text(
                    "CREATE TRIGGER fail_stage BEFORE INSERT ON run_log "
                    "FOR EACH ROW EXECUTE FUNCTION fail_stage()"
                )
            )
    with b.db.read() as session:
        before = [
            session.scalar(select(func.count()).select_from(t)) for t in (RecordRow, RunRow, LogRow)
        ]
    with pytest.raises(DBAPIError, match="the disk failed"):
        b.records.create("claim", {"number": "C-9"}, owner="alice")
    with b.db.read() as session:
        after = [
            session.scalar(select(func.count()).select_from(t)) for t in (RecordRow, RunRow, LogRow)
        ]
    assert after == before


def test_record_triggered_orchestrations_cannot_require_inputs(b: Baton) -> None:
    text_ = triggered("[created]", newly=False).replace(
        "forms:", "variables: [{name: must, type: text, input: true, required: true}]\nforms:"
    )
    with pytest.raises(InvalidInput) as caught:
        define(b, text_)
    assert any("start without inputs" in d for d in caught.value.details)
