"""Checking a form submission: types, required fields, options and validation expressions.

A bad submission is refused with a message per field and changes nothing.
"""

from __future__ import annotations

from typing import Any

from engine.definitions.model import Form
from engine.expressions import ExpressionError, evaluate_condition
from engine.values import ValueProblem, convert


class SubmissionRejected(Exception):
    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))


def check_submission(
    form: Form, values: dict[str, Any], outcome: str | None, names: dict[str, Any]
) -> dict[str, Any]:
    """The typed values of a valid submission (with ``outcome``), else SubmissionRejected."""
    problems: dict[str, str] = {}
    fields = {f.name: f for f in form.fields}
    clean: dict[str, Any] = {}
    for name in values:
        if name not in fields:
            problems[name] = f"the form has no field '{name}'"
    for field in form.fields:
        raw = values.get(field.name, field.default)
        try:
            value = convert(field.type.value, raw, field.options)
        except ValueProblem as exc:
            problems[field.name] = str(exc)
            continue
        if field.required and value in (None, "") and field.type.value != "checkbox":
            problems[field.name] = "is required"
            continue
        if field.required and field.type.value == "checkbox" and value is not True:
            problems[field.name] = "must be ticked"
            continue
        if field.validation is not None and value is not None:
            try:
                ok = evaluate_condition(field.validation.expression, {**names, "value": value})
            except ExpressionError as exc:
                ok = False
                problems[field.name] = (
                    f"{field.validation.message} (check failed: {exc.describe()})"
                )
                continue
            if not ok:
                problems[field.name] = field.validation.message
                continue
        clean[field.name] = value
    if form.outcomes:
        allowed = [o.name for o in form.outcomes]
        if outcome is None:
            problems["outcome"] = f"choose one of: {', '.join(allowed)}"
        elif outcome not in allowed:
            problems["outcome"] = f"'{outcome}' is not one of: {', '.join(allowed)}"
    elif outcome is not None:
        problems["outcome"] = "this form has no outcome buttons"
    if problems:
        raise SubmissionRejected(problems)
    if outcome is not None:
        clean["outcome"] = outcome
    return clean
