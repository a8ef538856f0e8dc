"""Record triggers starting each other: SPEC's limit of 8 levels holds across transactions.

A run that saves its own record in a background step starts the next run in a later worker
transaction; before runs carried their depth, each transaction started counting at zero, so
one save started runs for ever and ``worker --once`` never returned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.cli.main import main
from engine.definitions.objects import ObjectType
from engine.runtime import passes
from engine.runtime.triggers import MAX_DEPTH
from engine.services.baton import Baton
from engine.store.models import RunRow
from tests.conftest import define, people

# More worker passes than any finite chain here needs; a pass beyond them means a loop.
PASSES = 60


@pytest.fixture
def b(baton: Baton) -> Baton:
    return prepared(baton)


def prepared(baton: Baton) -> Baton:
    people(baton)
    baton.records.define_type(
        ObjectType.model_validate(
            {
                "name": "ticket",
                "title_field": "subject",
                "fields": [
                    {"name": "subject", "type": "text"},
                    {"name": "count", "type": "number", "default": 0},
                    {"name": "turn", "type": "text"},
                ],
            }
        )
    )
    return baton


@pytest.fixture(autouse=True)
def bounded_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker pass that keeps finding due work fails the test instead of hanging it."""
    real = passes.due_steps
    calls = {"n": 0}

    def due_steps(*args: Any, **kwargs: Any) -> list[int]:
        calls["n"] += 1
        if calls["n"] > PASSES:
            raise AssertionError(f"the worker looked for due steps {PASSES} times: a loop")
        return real(*args, **kwargs)

    monkeypatch.setattr(passes, "due_steps", due_steps)


def bumping(name: str, criteria: str | None = None, turn: str | None = None) -> str:
    """A record-triggered orchestration whose background step updates the same record."""
    values = '{count: "record.count + 1"' + (f", turn: \"'{turn}'\"" if turn else "") + "}"
    when = f', criteria: "{criteria}"' if criteria else ""
    return f"""
format: 1
name: {name}
type: record_triggered
trigger: {{object: ticket, events: [updated]{when}}}
elements:
  - kind: stage
    name: work
    steps:
      - kind: background
        name: bump
        actions:
          - {{type: update_record, values: {values}}}
"""


def runs(b: Baton) -> list[RunRow]:
    with b.db.read() as session:
        rows = list(session.scalars(select(RunRow).order_by(RunRow.id)))
        session.expunge_all()
        return rows


def test_a_run_saving_its_own_record_stops_at_the_limit(b: Baton) -> None:
    define(b, bumping("bounce"))
    ticket = b.records.create("ticket", {"subject": "Printer"})
    b.records.update(ticket.id, {"subject": "Printer on fire"})  # a person: level 1
    report = b.worker.run_once()
    assert report.errors == []
    chain = runs(b)
    assert len(chain) == MAX_DEPTH
    assert [r.trigger_depth for r in chain] == list(range(1, MAX_DEPTH + 1))
    assert [r.status for r in chain] == ["Completed"] * (MAX_DEPTH - 1) + ["Error"]
    last = chain[-1]
    assert last.error is not None
    assert "'bounce'" in last.error  # the orchestration
    assert f"ticket {ticket.id}" in last.error  # the record
    chain_text = " → ".join(f"bounce (run {r.id})" for r in chain) + " → bounce"
    assert chain_text in last.error  # the chain, in order, and the run it would start
    # The refused save changed nothing: seven runs bumped the count, the eighth did not.
    assert b.records.get(ticket.id).data["count"] == MAX_DEPTH - 1
    detail = b.runs.show(last.id)
    assert detail.stages[0].steps[0].status == "Error"


def test_two_orchestrations_saving_each_others_trigger_stop_at_the_limit(b: Baton) -> None:
    define(b, bumping("ping", criteria="record.turn != 'ping'", turn="ping"))
    define(b, bumping("pong", criteria="record.turn == 'ping'", turn="pong"))
    ticket = b.records.create("ticket", {"subject": "Ball", "turn": "serve"})
    b.records.update(ticket.id, {"subject": "Ball in play"})  # ping's criteria: level 1
    assert b.worker.run_once().errors == []
    chain = runs(b)
    assert len(chain) == MAX_DEPTH
    assert [r.trigger_depth for r in chain] == list(range(1, MAX_DEPTH + 1))
    assert [r.status for r in chain] == ["Completed"] * (MAX_DEPTH - 1) + ["Error"]
    error = chain[-1].error or ""
    order = ["ping", "pong"] * (MAX_DEPTH // 2)
    expected = " → ".join(f"{n} (run {r.id})" for n, r in zip(order, chain, strict=True))
    assert expected + " → ping" in error
    assert f"ticket {ticket.id}" in error
    assert b.records.get(ticket.id).data["count"] == MAX_DEPTH - 1


def test_a_loop_through_a_child_run_is_counted_too(b: Baton) -> None:
    """A child run keeps its parent's depth, so a loop that saves from a child still ends."""
    define(
        b,
        """
        format: 1
        name: saver
        elements:
          - kind: stage
            name: work
            steps:
              - kind: background
                name: bump
                actions:
                  - {type: update_record, values: {count: "record.count + 1"}}
        """,
    )
    define(
        b,
        """
        format: 1
        name: parent
        type: record_triggered
        trigger: {object: ticket, events: [updated]}
        elements:
          - kind: stage
            name: work
            steps:
              - kind: background
                name: delegate
                actions:
                  - {type: start_orchestration, orchestration: saver}
        """,
    )
    ticket = b.records.create("ticket", {"subject": "Printer"})
    b.records.update(ticket.id, {"subject": "Printer on fire"})
    assert b.worker.run_once().errors == []
    chain = runs(b)
    parents = [r for r in chain if r.parent_run_id is None]
    children = [r for r in chain if r.parent_run_id is not None]
    assert len(parents) == MAX_DEPTH
    assert len(children) == MAX_DEPTH
    assert all(c.trigger_depth == p.trigger_depth for p, c in zip(parents, children, strict=True))
    assert children[-1].status == "Error"
    assert "'parent'" in (children[-1].error or "")
    assert b.records.get(ticket.id).data["count"] == MAX_DEPTH - 1


def test_people_always_start_at_the_first_level(b: Baton) -> None:
    define(b, bumping("bounce"))
    ticket = b.records.create("ticket", {"subject": "Printer"})
    b.records.update(ticket.id, {"subject": "again"})
    b.worker.run_once()
    b.records.update(ticket.id, {"subject": "and again"})  # a new chain, not level 9
    b.worker.run_once()
    chain = runs(b)
    assert len(chain) == 2 * MAX_DEPTH
    assert [r.trigger_depth for r in chain] == 2 * list(range(1, MAX_DEPTH + 1))
    assert b.records.get(ticket.id).data["count"] == 2 * (MAX_DEPTH - 1)


def test_cli_update_then_worker_once_returns(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As in the issue: one `records update`, then `worker --once` (SQLite, as test_cli)."""
    service = prepared(Baton(str(db_path), actor="admin", upgrade=True))
    try:
        define(service, bumping("bounce"))
        ticket = service.records.create("ticket", {"subject": "Printer"})

        def cli(*args: str) -> str:
            code = main(["--db", str(db_path), *args])
            out, err = capsys.readouterr()
            assert code == 0, out + err
            assert "Traceback" not in out + err
            return out + err

        cli("records", "update", str(ticket.id), "--set", "subject=Printer on fire")
        cli("worker", "--once")
        chain = runs(service)
        assert len(chain) == MAX_DEPTH
        assert chain[-1].status == "Error"
    finally:
        service.close()


def test_worker_once_returns_when_a_run_keeps_starting_itself(
    b: Baton, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No save, so no trigger depth: the pass itself is bounded, and says so (here before
    the child runs' nesting limit, 16, ends the loop)."""
    monkeypatch.setattr(passes, "MAX_ROUNDS", 5)
    define(
        b,
        """
        format: 1
        name: echo
        elements:
          - kind: stage
            name: work
            steps:
              - kind: background
                name: again
                actions:
                  - {type: start_orchestration, orchestration: echo}
        """,
    )
    b.runs.start("echo")
    report = b.worker.run_once()
    assert report.steps_run == 5
    assert len(runs(b)) == 6
    assert any("still becoming due after 5 rounds" in e for e in report.errors)
    report = b.worker.run_once()  # the next pass goes on
    assert len(runs(b)) == 11
