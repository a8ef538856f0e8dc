"""Who may do what with work: a claim keeps an item from reassignment by other members, and
counting work follows the same visibility as listing it."""

from __future__ import annotations

import pytest

from engine.errors import InvalidInput, NotFound, PermissionDenied
from engine.services.baton import Baton
from tests.conftest import define, people

FLOW = """
format: 1
name: flow
variables: [{name: who, type: text, input: true, default: alice}]
forms: {ok: {fields: [{name: note, type: text}]}}
elements:
  - kind: stage
    name: s
    steps:
      - {kind: interactive, name: mine, form: ok, assignee: {expression: vars.who}}
      - {kind: interactive, name: queued, form: ok, assignee: {queue: legal}}
"""


@pytest.fixture
def b(baton: Baton) -> Baton:
    people(baton)
    baton.directory.create_user("frank", email="frank@example.com", role="user")
    define(baton, FLOW)
    return baton


def items(baton: Baton, run_id: int) -> dict[str, int]:
    return {w.step: w.id for w in baton.runs.show(run_id).work_items}


def test_a_member_cannot_reassign_an_item_another_member_claimed(b: Baton) -> None:
    run = b.runs.start("flow")
    queued = items(b, run.id)["queued"]
    b.as_user("bob").work.claim(queued)
    before = b.runs.show(run.id)
    [outcome] = b.as_user("dave").work.reassign([queued], "user:dave", "I will do it")
    assert not outcome.done
    assert "bob has claimed it" in outcome.message
    assert "only bob, a supervisor or an admin may reassign it" in outcome.message
    assert b.runs.show(run.id) == before  # the claim holds, nothing logged
    [outcome] = b.as_user("bob").work.reassign([queued], "user:dave", "dave knows this client")
    assert outcome.done, outcome.message
    item = b.work.get(queued)
    assert (item.assignee, item.claimed_by, item.status) == ("dave", None, "Assigned")


def test_a_supervisor_may_reassign_a_claimed_item(b: Baton) -> None:
    run = b.runs.start("flow")
    queued = items(b, run.id)["queued"]
    b.as_user("bob").work.claim(queued)
    [outcome] = b.as_user("carol").work.reassign([queued], "user:dave", "bob is overloaded")
    assert outcome.done, outcome.message
    assert b.work.get(queued).claimed_by is None


def test_counting_work_follows_the_visibility_of_listing_it(b: Baton) -> None:
    b.runs.start("flow", {"who": "frank"})
    alice = b.as_user("alice")
    with pytest.raises(PermissionDenied, match="cannot see frank's work"):
        alice.work.list(user="frank")
    with pytest.raises(PermissionDenied, match="cannot see frank's work"):
        alice.work.count(user="frank")
    assert alice.work.count(user="alice") == alice.work.count() == 0
    frank = b.as_user("frank")
    assert frank.work.count() == len(frank.work.list()) == 1
    carol = b.as_user("carol")
    assert carol.work.count(user="frank") == len(carol.work.list(user="frank")) == 1
    assert carol.work.count() == len(carol.work.list()) == 2
    with pytest.raises(NotFound, match="no user named 'ghost'"):
        carol.work.count(user="ghost")


def test_the_inbox_filters_and_sorts_in_sql_and_its_count_agrees(b: Baton) -> None:
    runs = [b.runs.start("flow", {"who": "bob"}) for _ in range(5)]
    dave = b.as_user("dave")
    claimed = items(b, runs[1].id)["queued"]
    dave.work.claim(claimed)
    bob = b.as_user("bob")
    everything = bob.work.list(user="bob")
    assert len(everything) == 10 and bob.work.count(user="bob") == 10
    # Work dave claimed is his until released: it leaves bob's page, and the count agrees.
    mine = bob.work.list(user="bob", hide_claimed_by_others=True, limit=3)
    assert claimed not in {i.id for i in mine} and len(mine) == 3
    assert bob.work.count(user="bob", hide_claimed_by_others=True) == 9
    pages = [
        i.id
        for offset in range(0, 9, 4)
        for i in bob.work.list(user="bob", hide_claimed_by_others=True, limit=4, offset=offset)
    ]
    assert len(pages) == len(set(pages)) == 9
    # Text matches the step, the assignee or the orchestration, whatever the case.
    assert {i.step for i in bob.work.list(user="bob", text="QUEU")} == {"queued"}
    assert bob.work.count(user="bob", text="queu") == 5
    assert bob.work.count(user="bob", text="FLOW") == 10
    assert bob.work.count(user="bob", text="100%") == 0  # wildcards are plain characters
    # Sorts: the newest first by age, the oldest first when reversed.
    by_age = [i.id for i in bob.work.list(user="bob", sort="age")]
    assert by_age == sorted(by_age, reverse=True)
    assert [i.id for i in bob.work.list(user="bob", sort="age", descending=True)] == sorted(by_age)
    with pytest.raises(InvalidInput, match="cannot sort work by 'colour'"):
        bob.work.list(user="bob", sort="colour")


def test_field_problems_travel_by_field(b: Baton) -> None:
    """A refusal names each field's problem by the field, for widgets to show it there."""
    with pytest.raises(InvalidInput) as started:
        b.runs.start("flow", {"who": 5, "colour": "red"})
    assert list(started.value.fields) == ["colour"]
    assert "not an input of 'flow'" in started.value.fields["colour"]
    assert any(d.startswith("colour: not an input") for d in started.value.details)


DUE_FLOW = """
format: 1
name: timed
variables: [{name: who, type: text, input: true, default: bob}]
forms: {ok: {fields: [{name: note, type: text}]}}
elements:
  - kind: stage
    name: s
    steps:
      - {kind: interactive, name: soon, form: ok, assignee: {expression: vars.who}, due: 2 hours}
      - {kind: interactive, name: later, form: ok, assignee: {queue: legal}, due: 30 days}
      - {kind: interactive, name: open_ended, form: ok, assignee: {queue: legal}}
"""


def test_the_inbox_filters_by_due_moment_and_kind_of_assignee_in_sql(b: Baton) -> None:
    import datetime as dt

    define(b, DUE_FLOW)
    b.runs.start("timed", {"who": "bob"})
    bob = b.as_user("bob")
    week = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    due = bob.work.list(user="bob", text="timed", due_before=week)
    assert [i.step for i in due] == ["soon"]  # work without a due date is never 'due'
    assert bob.work.count(user="bob", text="timed", due_before=week) == 1
    queued = bob.work.list(user="bob", text="timed", assignee_kind="queue")
    assert sorted(i.step for i in queued) == ["later", "open_ended"]
    assert bob.work.count(user="bob", text="timed", assignee_kind="queue") == 2
    with pytest.raises(InvalidInput, match="cannot list work assigned to a 'team'"):
        bob.work.list(user="bob", assignee_kind="team")


def test_open_work_counts_per_person_queue_and_group_are_for_staff(b: Baton) -> None:
    b.runs.start("flow", {"who": "bob"})
    b.runs.start("flow", {"who": "bob"})
    counts = b.as_user("carol").work.open_counts(["bob", "queue:legal", "group:security", "dave"])
    assert counts == {"bob": 2, "queue:legal": 2, "group:security": 0, "dave": 0}
    with pytest.raises(PermissionDenied):
        b.as_user("alice").work.open_counts(["bob"])
