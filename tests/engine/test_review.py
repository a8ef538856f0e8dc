"""Design review: each rule fires on a bad example and stays silent on the demos."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from engine.cli.main import main
from engine.definitions import DefinitionError, load_file, load_text
from engine.definitions.inspection import inspect
from engine.definitions.model import Orchestration
from engine.definitions.review import review, review_file
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


# ---------------------------------------------------------------- big designs, located findings


def _chain(count: int, *, loop: bool) -> str:
    """``count`` stages one after another; with ``loop`` the last goes back to the first."""
    lines = ["format: 1", "name: long", "error_recipients: [ops@example.com]", "elements:"]
    for i in range(count):
        target = f"s{i + 1}" if i + 1 < count else ("s0" if loop else "end")
        lines += [
            "  - kind: stage",
            f"    name: s{i}",
            f"    next: {target}",
            "    steps: [{kind: background, name: b, on_failure: continue,"
            ' actions: [{type: set_variables, values: {x: "1"}}]}]',
        ]
    return "\n".join(lines) + "\n"


def test_five_thousand_stages_validate_and_review_without_running_out_of_stack() -> None:
    looping = load_text(_chain(5000, loop=True))
    found = review(looping)
    assert [f.rule for f in found].count("loop_without_limit") == 5000
    (no_exit,) = [f for f in found if f.rule == "loop_without_exit"]
    # the message names a few of the stages, not all 5,000
    assert no_exit.message == (
        "the loop through s0, s1, s10, s100, s1000, s1001 and 4,994 more has no way out"
    )
    assert review(load_text(_chain(5000, loop=False))) == []


def test_steps_waiting_on_each_other_in_a_long_chain() -> None:
    steps = [
        f"      - {{kind: background, name: t{i}, on_failure: continue, "
        f"start: {{when: after, steps: [t{i + 1}]}}, "
        'actions: [{type: set_variables, values: {x: "1"}}]}'
        for i in range(3000)
    ]
    head = "format: 1\nname: chain\nelements:\n  - kind: stage\n    name: s\n    steps:\n"
    last = "      - {kind: background, name: t3000, actions: [{type: set_variables, values: {x: '1'}}]}"
    assert load_text(head + "\n".join([*steps, last]) + "\n").elements
    circle = last.replace("name: t3000,", "name: t3000, start: {when: after, steps: [t0]},")
    with pytest.raises(DefinitionError) as caught:
        load_text(head + "\n".join([*steps, circle]) + "\n")
    (problem,) = caught.value.problems
    assert problem.message.startswith("steps wait for each other in a circle: t0 → t1 → t2 → ")
    assert problem.message.endswith("t2999 → t3000 → t0")


RISKY = """\
format: 1
name: risky
forms: {ok: {fields: [{name: note, type: text}]}}
elements:
  - kind: stage
    name: credit_check
    steps:
      - kind: interactive
        name: look
        form: ok
        assignee: {queue: risk}
      - kind: background
        name: score
        actions: [{type: set_variables, values: {x: "1"}}]
"""


def test_findings_carry_the_line_and_column_of_what_they_are_about(tmp_path: Path) -> None:
    path = tmp_path / "risky.yaml"
    path.write_text(RISKY)
    found = {f.rule: f for f in review_file(str(path), queue_members={"risk": 0})}
    assert (found["empty_queue"].line, found["empty_queue"].column) == (11, 27)
    assert found["empty_queue"].location == "elements[0].steps[0].assignee.queue"
    assert found["no_failure_handling"].position == "line 12, column 9"
    # absent from the file: placed on what would hold it (here, the whole definition)
    assert found["no_error_recipient"].position == "line 1, column 1"
    as_json = tmp_path / "risky.json"
    as_json.write_text(json.dumps(yaml.safe_load(RISKY), indent=2))
    in_json = {f.rule: f for f in review_file(str(as_json), queue_members={"risk": 0})}
    assert in_json["empty_queue"].position == "line 24, column 22"


def test_findings_of_a_draft_say_where_they_are() -> None:
    inspection = inspect(yaml.safe_load(RISKY))
    where = {p.message: p.where for p in inspection.findings}
    assert where["if step 'credit_check.score' fails, the whole run stops in Error"] == (
        "elements[0].steps[1]"
    )
    assert where["nobody is told when a run fails"] == "error_recipients"


def test_the_command_line_shows_where_each_finding_is(
    tmp_path: Path, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "risky.yaml"
    path.write_text(RISKY)
    assert main(["--db", str(db_path), "definitions", "review", str(path)]) == 1
    out = capsys.readouterr().out
    assert "  line 1, column 1: critical nobody is told when a run fails\n" in out
    assert (
        "  line 12, column 9: high     credit_check.score: if step 'credit_check.score' fails"
        in out
    )
