"""A supervisor fixes what a run holds: its variables, before retrying what failed on them.

The change is one transaction with its log entry, which keeps every old and new value; a run in
progress then evaluates its stage again, since a condition may hold now.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from engine.errors import Conflict, InvalidInput
from engine.runtime.engine import RunEngine
from engine.runtime.supervision import locked_run
from engine.statuses import RunStatus
from engine.text import did_you_mean
from engine.values import ValueProblem, convert

# How a variable's type is checked: the names engine.values.convert knows.
_KINDS = {"boolean": "checkbox"}
CHANGEABLE = (RunStatus.IN_PROGRESS, RunStatus.SUSPENDED, RunStatus.ERROR)


def set_variables(
    session: Session, run_id: int, actor: str | None, values: dict[str, Any], reason: str
) -> dict[str, dict[str, Any]]:
    """Change some of the run's variables; returns {name: {"old": …, "new": …}}."""
    if not values:
        raise InvalidInput("say which variables to change")
    run = locked_run(session, run_id)
    if run.status not in CHANGEABLE:
        raise Conflict(
            f"run {run_id} is {run.status}; only a run in progress, suspended or failed can "
            "have its variables changed"
        )
    engine = RunEngine(session, run, actor=actor)
    declared = {v.name: v for v in engine.definition.variables}
    problems: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, raw in values.items():
        variable = declared.get(name)
        if variable is None:
            problems[name] = (
                f"'{engine.definition.name}' has no variable '{name}'{did_you_mean(name, declared)}"
            )
            continue
        try:
            clean[name] = convert(_KINDS.get(variable.type.value, variable.type.value), raw)
        except ValueProblem as exc:
            problems[name] = str(exc)
            continue
        if variable.required and clean[name] in (None, ""):
            problems[name] = "is required"
        elif (problem := _assigns_nobody(session, engine, name, clean[name])) is not None:
            problems[name] = problem
    why = (reason or "").strip()
    if problems or not why:
        details = [f"{name}: {text}" for name, text in problems.items()]
        if not why:
            details.append("say why the run's variables are changed (a reason is required)")
        raise InvalidInput(
            f"the variables of run {run_id} were not changed", details, fields=problems
        )
    before = dict(run.variables or {})
    changes = {
        name: {"old": before.get(name), "new": value}
        for name, value in clean.items()
        if before.get(name) != value
    }
    if not changes:
        raise InvalidInput("nothing would change: the variables already have these values")
    engine.set_variables({name: change["new"] for name, change in changes.items()})
    engine.log(
        "variables_changed",
        message="; ".join(
            f"{name}: {_brief(change['old'])} → {_brief(change['new'])}"
            for name, change in sorted(changes.items())
        )
        + f" ({why})",
        details={"changes": changes, "reason": why},
    )
    if run.status == RunStatus.IN_PROGRESS:
        engine.guarded(lambda: engine.evaluate_stage())
    engine.touch()
    return changes


def _brief(value: Any) -> str:
    """A value as the log line says it: JSON (text quoted, so 'none' and none differ), cut
    at 60 characters; the whole value is in the entry's details."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:59] + "…"


def _assigns_nobody(session: Session, engine: RunEngine, name: str, value: Any) -> str | None:
    """Why ``value`` would leave work assigned by ``vars.NAME`` with nobody to do it, if it
    would: the same check the engine makes when it assigns (a fix that names nobody made the
    run fail again only once resumed)."""
    from engine.definitions.model import Assignee, InteractiveStep
    from engine.runtime.assignment import AssignmentError, resolve_assignee

    rule = f"vars.{name}"
    steps = [
        f"{stage.name}.{step.name}"
        for stage in engine.definition.stages()
        for step in stage.steps
        if isinstance(step, InteractiveStep)
        and step.assignee is not None
        and (step.assignee.expression or "").strip() == rule
    ]
    if not steps:
        return None
    try:
        resolve_assignee(session, Assignee(expression=rule), lambda _: value)
    except AssignmentError as exc:
        assigned = "is" if len(steps) == 1 else "are"
        return f"{exc}: {', '.join(steps)} {assigned} assigned by it"
    return None
