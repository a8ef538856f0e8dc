"""Starting runs: checking inputs against the declared variables, then entering stage one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.definitions.model import ValueType
from engine.errors import Conflict, InvalidInput, NotFound
from engine.runtime.context import definition_for
from engine.runtime.engine import RunEngine
from engine.statuses import RunStatus
from engine.store.base import utcnow
from engine.store.models import OrchestrationRow, RecordRow, VersionRow
from engine.store.prepared import Prepared
from engine.store.rows import RunRec, Tx
from engine.text import did_you_mean
from engine.values import ValueProblem, convert

_VALUE_KINDS = {ValueType.boolean: "checkbox"}


def check_inputs(session: Session, version_id: int, inputs: dict[str, Any]) -> dict[str, Any]:
    """Typed values of every variable: defaults, then the inputs; every problem at once."""
    definition = definition_for(session, version_id).definition
    declared = {v.name: v for v in definition.variables}
    problems: dict[str, str] = {}
    values: dict[str, Any] = {
        v.name: v.default for v in definition.variables if v.default is not None
    }
    for name, raw in inputs.items():
        variable = declared.get(name)
        if variable is None or not variable.input:
            inputs_ = [v.name for v in definition.variables if v.input]
            problems[name] = (
                f"not an input of '{definition.name}'{did_you_mean(name, inputs_)}"
                f" (inputs: {', '.join(inputs_) or 'none'})"
            )
            continue
        kind = _VALUE_KINDS.get(variable.type, variable.type.value)
        try:
            values[name] = convert(kind, raw)
        except ValueProblem as exc:
            problems[name] = str(exc)
    for variable in definition.variables:
        if variable.input and variable.required and values.get(variable.name) in (None, ""):
            problems.setdefault(variable.name, "is required")  # not over why its value failed
    if problems:
        raise InvalidInput(f"cannot start '{definition.name}'", fields=problems)
    return values


# Child runs starting child runs (start_orchestration): deeper than this is a run that starts
# itself, or a ring of orchestrations starting each other, without a condition to stop it.
MAX_NESTING = 16


def nesting_of(session: Session, run: RunRec) -> int:
    """How many parents ``run`` has above it (counted up to one past MAX_NESTING)."""
    tx, depth, current = Tx.of(session), 0, run
    while current.parent_run_id is not None and depth <= MAX_NESTING:
        parent = tx.get(RunRec, current.parent_run_id)
        if parent is None:
            break
        depth, current = depth + 1, parent
    return depth


def start_run(
    session: Session,
    orchestration_id: int,
    version_id: int,
    inputs: dict[str, Any],
    *,
    record_id: int | None = None,
    actor: str | None = None,
    parent_run_id: int | None = None,
    parent_step_run_id: int | None = None,
    trigger_depth: int = 0,
) -> RunRec:
    """A new run, entered as far as it goes. ``trigger_depth``: see engine.runtime.triggers."""
    if record_id is not None and session.get(RecordRow, record_id) is None:
        raise NotFound(f"no record with id {record_id}")
    variables = check_inputs(session, version_id, inputs)
    now = utcnow()
    run = RunRec(
        orchestration_id=orchestration_id,
        version_id=version_id,
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
        trigger_depth=trigger_depth,
    )
    Tx.of(session).add(run)
    RunEngine(session, run, actor=actor).start()
    return run


_orchestrations = OrchestrationRow.__table__
_versions = VersionRow.__table__
_ACTIVE = Prepared(
    select(
        _orchestrations.c.id.label("orchestration_id"),
        _versions.c.id.label("version_id"),
        _versions.c.number,
    )
    .select_from(
        _orchestrations.outerjoin(
            _versions,
            (_versions.c.orchestration_id == _orchestrations.c.id)
            & (_versions.c.status == "active"),
        )
    )
    .where(_orchestrations.c.name == bindparam("name"))
)


@dataclass(frozen=True)
class ActiveVersion:
    orchestration_id: int
    orchestration: str
    version_id: int
    number: int


def active_version(session: Session, name: str) -> ActiveVersion:
    """The version new runs of ``name`` use, in one statement; clear errors otherwise."""
    rows = _ACTIVE.rows(Tx.of(session).connection, {"name": name})
    row = rows[0] if rows else None
    if row is None:
        names = session.scalars(select(OrchestrationRow.name)).all()
        raise NotFound(f"no orchestration named '{name}'{did_you_mean(name, names)}")
    if row["version_id"] is None:
        raise Conflict(
            f"orchestration '{name}' has no active version; "
            f"activate one with: baton definitions activate {name}"
        )
    return ActiveVersion(
        int(row["orchestration_id"]), name, int(row["version_id"]), int(row["number"])
    )


def start_run_by_name(session: Session, name: str, inputs: dict[str, Any], **kwargs: Any) -> RunRec:
    target = active_version(session, name)
    return start_run(session, target.orchestration_id, target.version_id, inputs, **kwargs)
