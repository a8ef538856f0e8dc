"""The console tests' orchestration, console_ops (a step that fails on a variable, work with
due times, a second version), and a run of it in any state; with the fixtures ``ops`` (the
demo database with it) and ``carol`` (the supervisor's session on it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desktop_app.session import AppSession
from engine.services.baton import Baton
from tests.conftest import define

FLOW = """
format: 1
name: console_ops
variables:
  - {name: parts, type: number, input: true, default: 1}
  - {name: share, type: number}
forms: {ok: {fields: [{name: amount, type: number}]}}
elements:
  - kind: stage
    name: check
    steps:
      - kind: background
        name: divide
        retry: {attempts: 1}
        actions: [{type: set_variables, values: {share: "100 / vars.parts"}}]
      - kind: interactive
        name: review
        form: ok
        assignee: {user: alice}
        due: 2 hours
        start: {when: after, steps: [divide]}
  - kind: stage
    name: ship
    steps:
      - {kind: interactive, name: pack, form: ok, assignee: {user: frank}}
"""


# Version 2 has one more step in the first stage. Version 1 stays the active one, so runs
# start on it and a supervisor may move them to 2.
FLOW_V2 = FLOW.replace(
    "        start: {when: after, steps: [divide]}\n",
    "        start: {when: after, steps: [divide]}\n"
    "      - {kind: interactive, name: double_check, form: ok, assignee: {user: carol}}\n",
)


@pytest.fixture(name="ops")
def ops_fixture(demo: Baton) -> Baton:
    define(demo, FLOW)
    define(demo, FLOW_V2)
    demo.definitions.activate("console_ops", 1)
    return demo


@pytest.fixture(name="carol")
def carol_fixture(ops: Baton) -> Iterator[AppSession]:
    session = AppSession.open(ops, "carol")
    yield session
    session.close()


def make(b: Baton, state: str) -> int:
    """A run of console_ops in ``state``: waiting (on review), failed, suspended or canceled."""
    run = b.runs.start("console_ops", {"parts": 0 if state == "failed" else 1})
    b.worker.run_once()
    boss = b.as_user("carol")
    if state == "suspended":
        boss.runs.suspend(run.id, "set up")
    elif state == "canceled":
        boss.runs.cancel(run.id, "set up")
    expected = {"waiting": "InProgress", "failed": "Error", "suspended": "Suspended"}
    assert b.runs.get(run.id).status == expected.get(state, "Canceled")
    return run.id
