"""Who may do what with work: a claim keeps an item from reassignment by other members, and
counting work follows the same visibility as listing it."""

from __future__ import annotations

import pytest

from engine.services.baton import Baton
from engine.services.errors import NotFound, PermissionDenied
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
