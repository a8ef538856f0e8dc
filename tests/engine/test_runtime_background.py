"""Background steps: actions, failure handling (error, fault path, continue), retries, waits,
events and child runs. Time moves with the test clock, never with sleep."""

from __future__ import annotations

import datetime as dt
import socket
from typing import Any

import pytest
from sqlalchemy import event, select

from engine.definitions.objects import ObjectType
from engine.runtime import passes
from engine.services.baton import Baton
from engine.store.models import OutboxRow
from tests.conftest import define, events, flow, open_items, people, step_status
from tests.slow_http import SlowServer


@pytest.fixture
def b(baton: Baton) -> Baton:
    people(baton)
    baton.records.define_type(
        ObjectType.model_validate(
            {
                "name": "ticket",
                "title_field": "subject",
                "fields": [
                    {"name": "subject", "type": "text", "required": True},
                    {
                        "name": "status",
                        "type": "picklist",
                        "options": ["Open", "Done"],
                        "default": "Open",
                    },
                    {"name": "ready", "type": "checkbox"},
                ],
            }
        )
    )
    return baton


def one_stage(steps: str, *, extra: str = "", more: str = "", head: str = "") -> str:
    return f"""
format: 1
name: flow
error_recipients: [ops@example.com]
{head}
forms:
  ok: {{fields: [{{name: note, type: text}}]}}
elements:
  - kind: stage
    name: work
{extra}    steps:
{steps}{more}"""


def outbox(baton: Baton) -> list[tuple[str, str]]:
    with baton.db.read() as session:
        return [
            (r.recipient, r.subject)
            for r in session.scalars(select(OutboxRow).order_by(OutboxRow.id))
        ]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_actions_run_in_order_and_share_values(b: Baton) -> None:
    steps = """      - kind: background
        name: prepare
        actions:
          - {type: set_variables, values: {base: "40"}}
          - {type: set_variables, values: {total: "vars.base + 2"}}
          - {type: create_record, object: ticket, values: {subject: "'Answer is ' + text(vars.total)"}, output: ticket_id}
          - {type: send_email, to: [alice, "queue:legal"], subject: "Total {{ vars.total }}", body: "Ticket {{ work.prepare.outputs.ticket_id }}"}
"""
    define(b, one_stage(steps))
    run = b.runs.start("flow")
    assert b.worker.run_once().steps_run == 1
    detail = b.runs.show(run.id)
    assert detail.run.status == "Completed"
    assert detail.variables == {"base": 40, "total": 42}
    ticket_id = detail.stages[0].steps[0].outputs["ticket_id"]
    assert b.records.get(ticket_id).title == "Answer is 42"
    assert outbox(b) == [
        ("alice@example.com", "Total 42"),
        ("bob@example.com", "Total 42"),
        ("dave@example.com", "Total 42"),
    ]


def test_update_record_is_seen_by_waiting_conditions(b: Baton) -> None:
    ticket = b.records.create("ticket", {"subject": "Printer"})
    steps = """      - {kind: interactive, name: fix, form: ok, assignee: {user: alice}, start: {when: expression, expression: record.ready, mode: wait}}
"""
    define(b, one_stage(steps))
    run = b.runs.start("flow", record_id=ticket.id)
    assert step_status(b, run.id)["work.fix"] == "NotStarted"
    b.records.update(ticket.id, {"ready": True})
    assert step_status(b, run.id)["work.fix"] == "InProgress"


FAILING = """      - kind: background
        name: broken
        actions: [{{type: set_variables, values: {{x: "1 / 0"}}}}]{policy}
      - {{kind: interactive, name: other, form: ok, assignee: {{user: alice}}}}
"""


def test_failure_default_errors_run_stage_step_and_mails(b: Baton) -> None:
    define(b, one_stage(FAILING.format(policy="")))
    run = b.runs.start("flow")
    b.worker.run_once()
    detail = b.runs.show(run.id)
    assert detail.run.status == "Error"
    assert detail.stages[0].status == "Error"
    assert step_status(b, run.id) == {"work.broken": "Error", "work.other": "Discontinued"}
    assert open_items(b, run.id) == []
    assert detail.run.error is not None and "division by zero" in detail.run.error
    assert any(to == "ops@example.com" and "failed" in subject for to, subject in outbox(b))


def test_failure_continue(b: Baton) -> None:
    define(b, one_stage(FAILING.format(policy="\n        on_failure: continue")))
    run = b.runs.start("flow")
    b.worker.run_once()
    assert step_status(b, run.id) == {"work.broken": "Error", "work.other": "InProgress"}
    assert b.runs.get(run.id).status == "InProgress"
    item = b.runs.show(run.id).work_items[0]
    b.as_user("alice").work.complete(item.id, {})
    assert b.runs.get(run.id).status == "Completed"


def test_failure_takes_the_fault_path(b: Baton) -> None:
    more = """  - kind: stage
    name: recover
    steps:
      - {kind: interactive, name: fix_it, form: ok, assignee: {user: carol}}
"""
    define(
        b,
        one_stage(
            FAILING.format(policy=""), extra="    fault: recover\n    next: end\n", more=more
        ),
    )
    run = b.runs.start("flow")
    b.worker.run_once()
    detail = b.runs.show(run.id)
    assert detail.run.status == "InProgress"
    assert [(s.stage, s.status) for s in detail.stages] == [
        ("work", "Error"),
        ("recover", "InProgress"),
    ]
    assert open_items(b, run.id) == ["fix_it"]
    assert "fault_path" in events(b, run.id)


def test_external_failure_is_retried_with_backoff_then_errors(b: Baton, clock: Any) -> None:
    port = closed_port()
    steps = f"""      - kind: background
        name: call
        retry: {{attempts: 3, backoff_seconds: 60, max_backoff_seconds: 600}}
        actions: [{{type: http_request, url: "http://127.0.0.1:{port}/hook", timeout_seconds: 2}}]
"""
    define(b, one_stage(steps))
    run = b.runs.start("flow")
    b.worker.run_once()
    assert b.runs.get(run.id).status == "InProgress"
    assert events(b, run.id).count("step_retry") == 1
    b.worker.run_once()  # not due yet: nothing happens
    assert events(b, run.id).count("step_retry") == 1
    clock.advance(dt.timedelta(minutes=2))
    b.worker.run_once()
    assert events(b, run.id).count("step_retry") == 2
    clock.advance(dt.timedelta(minutes=5))
    b.worker.run_once()
    detail = b.runs.show(run.id)
    assert detail.run.status == "Error"
    assert detail.stages[0].steps[0].attempt == 3
    assert detail.run.error is not None and f"127.0.0.1:{port}/hook failed" in detail.run.error


def test_wait_until_a_time(b: Baton, clock: Any) -> None:
    steps = """      - kind: background
        name: pause
        actions:
          - {type: wait_until, until: "add_hours(run.started_at, 2)"}
          - {type: set_variables, values: {woke: "True"}}
"""
    define(b, one_stage(steps))
    run = b.runs.start("flow")
    b.worker.run_once()
    assert b.runs.get(run.id).status == "InProgress"
    assert "step_waiting" in events(b, run.id)
    clock.advance(dt.timedelta(hours=1))
    b.worker.run_once()
    assert b.runs.get(run.id).status == "InProgress"
    clock.advance(dt.timedelta(hours=1, seconds=1))
    b.worker.run_once()
    assert b.runs.show(run.id).variables == {"woke": True}


WAIT_EVENT = """      - kind: background
        name: await_payment
        actions:
          - {{type: wait_for_event, event: payment, key: "'INV-' + text(run.id)", output: paid{timeout}}}
"""


def test_event_arriving_after_the_wait(b: Baton) -> None:
    define(b, one_stage(WAIT_EVENT.format(timeout="")))
    run = b.runs.start("flow")
    b.worker.run_once()
    assert b.runs.get(run.id).status == "InProgress"
    other = b.events.publish("payment", "INV-999", {"amount": 1})
    assert other.consumed_by_step_run_id is None
    event = b.events.publish("payment", f"INV-{run.id}", {"amount": 120})
    assert event.consumed_by_step_run_id is not None
    b.worker.run_once()
    detail = b.runs.show(run.id)
    assert detail.run.status == "Completed"
    assert detail.stages[0].steps[0].outputs == {"paid": {"amount": 120}}


def test_event_arriving_before_the_wait_is_kept(b: Baton) -> None:
    define(b, one_stage(WAIT_EVENT.format(timeout="")))
    b.events.publish("payment", "INV-1", {"amount": 7})
    run = b.runs.start("flow")
    assert run.id == 1
    b.worker.run_once()
    assert b.runs.show(run.id).stages[0].steps[0].outputs == {"paid": {"amount": 7}}


def test_event_wait_times_out(b: Baton, clock: Any) -> None:
    define(b, one_stage(WAIT_EVENT.format(timeout=", timeout: 2 hours")))
    run = b.runs.start("flow")
    b.worker.run_once()
    clock.advance(dt.timedelta(hours=3))
    b.worker.run_once()
    summary = b.runs.get(run.id)
    assert summary.status == "Error"
    assert summary.error is not None and "arrived before the timeout" in summary.error


def test_an_event_wait_past_its_timeout_needs_attention_until_a_worker_acts(
    b: Baton, clock: Any
) -> None:
    define(b, one_stage(WAIT_EVENT.format(timeout=", timeout: 2 hours")))
    run = b.runs.start("flow")
    b.worker.run_once()
    assert b.attention.report().counts["event_timeout"] == 0
    clock.advance(dt.timedelta(hours=2, minutes=1))  # past the timeout, within a poll's grace
    assert b.attention.report().counts["event_timeout"] == 0
    clock.advance(dt.timedelta(minutes=5))  # no worker came: somebody should look
    report = b.attention.report()
    (late,) = [a for a in report.items if a.kind == "event_timeout"]
    assert (late.run_id, late.stage, late.step) == (run.id, "work", "await_payment")
    assert f"event 'payment' [INV-{run.id}] past its timeout" in late.detail
    assert "is a worker running?" in late.detail
    b.worker.run_once()
    report = b.attention.report()
    assert report.counts["event_timeout"] == 0
    assert [a.run_id for a in report.items if a.kind == "failed"] == [run.id]


def test_start_another_orchestration_and_wait_for_it(b: Baton) -> None:
    define(
        b,
        """
format: 1
name: child
variables: [{name: n, type: number, input: true}]
forms: {ok: {fields: [{name: note, type: text}]}}
elements:
  - kind: stage
    name: only
    steps:
      - {kind: interactive, name: t, form: ok, assignee: {user: bob}}
      - {kind: background, name: double, actions: [{type: set_variables, values: {doubled: "vars.n * 2"}}]}
""",
    )
    steps = """      - kind: background
        name: spawn
        actions: [{type: start_orchestration, orchestration: child, inputs: {n: "21"}, wait: true, output: child}]
"""
    define(b, one_stage(steps))
    parent = b.runs.start("flow")
    b.worker.run_once()
    children = b.runs.list(orchestration="child")
    assert len(children) == 1
    assert b.runs.get(parent.id).status == "InProgress"
    item = b.runs.show(children[0].id).work_items[0]
    b.as_user("bob").work.complete(item.id, {})
    b.worker.run_once()
    detail = b.runs.show(parent.id)
    assert detail.run.status == "Completed"
    assert detail.stages[0].steps[0].outputs["child"]["variables"]["doubled"] == 42


def test_a_failing_writing_action_is_undone_whole_and_the_failure_kept(b: Baton) -> None:
    steps = """      - kind: background
        name: file_it
        actions:
          - {type: set_variables, values: {before: "1"}}
          - {type: send_email, to: [alice], subject: "Filed", body: "x"}
          - {type: create_record, object: ticket, values: {subject: "'A'", status: "'Lost'"}}
"""
    define(b, one_stage(steps))
    run = b.runs.start("flow")
    b.worker.run_once()
    detail = b.runs.show(run.id)
    assert detail.run.status == "Error"
    assert detail.stages[0].steps[0].status == "Error"
    assert detail.run.error is not None and "'Lost' is not one of Open, Done" in detail.run.error
    # Actions before the failing one stay done; the failing one left nothing behind.
    assert detail.variables == {"before": 1}
    assert outbox(b)[0] == ("alice@example.com", "Filed")
    assert b.records.list("ticket") == []


def test_an_interactive_step_that_cannot_start_takes_the_fault_path(b: Baton) -> None:
    # A queue the directory does not have (not made yet on this database): the step's work
    # item cannot be made. With a fault path the run goes on there, as for a background
    # step that failed; without one the run is in Error with the reason.
    steps = "      - {kind: interactive, name: triage, form: ok, assignee: {queue: ghosts}}\n"
    more = """  - kind: stage
    name: recover
    steps:
      - {kind: interactive, name: fix_it, form: ok, assignee: {user: carol}}
"""
    define(b, one_stage(steps, extra="    fault: recover\n    next: end\n", more=more))
    define(b, one_stage(steps).replace("name: flow", "name: plain"))
    run = b.runs.start("flow")
    detail = b.runs.show(run.id)
    assert detail.run.status == "InProgress"
    assert [(s.stage, s.status) for s in detail.stages] == [
        ("work", "Error"),
        ("recover", "InProgress"),
    ]
    assert step_status(b, run.id)["work.triage"] == "Error"
    assert open_items(b, run.id) == ["fix_it"]
    assert "fault_path" in events(b, run.id)
    plain = b.runs.get(b.runs.start("plain").id)
    assert plain.status == "Error"
    assert plain.error is not None and "ghosts" in plain.error


def test_a_fault_path_that_cannot_start_either_ends_the_run_in_error(b: Baton) -> None:
    steps = "      - {kind: interactive, name: triage, form: ok, assignee: {queue: ghosts}}\n"
    define(b, one_stage(steps, extra="    fault: work\n"))  # its own fault path: a loop
    run = b.runs.get(b.runs.start("flow").id)
    assert run.status == "Error"
    assert run.error is not None


def test_a_run_that_starts_itself_stops_at_the_nesting_limit(b: Baton) -> None:
    from engine.runtime.starting import MAX_NESTING

    steps = """      - kind: background
        name: spawn
        actions: [{type: start_orchestration, orchestration: flow}]
"""
    define(b, one_stage(steps))
    first = b.runs.start("flow")
    report = b.worker.run_once()  # returns: the loop ends at the limit, not at 1,000 rounds
    assert report.errors == []
    runs = b.runs.list(orchestration="flow", limit=100)
    assert len(runs) == MAX_NESTING + 1  # the first run and 16 levels of children
    failed = [r for r in runs if r.status == "Error"]
    assert len(failed) == 1 and failed[0].id != first.id
    assert failed[0].error == (
        "step 'work.spawn' failed: step 'work.spawn', action 1: starting 'flow' was refused: "
        f"it would be a child run {MAX_NESTING + 1} levels deep (the limit is {MAX_NESTING}); "
        "runs starting each other need a condition that stops them"
    )
    assert {r.status for r in runs if r.id != failed[0].id} == {"Completed"}


def test_a_call_claimed_by_a_batch_is_made_without_a_transaction_of_its_own_first(
    baton: Baton, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With free slots, the batch that reaches a step's call claims it, and the call is made
    as soon as the batch commits: one batch and one result a call. The call used to claim
    itself again in a transaction of its own first (ten statements more on PostgreSQL)."""
    batches: list[int] = []
    real_batch = passes._run_batch

    def counted_batch(*args: Any, **kwargs: Any) -> Any:
        batches.append(len(args[1]))
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(passes, "_run_batch", counted_batch)
    writes: list[int] = []

    def began(connection: Any) -> None:
        if not connection.get_execution_options().get("baton_read_only"):
            writes.append(1)

    with SlowServer(0.05) as server:
        url = f"http://127.0.0.1:{server.port}/run/{{{{run.id}}}}"
        define(baton, flow(f'[{{type: http_request, url: "{url}"}}]', name="calls"))
        runs = [baton.runs.start("calls").id for _ in range(12)]
        event.listen(baton.db.engine, "begin", began)
        try:
            report = baton.worker.run_once(concurrency=4)
        finally:
            event.remove(baton.db.engine, "begin", began)
    assert (report.steps_run, report.errors) == (12, [])
    assert {baton.runs.get(r).status for r in runs} == {"Completed"}
    assert dict(server.hits) == {f"/run/{r}": 1 for r in runs}
    assert sum(batches) == 12  # each step met once by a batch, which claimed its call
    assert len(writes) == len(batches) + 12
