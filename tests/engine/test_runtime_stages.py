"""Stages and steps: parallel steps, start conditions, exit conditions, decisions, loops."""

from __future__ import annotations

import pytest

from engine.errors import Conflict, InvalidInput
from engine.services.baton import Baton
from tests.conftest import define, events, open_items, people, step_status

HEADER = """
format: 1
name: flow
variables:
  - {name: amount, type: number, input: true, default: 0}
  - {name: ready, type: boolean, input: true, default: false}
error_recipients: [ops@example.com]
forms:
  ok:
    fields: [{name: note, type: text}]
  vote:
    fields: [{name: approved, type: checkbox}]
"""


def task(name: str, user: str = "alice", extra: str = "") -> str:
    return f"      - {{kind: interactive, name: {name}, form: ok, assignee: {{user: {user}}}{extra}}}\n"


def bg(name: str, values: str = "{x: '1'}", extra: str = "") -> str:
    return f"      - {{kind: background, name: {name}, actions: [{{type: set_variables, values: {values}}}]{extra}}}\n"


def flow(*stages: str) -> str:
    return HEADER + "elements:\n" + "".join(stages)


def stage(name: str, steps: str, extra: str = "") -> str:
    return f"  - kind: stage\n    name: {name}\n{extra}    steps:\n{steps}"


def finish(baton: Baton, run_id: int, step: str, user: str = "alice", **values: object) -> None:
    item = next(
        w for w in baton.runs.show(run_id).work_items if w.step == step and w.status == "Assigned"
    )
    baton.as_user(user).work.complete(item.id, dict(values))


@pytest.fixture
def b(baton: Baton) -> Baton:
    people(baton)
    return baton


def test_parallel_steps_start_together(b: Baton) -> None:
    define(
        b, flow(stage("review", task("legal") + task("security", "bob") + task("finance", "carol")))
    )
    run = b.runs.start("flow")
    assert open_items(b, run.id) == ["finance", "legal", "security"]
    finish(b, run.id, "legal")
    assert step_status(b, run.id)["review.legal"] == "Completed"
    assert b.runs.get(run.id).status == "InProgress"
    finish(b, run.id, "security", "bob")
    finish(b, run.id, "finance", "carol")
    assert b.runs.get(run.id).status == "Completed"


def test_start_after_named_steps(b: Baton) -> None:
    define(
        b,
        flow(
            stage(
                "s", task("first") + task("second", extra=", start: {when: after, steps: [first]}")
            )
        ),
    )
    run = b.runs.start("flow")
    assert step_status(b, run.id)["s.second"] == "NotStarted"
    finish(b, run.id, "first")
    assert step_status(b, run.id)["s.second"] == "InProgress"


@pytest.mark.parametrize(("amount", "expected"), [(500, "Skipped"), (5000, "InProgress")])
def test_start_expression_once(b: Baton, amount: int, expected: str) -> None:
    cond = ", start: {when: expression, expression: 'vars.amount > 1000', mode: once}"
    define(b, flow(stage("s", task("always") + task("big_only", extra=cond))))
    run = b.runs.start("flow", {"amount": amount})
    assert step_status(b, run.id)["s.big_only"] == expected


def test_start_expression_waited_on(b: Baton) -> None:
    cond = ", start: {when: expression, expression: \"s.first.outputs.note == 'go'\", mode: wait}"
    define(b, flow(stage("s", task("first") + task("waiter", extra=cond))))
    run = b.runs.start("flow")
    assert step_status(b, run.id)["s.waiter"] == "NotStarted"
    finish(b, run.id, "first", note="go")
    assert step_status(b, run.id)["s.waiter"] == "InProgress"


def test_waited_step_that_never_holds_keeps_the_stage_open(b: Baton) -> None:
    cond = ", start: {when: expression, expression: 'vars.ready', mode: wait}"
    define(b, flow(stage("s", task("first") + task("waiter", extra=cond))))
    run = b.runs.start("flow")
    finish(b, run.id, "first")
    assert step_status(b, run.id)["s.waiter"] == "NotStarted"
    assert b.runs.get(run.id).status == "InProgress"


def test_exit_on_named_steps_discontinues_the_rest(b: Baton) -> None:
    exit_ = "    exit: {when: steps, steps: [decisive]}\n"
    define(
        b,
        flow(
            stage(
                "s",
                task("decisive")
                + task("optional", "bob")
                + task("later", extra=", start: {when: after, steps: [optional]}"),
                exit_,
            )
        ),
    )
    run = b.runs.start("flow")
    finish(b, run.id, "decisive")
    statuses = step_status(b, run.id)
    assert statuses == {
        "s.decisive": "Completed",
        "s.optional": "Discontinued",
        "s.later": "Discontinued",
    }
    items = {w.step: w.status for w in b.runs.show(run.id).work_items}
    assert items["optional"] == "Canceled"
    assert b.runs.get(run.id).status == "Completed"


def test_exit_on_expression(b: Baton) -> None:
    exit_ = "    exit: {when: expression, expression: \"s.a.outputs.note == 'enough'\"}\n"
    define(b, flow(stage("s", task("a") + task("b", "bob"), exit_)))
    run = b.runs.start("flow")
    finish(b, run.id, "a", note="not yet")
    # The note is not 'enough': the stage waits for every… no — its exit is the expression only.
    assert b.runs.get(run.id).status == "InProgress"
    b2 = b.runs.start("flow")
    finish(b, b2.id, "a", note="enough")
    assert b.runs.get(b2.id).status == "Completed"
    assert step_status(b, b2.id)["s.b"] == "Discontinued"


DECISION = """
  - kind: decision
    name: route
    outcomes:
      - {name: big, when: vars.amount > 1000, next: big}
      - {name: medium, when: vars.amount > 100, next: medium}
    default: small
"""


@pytest.mark.parametrize(("amount", "stage_name"), [(5000, "big"), (500, "medium"), (5, "small")])
def test_decision_takes_first_true_outcome_or_default(
    b: Baton, amount: int, stage_name: str
) -> None:
    define(
        b,
        flow(
            stage("start", bg("go")),
            DECISION,
            stage("big", task("t"), "    next: end\n"),
            stage("medium", task("t"), "    next: end\n"),
            stage("small", task("t"), "    next: end\n"),
        ),
    )
    run = b.runs.start("flow", {"amount": amount})
    b.worker.run_once()
    assert b.runs.get(run.id).current_element == stage_name
    assert [s.stage for s in b.runs.show(run.id).stages] == ["start", stage_name]


LOOP = """
  - kind: decision
    name: again
    outcomes:
      - {name: done, when: "review.vote.outputs.approved", next: end}
    default: review
"""


def test_go_to_loop_makes_a_new_visit(b: Baton) -> None:
    define(
        b,
        flow(
            stage(
                "review",
                "      - {kind: interactive, name: vote, form: vote, assignee: {user: alice}}\n",
            ),
            LOOP,
        ),
    )
    run = b.runs.start("flow")
    finish(b, run.id, "vote", approved=False)
    visits = [(s.stage, s.visit, s.status) for s in b.runs.show(run.id).stages]
    assert visits == [("review", 1, "Completed"), ("review", 2, "InProgress")]
    finish(b, run.id, "vote", approved=True)
    assert b.runs.get(run.id).status == "Completed"


def test_loop_guard_names_the_loop(b: Baton) -> None:
    define(
        b,
        flow(
            stage(
                "review",
                "      - {kind: interactive, name: vote, form: vote, assignee: {user: alice}}\n",
                "    max_visits: 2\n",
            ),
            LOOP,
        ),
    )
    run = b.runs.start("flow")
    finish(b, run.id, "vote", approved=False)
    finish(b, run.id, "vote", approved=False)
    summary = b.runs.get(run.id)
    assert summary.status == "Error"
    assert summary.error is not None
    assert "stage 'review' was entered 3 times, more than its max_visits (2)" in summary.error


def test_decisions_that_loop_on_themselves_stop(b: Baton) -> None:
    text = flow(
        stage("s", bg("go")),
        """
  - kind: decision
    name: ping
    outcomes: [{name: p, when: "True", next: pong}]
    default: pong
  - kind: decision
    name: pong
    outcomes: [{name: p, when: "True", next: ping}]
    default: ping
""",
    )
    define(b, text)
    run = b.runs.start("flow")
    b.worker.run_once()
    summary = b.runs.get(run.id)
    assert summary.status == "Error"
    assert summary.error is not None and "without reaching a stage" in summary.error


def test_form_refusal_changes_nothing(b: Baton) -> None:
    text = HEADER.replace(
        "fields: [{name: note, type: text}]",
        "fields: [{name: note, type: text, required: true}, {name: n, type: number, "
        "validation: {expression: value > 0, message: Must be positive.}}]",
    )
    define(b, text + "elements:\n" + stage("s", task("t")))
    run = b.runs.start("flow")
    before = b.runs.show(run.id)
    item = before.work_items[0]
    with pytest.raises(InvalidInput) as caught:
        b.as_user("alice").work.complete(item.id, {"n": -3, "colour": "red"})
    assert set(caught.value.details) == {
        "note: is required",
        "n: Must be positive.",
        "colour: the form has no field 'colour'",
    }
    after = b.runs.show(run.id)
    assert after.log == before.log
    assert after.work_items == before.work_items
    b.as_user("alice").work.complete(item.id, {"note": "fine", "n": "4"})
    assert b.runs.show(run.id).stages[0].steps[0].outputs["n"] == 4


def test_outcome_buttons_are_required_and_checked(b: Baton) -> None:
    text = HEADER.replace(
        "fields: [{name: note, type: text}]",
        "fields: [{name: note, type: text}]\n    outcomes: [{name: approve}, {name: reject}]",
    )
    define(b, text + "elements:\n" + stage("s", task("t")))
    run = b.runs.start("flow")
    item = b.runs.show(run.id).work_items[0]
    with pytest.raises(InvalidInput, match="not submitted") as caught:
        b.as_user("alice").work.complete(item.id, {})
    assert caught.value.details == ["outcome: choose one of: approve, reject"]
    b.as_user("alice").work.complete(item.id, {}, outcome="approve")
    assert b.runs.show(run.id).stages[0].steps[0].outputs["outcome"] == "approve"


def test_only_the_assignee_or_members_may_complete(b: Baton) -> None:
    define(
        b,
        flow(
            stage(
                "s",
                task("mine")
                + "      - {kind: interactive, name: queued, form: ok, assignee: {queue: legal}}\n",
            )
        ),
    )
    run = b.runs.start("flow")
    items = {w.step: w.id for w in b.runs.show(run.id).work_items}
    with pytest.raises(Exception, match="is not that user"):
        b.as_user("bob").work.complete(items["mine"], {})
    with pytest.raises(Exception, match="is not a member"):
        b.as_user("alice").work.complete(items["queued"], {})
    b.as_user("bob").work.claim(items["queued"])
    with pytest.raises(Conflict, match="claimed by bob"):
        b.as_user("dave").work.complete(items["queued"], {})
    b.as_user("bob").work.release(items["queued"])
    b.as_user("dave").work.complete(items["queued"], {})


def test_completion_expression_completes_without_submission(b: Baton) -> None:
    extra = ", completion: \"s.other.status == 'Completed'\""
    define(b, flow(stage("s", task("watcher", "bob", extra) + task("other"))))
    run = b.runs.start("flow")
    finish(b, run.id, "other")
    assert step_status(b, run.id)["s.watcher"] == "Completed"
    assert open_items(b, run.id) == []
    assert b.runs.get(run.id).status == "Completed"


def test_cancel_stops_everything(b: Baton) -> None:
    define(b, flow(stage("s", task("a") + task("b", "bob"))))
    run = b.runs.start("flow")
    b.runs.cancel(run.id, "customer withdrew")
    assert set(step_status(b, run.id).values()) == {"Canceled"}
    assert open_items(b, run.id) == []
    assert "run_canceled" in events(b, run.id)


def test_assignment_to_nobody_is_a_clear_run_error(b: Baton) -> None:
    define(
        b,
        flow(
            stage(
                "s",
                "      - {kind: interactive, name: t, form: ok, assignee: {queue: nobody_here}}\n",
            )
        ),
    )
    run = b.runs.start("flow")
    summary = b.runs.get(run.id)
    assert summary.status == "Error"
    assert (
        summary.error
        == "step 's.t' cannot be assigned: the rule names queue 'nobody_here', which does not exist"
    )
