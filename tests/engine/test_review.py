"""Design review: each rule fires on a bad example and stays silent on the demos."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.definitions import load_file
from engine.definitions.model import Orchestration
from engine.definitions.review import review
from tests.conftest import RESOURCES

DEMOS = sorted((RESOURCES / "definitions").glob("*.yaml"))


def draft(text: str) -> Orchestration:
    """A shape-checked draft, as the designer holds it (it need not pass validation)."""
    return Orchestration.model_validate(yaml.safe_load(text))


def rules(definition: Orchestration, **kwargs: object) -> set[str]:
    return {f.rule for f in review(definition, **kwargs)}  # type: ignore[arg-type]


@pytest.mark.parametrize("path", DEMOS, ids=lambda p: p.name)
def test_the_demos_are_clean(path: Path) -> None:
    assert (
        review(
            load_file(str(path)),
            queue_members={"legal": 2, "finance": 2, "recruiting": 1, "it_service_desk": 1},
        )
        == []
    )


GOOD = """
format: 1
name: good
error_recipients: [ops@example.com]
forms: {ok: {fields: [{name: note, type: text}]}}
elements:
  - kind: stage
    name: credit_check
    steps:
      - {kind: interactive, name: review, form: ok, assignee: {queue: risk}}
      - {kind: interactive, name: second_look, form: ok, assignee: {user: carol}}
  - kind: stage
    name: contract_signed
    steps: [{kind: background, name: note, on_failure: continue, actions: [{type: set_variables, values: {x: "1"}}]}]
"""


def test_a_good_design_is_clean() -> None:
    assert review(draft(GOOD), queue_members={"risk": 3}) == []


@pytest.mark.parametrize(
    ("change", "rule", "severity"),
    [
        (
            lambda t: t.replace("error_recipients: [ops@example.com]\n", ""),
            "no_error_recipient",
            "critical",
        ),
        (lambda t: t.replace(", assignee: {queue: risk}", ""), "no_assignee", "critical"),
        (lambda t: t, "empty_queue", "critical"),
        (lambda t: t.replace(", on_failure: continue", ""), "no_failure_handling", "high"),
        (
            lambda t: t.replace("name: contract_signed", "name: stage2"),
            "vague_stage_name",
            "medium",
        ),
        (
            lambda t: t.replace("name: credit_check", "name: credit_check\n    label: Processing"),
            "vague_stage_name",
            "medium",
        ),
    ],
)
def test_each_rule_fires_on_a_bad_example(change, rule: str, severity: str) -> None:  # type: ignore[no-untyped-def]
    members = {"risk": 0} if rule == "empty_queue" else {"risk": 3}
    findings = [f for f in review(draft(change(GOOD)), queue_members=members) if f.rule == rule]
    assert findings, rule
    assert findings[0].severity == severity
    assert findings[0].fix


LOOP = """
format: 1
name: looping
error_recipients: [ops@example.com]
forms: {ok: {fields: [{name: ok, type: checkbox}]}}
elements:
  - kind: stage
    name: review
    {limit}
    steps: [{kind: interactive, name: vote, form: ok, assignee: {user: a}}, {kind: interactive, name: other, form: ok, assignee: {user: b}}]
  - kind: decision
    name: again
    outcomes: [{name: done, when: "review.vote.outputs.ok", next: {way_out}}]
    default: review
"""


def test_loops_without_a_limit_or_a_way_out() -> None:
    open_loop = draft(LOOP.replace("{limit}", "").replace("{way_out}", "review"))
    assert {"loop_without_exit", "loop_without_limit"} <= rules(open_loop)
    bounded = draft(LOOP.replace("{limit}", "max_visits: 5").replace("{way_out}", "end"))
    assert not {"loop_without_exit", "loop_without_limit"} & rules(bounded)


def test_unreachable_and_decision_without_default() -> None:
    text = (
        LOOP.replace("{limit}", "max_visits: 5")
        .replace("{way_out}", "end")
        .replace("    default: review\n", "")
        + """
  - kind: stage
    name: archive
    steps: [{kind: background, name: a, on_failure: continue, actions: [{type: set_variables, values: {x: "1"}}]}]
"""
    )
    found = rules(draft(text))
    assert {"decision_without_default", "unreachable"} <= found


def test_one_person_one_stage_would_be_a_plain_form() -> None:
    text = """
format: 1
name: tiny
error_recipients: [ops@example.com]
forms: {ok: {fields: [{name: note, type: text}]}}
elements:
  - kind: stage
    name: expense_approval
    steps: [{kind: interactive, name: approve, form: ok, assignee: {user: carol}}]
"""
    assert "plain_form_would_do" in rules(draft(text))
