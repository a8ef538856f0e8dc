"""Starting runs: checking inputs against the declared variables, then entering stage one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions.model import ValueType
from engine.runtime.context import definition_for
from engine.runtime.engine import RunEngine
from engine.runtime.statuses import RunStatus
from engine.services.errors import Conflict, InvalidInput, NotFound
from engine.store.base import utcnow
from engine.store.models import OrchestrationRow, RecordRow, VersionRow
from engine.store.rows import RunRec, Tx
from engine.text import did_you_mean
from engine.values import ValueProblem, convert

_VALUE_KINDS = {ValueType.boolean: "checkbox"}


def check_inputs(session: Session, version_id: int, inputs: dict[str, Any]) -> dict[str, Any]:
    """Typed values of every variable: defaults, then the inputs; every problem at once."""
    definition = definition_for(session, version_id).definition
    declared = {v.name: v for v in definition.variables}
    problems: list[str] = []
    values: dict[str, Any] = {
        v.name: v.default for v in definition.variables if v.default is not None
    }
    for name, raw in inputs.items():
        variable = declared.get(name)
        if variable is None or not variable.input:
            inputs_ = [v.name for v in definition.variables if v.input]
            problems.append(
                f"{name}: not an input of '{definition.name}'{did_you_mean(name, inputs_)}"
                f" (inputs: {', '.join(inputs_) or 'none'})"
            )
            continue
        kind = _VALUE_KINDS.get(variable.type, variable.type.value)
        try:
            values[name] = convert(kind, raw)
        except ValueProblem as exc:
            problems.append(f"{name}: {exc}")
    for variable in definition.variables:
        if variable.input and variable.required and values.get(variable.name) in (None, ""):
            problems.append(f"{variable.name}: is required")
    if problems:
        raise InvalidInput(f"cannot start '{definition.name}'", problems)
    return values


def start_run(
    session: Session,
    orchestration: OrchestrationRow,
    version: VersionRow,
    inputs: dict[str, Any],
    *,
    record_id: int | None = None,
    actor: str | None = None,
    parent_run_id: int | None = None,
    parent_step_run_id: int | None = None,
) -> RunRec:
    if record_id is not None and session.get(RecordRow, record_id) is None:
        raise NotFound(f"no record with id {record_id}")
    variables = check_inputs(session, version.id, inputs)
    now = utcnow()
    run = RunRec(
        orchestration_id=orchestration.id,
        version_id=version.id,
        status=RunStatus.IN_PROGRESS,
        record_id=record_id,
        parent_run_id=parent_run_id,
        parent_step_run_id=parent_step_run_id,
        variables=variables,
        state={},
        started_by=actor,
        started_at=now,
        updated_at=now,
        row_version=1,
    )
    Tx.of(session).add(run)
    RunEngine(session, run, actor=actor).start()
    return run


def start_run_by_name(session: Session, name: str, inputs: dict[str, Any], **kwargs: Any) -> RunRec:
    orchestration = session.scalar(select(OrchestrationRow).where(OrchestrationRow.name == name))
    if orchestration is None:
        names = session.scalars(select(OrchestrationRow.name)).all()
        raise NotFound(f"no orchestration named '{name}'{did_you_mean(name, names)}")
    version = session.scalar(
        select(VersionRow).where(
            VersionRow.orchestration_id == orchestration.id, VersionRow.status == "active"
        )
    )
    if version is None:
        raise Conflict(
            f"orchestration '{name}' has no active version; activate one with: baton definitions activate {name}"
        )
    return start_run(session, orchestration, version, inputs, **kwargs)
