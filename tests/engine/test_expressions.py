"""The expression language: what it computes, how it reports errors, and its sandbox."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.expressions import ExpressionError, compile_expression, evaluate, evaluate_condition

NAMES = {
    "record": {"owner": "bob", "amount": 1500, "status": "Submitted", "tags": ["a", "b"]},
    "vars": {"amount": 150000, "name": "Acme"},
    "review": {"legal": {"status": "Completed", "outputs": {"approved": True}}},
    "run": {"id": 7},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vars.amount > 100000", True),
        ("review.legal.outputs.approved and review.legal.status == 'Completed'", True),
        ("record.amount * 2 + 1", 3001),
        ("len(record.tags)", 2),
        ("'b' in record.tags", True),
        ("upper(vars.name) + '!'", "ACME!"),
        ("any([False, record.amount > 1000])", True),
        ("all(True, vars.amount > 1)", True),
        ("coalesce(record.missing, 'fallback')", "fallback"),
        ("record.missing", None),
        ("round(10 / 3, 2)", 3.33),
        ("min(3, 1, 2)", 1),
        ("sum([1, 2, 3])", 6),
        ("'yes' if vars.amount > 5 else 'no'", "yes"),
        ("days_between('2026-01-01', '2026-01-31')", 30),
        ("add_business_days(date('2026-11-20'), 1)", dt.date(2026, 11, 23)),
        ("record.tags[1]", "b"),
        ("record['status']", "Submitted"),
        ("text(12) + text(True)", "12true"),
        ("number('12.5') + 1", 13.5),
        ("contains(record.status, 'Sub')", True),
    ],
)
def test_values(text: str, expected: object) -> None:
    assert evaluate(text, NAMES) == expected


def test_now_is_aware_utc() -> None:
    value = evaluate("now()", {})
    assert isinstance(value, dt.datetime)
    assert value.utcoffset() == dt.timedelta(0)


def test_condition_treats_null_as_false() -> None:
    assert evaluate_condition("record.missing", NAMES) is False


def test_parsed_once() -> None:
    assert compile_expression("vars.amount > 1") is compile_expression("vars.amount > 1")


def test_references_are_collected() -> None:
    compiled = compile_expression(
        "review.legal.outputs.approved and vars.amount > len(record.tags)"
    )
    paths = {r.path for r in compiled.references}
    assert ("review", "legal", "outputs", "approved") in paths
    assert ("vars", "amount") in paths
    assert ("record", "tags") in paths


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("vars.amount >", "ends too early", 14),
        ("vars.amount > > 3", "syntax error", 15),
        ("1 / 0", "division by zero", 1),
        ("record.owner < 3", "cannot be compared", 1),
        ("unknown_name + 1", "unknown name 'unknown_name'", 1),
        ("lenn(record.tags)", "unknown function 'lenn' (did you mean 'len'?)", 1),
        ("record.owner.first", "not a record or object", 1),
        ("vars.nothing.deeper", "cannot read 'deeper' of nothing", 1),
        ("now", "'now' is a function", 1),
        ("days_between('soon', '2026-01-01')", "'soon' is not a date", 1),
        ("", "expression is empty", None),
    ],
)
def test_errors_say_what_and_where(text: str, message: str, column: int | None) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate(text, NAMES)
    assert message in caught.value.message
    assert caught.value.position == column


# Known ways out of Python sandboxes. Each must be refused, at parse time where possible.
ESCAPES = [
    "().__class__.__bases__[0].__subclasses__()",
    "''.__class__.__mro__[1].__subclasses__()",
    "record.__class__",
    "__import__('os').system('id')",
    "__builtins__",
    "open('/etc/passwd').read()",
    "eval('1+1')",
    "exec('import os')",
    "getattr(record, '__class__')",
    "globals()",
    "locals()",
    "vars()",
    "compile('1', 'x', 'eval')",
    "type(1)",
    "'{0.__class__}'.format(1)",
    "'abc'.upper()",
    "record.get('owner')",
    "record.keys()",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "(lambda: 1)()",
    "f'{record}'",
    "(x := 1)",
    "now().replace(year=1)",
    "now.__globals__",
    "len.__self__",
    "record._secret",
    "_private",
    "b'bytes'",
    "9 ** 9 ** 9",
    "'a' * 10 ** 9",
    "{**record}",
    "[*record.tags]",
    "record.tags[::-1]",
    "1 << 100000",
]


@pytest.mark.parametrize("payload", ESCAPES)
def test_sandbox_escapes_are_refused(payload: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(payload, NAMES)


def test_attribute_access_reads_data_only() -> None:
    # Even a Python object smuggled into the names exposes nothing: a.b reads dict keys only.
    class Secret:
        password = "hunter2"

    with pytest.raises(ExpressionError, match="not a record or object"):
        evaluate("thing.password", {"thing": Secret()})


def test_too_long_expression_refused() -> None:
    with pytest.raises(ExpressionError, match="limit"):
        compile_expression("1 + " * 2000 + "1")


def test_deep_nesting_refused() -> None:
    with pytest.raises(ExpressionError):
        compile_expression("(" * 500 + "1" + ")" * 500)
