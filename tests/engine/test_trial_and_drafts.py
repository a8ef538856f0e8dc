"""What the designer needs from the service: drafts saved in place until activated, and Try it
running a draft in a scratch database that never touches the real one."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.clients.trial import Trial
from engine.definitions import editing, load_data, to_data
from engine.errors import InvalidInput
from engine.services.baton import Baton
from tests.conftest import people

DEFINITIONS = Path(__file__).parents[2] / "resources" / "definitions"
ORDER = {"order_number": "A-1", "customer_email": "c@example.com", "amount": 10}
FLOW = """
format: 1
name: expense
error_recipients: [admin]
variables:
  - {name: amount, type: number, input: true, required: true}
forms:
  approve:
    fields: [{name: note, type: text}]
    outcomes: [{name: approve}, {name: reject}]
elements:
  - kind: stage
    name: approval
    steps:
      - kind: interactive
        name: manager
        form: approve
        assignee: {queue: legal}
      - kind: background
        name: record
        on_failure: continue
        start: {when: after, steps: [manager]}
        actions:
          - type: set_variables
            values: {approved: "approval.manager.outputs.outcome == 'approve'"}
"""


def test_a_draft_is_saved_in_place_until_it_is_activated(baton: Baton) -> None:
    people(baton)
    first = baton.definitions.save(load_data(yaml.safe_load(FLOW)))
    changed = editing.set_value(to_data(baton.definitions.get("expense")[1]), None, "label", "X")
    again = baton.definitions.save(load_data(changed), replace_draft=True)
    assert (again.number, again.status) == (first.number, "draft")
    assert baton.definitions.get("expense")[1].label == "X"
    baton.definitions.activate("expense", again.number)
    newer = editing.set_value(changed, None, "label", "Y")
    third = baton.definitions.save(load_data(newer), replace_draft=True)
    assert third.number == again.number + 1, "an active version never changes"
    assert baton.definitions.get("expense", again.number)[1].label == "X"


def test_try_it_runs_a_draft_in_a_scratch_database(baton: Baton, tmp_path: Path) -> None:
    people(baton)
    trial = Trial.open(baton, yaml.safe_load(FLOW), tmp_path)
    try:
        run_id = trial.start({"amount": 10})
        state = trial.state(run_id)
        assert state.statuses[("approval", "manager")][0] == "InProgress"
        assert state.statuses[("approval", "record")][0] == "NotStarted"
        (open_item,) = state.items
        assert open_item.people == ["bob", "dave"], "the real directory's queue members"
        trial.complete(open_item.item.id, "dave", {"note": "fine"}, outcome="approve")
        state = trial.state(run_id)
        assert state.run.status == "Completed"
        assert state.variables["approved"] is True
        assert state.statuses[("approval", "record")][0] == "Completed"
    finally:
        trial.close()
    assert baton.definitions.list() == [], "nothing reached the real database"
    assert baton.runs.list() == []


def test_try_it_refuses_an_invalid_draft_with_its_problems(baton: Baton, tmp_path: Path) -> None:
    broken = editing.set_value(yaml.safe_load(FLOW), "approval.manager", "assignee", None)
    with pytest.raises(InvalidInput) as refused:
        Trial.open(baton, broken, tmp_path)
    assert any("assignee" in d for d in refused.value.details)


def test_try_it_starts_a_record_triggered_draft_from_a_record(tmp_path: Path) -> None:
    from engine.clients.demo import load_demo

    real = Baton(str(tmp_path / "real.db"))
    load_demo(real)
    admin = real.as_user("admin")
    data = yaml.safe_load((DEFINITIONS / "refund_request.yaml").read_text())
    trial = Trial.open(admin, data, tmp_path)
    try:
        with pytest.raises(InvalidInput, match="did not meet the trigger"):
            trial.start({}, {**ORDER, "status": "Draft"})
        run_id = trial.start({}, {**ORDER, "status": "Submitted"})
        assert trial.state(run_id).run.orchestration == "refund_request"
    finally:
        trial.close()
        real.close()
