"""Expressions cannot burn the CPU or the memory: limits on what they build and on their work.

Each shape from issue 14 (item 10) is refused when written with literals (at validation, with
a column) and when built from run data (at run time, before anything big is built).
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from engine.errors import InvalidInput
from engine.expressions import (
    ExpressionError,
    LimitError,
    compile_expression,
    evaluate,
    helpers,
    limits,
)
from engine.services.baton import Baton
from tests.conftest import define, people, step_status

TOO_LARGE = "the result would be too large: more than 1,000,000 characters and items"
TOO_MANY_DIGITS = "a number of more than 4,000 digits"
TOO_MUCH_WORK = "the expression does too much work: more than 2,000,000 steps"

# (written with literals, the same from run variables, message, column of the breach)
SHAPES = [
    ("4000000**4000000 > 1", "vars.n ** vars.n > 1", TOO_MANY_DIGITS, 1),
    ("len([['x']*100000]*100000)", "len([[vars.x]*vars.k]*vars.k)", TOO_LARGE, 5),
    ("['x'*100000]*100000", "[vars.x*vars.k]*vars.k", TOO_LARGE, 1),
    ("'a' * 10 ** 9", "vars.x * vars.n ** 2", TOO_LARGE, 1),
    ("9 ** 9 ** 9", "vars.n ** vars.n ** 2", TOO_MANY_DIGITS, 1),
    (
        "{'a': 'x' * 600000, 'b': 'x' * 600000}",
        "{'a': vars.x * 600000, 'b': vars.x * 600000}",
        TOO_LARGE,
        1,
    ),
    ("'x' * 700000 + 'y' * 700000", "vars.x * 700000 + vars.x * 700000", TOO_LARGE, 1),
]
NAMES = {"vars": {"n": 4000000, "k": 100000, "x": "x"}}


@pytest.mark.parametrize(("literal", "built", "message", "column"), SHAPES)
def test_literal_shapes_are_refused_when_compiled(
    literal: str, built: str, message: str, column: int
) -> None:
    with pytest.raises(LimitError) as caught:
        compile_expression(literal)
    assert message in caught.value.message
    assert caught.value.position == column
    assert caught.value.expression == literal


def small_budget(monkeypatch: pytest.MonkeyPatch, steps: int) -> None:
    """Whatever an evaluation builds, it pays for before building it: a size refusal under a
    small budget proves that nothing big was built or walked through first."""
    monkeypatch.setattr(limits, "MAX_STEPS", steps)


@pytest.mark.parametrize(("literal", "built", "message", "column"), SHAPES)
def test_shapes_from_run_data_fail_at_run_time_before_the_work(
    monkeypatch: pytest.MonkeyPatch, literal: str, built: str, message: str, column: int
) -> None:
    # Enough for the honest inner parts (at most 1,200,000 here), far from what the breach
    # would build (10,000,000,000 for [['x'] * 100000] * 100000).
    small_budget(monkeypatch, 1_500_000)
    compile_expression(built)  # not literal: nothing to refuse before the run
    with pytest.raises(LimitError) as caught:
        evaluate(built, NAMES)
    assert message in caught.value.message
    assert caught.value.position == column


def test_the_limits_leave_room_for_large_honest_values() -> None:
    assert len(evaluate("vars.x * 1000000", NAMES)) == 1_000_000
    assert evaluate("len([1] * 999999)", NAMES) == 999_999
    assert evaluate("[1, 2] * 3 + [4]", NAMES) == [1, 2, 1, 2, 1, 2, 4]
    assert evaluate("10 ** 3999 > 10 ** 3998", NAMES) is True
    assert evaluate("2 ** -2", NAMES) == 0.25
    assert evaluate("'' * 10 ** 30", NAMES) == ""


def test_a_value_measured_counts_shared_parts_every_time() -> None:
    row = ["x" * 10] * 10  # 10 items of 10 characters: 110
    assert limits.size([row, row, {"k": row}]) == 3 + 110 * 3 + 1 + 1
    # Measuring stops once past the limit, however large the value really is.
    assert limits.size([[row] * 1000] * 1000, limit=500) > 500
    # Long lists are measured by scans in C; the answer is the same.
    assert limits.size(["ab", 1] * 100) == 200 + 100 * 2
    assert limits.size([row] * 100) == 100 + 110 * 100
    assert limits.size({"k" * 5: ["ab"] * 40}) == 1 + 5 + 40 + 80


def test_measuring_pays_for_each_distinct_list_looked_into() -> None:
    budget = limits.Budget()
    assert limits.size([[] for _ in range(1000)], budget=budget) == 1000
    assert budget.left == limits.MAX_STEPS - limits.VISIT_STEPS * 1001
    shared = limits.Budget()
    assert limits.size([[]] * 1000, budget=shared) == 1000
    assert shared.left == limits.MAX_STEPS - limits.VISIT_STEPS * 2


def test_work_over_run_data_is_bounded_by_the_step_budget() -> None:
    names = {"vars": {"x": "x", "items": list(range(1_000_000))}}
    text = "sum(vars.items) + sum(vars.items) + sum(vars.items) + sum(vars.items)"
    with pytest.raises(LimitError) as caught:
        evaluate(text, names)
    assert TOO_MUCH_WORK in caught.value.message
    assert evaluate("sum(vars.items)", names) == 499999500000


def test_every_part_evaluated_spends_a_step(monkeypatch: pytest.MonkeyPatch) -> None:
    small_budget(monkeypatch, 100)
    assert evaluate("all(" + ", ".join(["1"] * 99) + ")", {}) is True  # 100 parts
    with pytest.raises(LimitError, match="more than 100 steps"):
        evaluate("all(" + ", ".join(["1"] * 100) + ")", {})


def test_huge_numbers_from_run_data_never_reach_python_errors() -> None:
    names = {"vars": {"big": 10**4500}}
    with pytest.raises(ExpressionError, match="too large to write out"):
        evaluate("text(vars.big)", names)
    with pytest.raises(LimitError, match="4,000 digits"):
        evaluate("vars.big + 1", names)
    with pytest.raises(LimitError, match="4,000 digits"):
        evaluate("vars.big * vars.big", names)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("'%999999999s' % 'x'", "% does not apply to text"),
        ("(-8) ** 0.5", "no real result"),
        ("2.0 ** 100000", "the result is out of range"),
        ("2 ** 10 ** 30", TOO_MANY_DIGITS),
    ],
)
def test_other_arithmetic_blowups_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message.replace("*", r"\*")):
        evaluate(text, {})


def test_only_limits_are_refused_at_compile_time() -> None:
    # A division by zero may sit in a branch that never runs: it stays a run-time error.
    compile_expression("1 / 0")
    with pytest.raises(LimitError) as caught:
        compile_expression("'y' if vars.ok else 'x' * 10 ** 9")
    assert caught.value.position == 21
    with pytest.raises(LimitError) as caught:
        compile_expression("(1 / 0) + 'x' * 10 ** 9")
    assert caught.value.position == 11


def _walk_business_days(start: dt.date, n: int) -> dt.date:
    step, result, left = (1 if n >= 0 else -1), start, abs(n)
    while left:
        result += dt.timedelta(days=step)
        left -= result.weekday() < 5
    return result


def test_add_business_days_jumps_weeks_and_lands_where_walking_would() -> None:
    for offset in range(14):
        start = dt.date(2026, 11, 1) + dt.timedelta(days=offset)
        for n in [*range(-12, 13), 1_234, -2_001]:
            assert helpers.add_business_days(start, n) == _walk_business_days(start, n)


# ------------------------------------------------------------------ through the engine

FLOW = """
format: 1
name: flow
variables:
  - {{name: word, type: text, input: true, default: x}}
  - {{name: k, type: number, input: true, default: 1}}
  - {{name: out, type: text, default: ''}}
forms:
  ok: {{fields: [{{name: note, type: text}}]}}
elements:
  - kind: stage
    name: work
    steps:
      - kind: background
        name: grow
        actions: [{action}]
"""
SET_VARIABLES = '{{type: set_variables, values: {{out: "{expression}"}}}}'
SEND_EMAIL = '{{type: send_email, to: [alice], subject: "Hi {{{{ {expression} }}}}", body: "b"}}'


@pytest.mark.parametrize("action", [SET_VARIABLES, SEND_EMAIL], ids=["set_variables", "email"])
def test_validation_refuses_a_literal_breach_with_its_place(baton: Baton, action: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        define(baton, FLOW.format(action=action.format(expression="['x' * 100000] * 100000")))
    (problem,) = caught.value.details
    assert "expression '['x' * 100000] * 100000'" in problem
    assert f"{TOO_LARGE} (the limit for any value) (at column 1)" in problem


@pytest.mark.parametrize("action", [SET_VARIABLES, SEND_EMAIL], ids=["set_variables", "email"])
def test_a_too_large_value_errors_the_step_and_blocks_no_one(
    baton: Baton, any_url: str, action: str
) -> None:
    people(baton)
    expression = "[vars.word * vars.k] * vars.k"
    define(baton, FLOW.format(action=action.format(expression=expression)))
    run = baton.runs.start("flow", {"word": "x", "k": 100000})
    other = Baton(any_url, actor="admin")
    worker = threading.Thread(target=baton.worker.run_once)
    worker.start()
    try:
        # Another session saves while the worker evaluates (once, 26 s holding the lock).
        other.directory.create_user("zoe", email="zoe@example.com", role="user")
    finally:
        worker.join()
        other.close()
    assert step_status(baton, run.id) == {"work.grow": "Error"}
    error = baton.runs.get(run.id).error
    assert error is not None
    assert f"expression '{expression}' failed: {TOO_LARGE}" in error
