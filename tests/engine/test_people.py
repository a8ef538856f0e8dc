"""People and their work: directory, assignment, visibility, claims, races, reassignment."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from engine.errors import BatonError, Conflict, InvalidInput, PermissionDenied
from engine.services.baton import Baton
from engine.store.models import OutboxRow
from tests.conftest import define, events, people

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
      - {kind: interactive, name: queued, form: ok, assignee: {queue: legal}, priority: urgent}
"""


@pytest.fixture
def b(baton: Baton) -> Baton:
    people(baton)
    define(baton, FLOW)
    return baton


def items(baton: Baton, run_id: int) -> dict[str, int]:
    return {w.step: w.id for w in baton.runs.show(run_id).work_items}


def outbox(baton: Baton) -> list[tuple[str, str]]:
    with baton.db.read() as session:
        return [
            (r.recipient, r.subject)
            for r in session.scalars(select(OutboxRow).order_by(OutboxRow.id))
        ]


# ---------------------------------------------------------------- directory


def test_passwords_are_hashed_and_checked(b: Baton) -> None:
    b.directory.set_password("alice", "correct horse")
    assert b.directory.authenticate("alice", "correct horse").username == "alice"
    for name, password in [("alice", "wrong horse"), ("nobody", "correct horse")]:
        with pytest.raises(PermissionDenied, match=r"^wrong username or password$"):
            b.directory.authenticate(name, password)
    with b.db.read() as session:
        from engine.store.models import User

        stored = session.scalar(select(User.password_hash).where(User.username == "alice"))
    assert stored is not None and stored.startswith("$argon2") and "horse" not in stored
    with pytest.raises(InvalidInput, match="at least 8 characters"):
        b.directory.set_password("alice", "short")


def test_groups_and_queues_have_members(b: Baton) -> None:
    legal = b.directory.add_member("queue", "legal", "alice")
    assert legal.members == ["alice", "bob", "dave"]
    assert b.directory.user("alice").queues == ["legal"]
    assert b.directory.remove_member("queue", "legal", "alice").members == ["bob", "dave"]
    with pytest.raises(Conflict, match="already exists"):
        b.directory.create_group("queue", "legal")


# ---------------------------------------------------------------- assignment


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("ghost", "the rule 'vars.who' names user 'ghost', who does not exist"),
        ("", "the rule 'vars.who' resolved to nobody"),
        ("queue:empty", "the rule 'vars.who' names queue 'empty', which has no active members"),
    ],
)
def test_assignment_to_nobody_fails_the_run_clearly(b: Baton, who: str, message: str) -> None:
    b.directory.create_group("queue", "empty")
    run = b.runs.start("flow", {"who": who})
    summary = b.runs.get(run.id)
    assert summary.status == "Error"
    assert summary.error == f"step 's.mine' cannot be assigned: {message}"


def test_assignment_to_a_deactivated_user_fails_the_run(b: Baton) -> None:
    b.directory.deactivate("erin", "left the company")
    run = b.runs.start("flow", {"who": "erin"})
    assert b.runs.get(run.id).error == (
        "step 's.mine' cannot be assigned: the rule 'vars.who' names user 'erin', who is deactivated"
    )


# ---------------------------------------------------------------- visibility and claims


def test_queue_work_is_visible_to_members_only(b: Baton) -> None:
    run = b.runs.start("flow")
    ids = items(b, run.id)
    bob = b.as_user("bob")
    assert [w.step for w in bob.work.list()] == ["queued"]
    assert [w.step for w in b.as_user("alice").work.list()] == ["mine"]
    with pytest.raises(PermissionDenied, match="is not erin's work"):
        b.as_user("erin").work.get(ids["queued"])
    with pytest.raises(PermissionDenied, match="cannot see bob's work"):
        b.as_user("alice").work.list(user="bob")
    assert {w.step for w in b.as_user("carol").work.list()} == {"mine", "queued"}


def test_a_claim_takes_the_item_from_others_and_release_returns_it(b: Baton) -> None:
    run = b.runs.start("flow")
    queued = items(b, run.id)["queued"]
    claimed = b.as_user("bob").work.claim(queued)
    assert (claimed.status, claimed.claimed_by) == ("Claimed", "bob")
    seen_by_dave = b.as_user("dave").work.list()[0]
    assert seen_by_dave.claimed_by == "bob"  # others see who holds it
    with pytest.raises(Conflict, match="claimed by bob"):
        b.as_user("dave").work.complete(queued, {})
    b.as_user("bob").work.release(queued)
    assert b.as_user("dave").work.complete(queued, {}).completed_by == "dave"
    assert [e for e in events(b, run.id) if "claim" in e or "release" in e] == [
        "work_item_claimed",
        "work_item_released",
    ]


def test_concurrent_completions_exactly_one_wins(b: Baton) -> None:
    run = b.runs.start("flow")
    queued = items(b, run.id)["queued"]
    gate = threading.Barrier(2)
    results: dict[str, str] = {}

    def complete(user: str) -> None:
        service = b.as_user(user)
        gate.wait()
        try:
            service.work.complete(queued, {"note": user})
            results[user] = "won"
        except BatonError as exc:
            results[user] = exc.message

    threads = [threading.Thread(target=complete, args=(u,)) for u in ("bob", "dave")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results.values()).count("won") == 1
    loser = next(m for m in results.values() if m != "won")
    winner = next(u for u, m in results.items() if m == "won")
    assert f"was already completed by {winner} at" in loser
    item = b.work.get(queued)
    assert (item.completed_by, item.values["note"]) == (winner, winner)
    assert events(b, run.id).count("work_item_completed") == 1


def test_comment_and_priority(b: Baton) -> None:
    run = b.runs.start("flow")
    queued = items(b, run.id)["queued"]
    assert b.work.get(queued).priority == 4  # urgent
    done = b.as_user("bob").work.complete(queued, {}, comment="Checked the contract")
    assert done.comment == "Checked the contract"
    entry = next(e for e in b.runs.show(run.id).log if e.event == "work_item_completed")
    assert (entry.actor, entry.message) == ("bob", "Checked the contract")


# ---------------------------------------------------------------- reassignment


def test_the_assignee_reassigns_with_a_reason_and_the_new_one_is_told(b: Baton) -> None:
    run = b.runs.start("flow")
    mine = items(b, run.id)["mine"]
    [outcome] = b.as_user("alice").work.reassign([mine], "user:bob", "I am on holiday")
    assert outcome.done, outcome.message
    item = b.work.get(mine)
    assert (item.assignee_kind, item.assignee) == ("user", "bob")
    entry = next(e for e in b.runs.show(run.id).log if e.event == "work_item_reassigned")
    assert entry.actor == "alice"
    assert entry.message == "from user alice to user bob: I am on holiday"
    assert ("bob@example.com", "[Baton] Reassigned to you: Mine") in outbox(b)


def test_bulk_reassignment_reports_each_item(b: Baton) -> None:
    first, second = b.runs.start("flow"), b.runs.start("flow")
    a, c = items(b, first.id)["mine"], items(b, second.id)["queued"]
    b.as_user("alice").work.complete(a, {})
    outcomes = b.as_user("carol").work.reassign([a, c, 9999], "queue:legal", "balancing load")
    assert [(o.item_id, o.done) for o in outcomes] == [(a, False), (c, False), (9999, False)]
    assert "only open work can be reassigned" in outcomes[0].message
    assert "already assigned to queue legal" in outcomes[1].message
    assert "no work item with id 9999" in outcomes[2].message
    outcomes = b.as_user("carol").work.reassign([items(b, second.id)["mine"], c], "user:dave", "x")
    assert [o.done for o in outcomes] == [True, True]


def test_reassignment_refusals_change_nothing(b: Baton) -> None:
    run = b.runs.start("flow")
    mine = items(b, run.id)["mine"]
    before = b.runs.show(run.id)
    for actor, target, reason, fragment in [
        ("erin", "user:bob", "mine now", "only its assignee, a supervisor or an admin may"),
        ("alice", "user:ghost", "to a ghost", "names user 'ghost', who does not exist"),
        ("alice", "team:x", "bad target", "is not an assignee"),
        ("alice", "user:bob", " ", "a reason is required"),
    ]:
        [outcome] = b.as_user(actor).work.reassign([mine], target, reason)
        assert not outcome.done
        assert fragment in outcome.message
    assert b.runs.show(run.id) == before


# ---------------------------------------------------------------- deactivation


def test_deactivating_releases_claims_and_flags_work(b: Baton) -> None:
    run = b.runs.start("flow", {"who": "bob"})
    ids = items(b, run.id)
    b.as_user("bob").work.claim(ids["queued"])
    done = b.directory.deactivate("bob", "left the company")
    assert (done.claims_released, done.items_flagged) == (1, 1)
    queued, mine = b.work.get(ids["queued"]), b.work.get(ids["mine"])
    assert (queued.status, queued.claimed_by) == ("Assigned", None)
    flagged = b.runs.show(run.id).log
    assert any(
        e.event == "work_item_flagged" and "left the company" in (e.message or "") for e in flagged
    )
    with pytest.raises(PermissionDenied, match="is deactivated"):
        b.as_user("bob").work.list()
    [outcome] = b.as_user("carol").work.reassign([mine.id], "user:alice", "bob has left")
    assert outcome.done


def test_item_details_give_the_form_and_its_context(b: Baton) -> None:
    run = b.runs.start("flow")
    ids = items(b, run.id)
    b.as_user("bob").work.complete(ids["queued"], {"note": "fine by legal"})
    details = b.as_user("alice").work.details(ids["mine"])
    assert details.item.step == "mine"
    assert [f["name"] for f in details.form["fields"]] == ["note"]
    assert details.progress == [("s", "S", "InProgress")]
    assert details.earlier_outputs["s.queued"]["note"] == "fine by legal"
    assert details.about == {"Who": "alice"}  # the run's inputs: what the work is about
    assert b.as_user("alice").work.count() == 1
    with pytest.raises(PermissionDenied):
        b.as_user("erin").work.details(ids["mine"])
