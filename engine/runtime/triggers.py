"""Record triggers: saving a record starts the orchestrations whose criteria it meets, and
wakes the runs that have it as their record (their conditions may now hold)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions import load_data
from engine.expressions import ExpressionError, evaluate_condition
from engine.runtime.context import record_context
from engine.runtime.engine import RunFailed
from engine.statuses import RunStatus
from engine.store.log import BUFFER_KEY, write_log
from engine.store.models import LogRow, ObjectTypeRow, OrchestrationRow, RecordRow, VersionRow
from engine.store.rows import RunRec, Tx

MAX_DEPTH = 8  # triggers firing triggers: deeper than this is a loop between orchestrations
_CAUSE_EVENT = "triggered"  # its details name the run whose save started this one
_CHAIN_SHOWN = 4 * MAX_DEPTH  # links named in the refusal; child runs may add a few per level


def _meets(criteria: str | None, record: dict[str, Any], old: dict[str, Any] | None) -> bool:
    if not criteria:
        return True
    return evaluate_condition(criteria, {"record": record, "old": old})


def on_record_saved(
    session: Session,
    record: RecordRow,
    previous: dict[str, Any] | None,
    actor: str | None,
    *,
    by_run: RunRec | None = None,
) -> list[int]:
    """Start triggered runs for this save; returns their ids. Runs in the saving transaction.

    ``by_run`` is the run whose action made the save (None for a person). The runs it starts
    are one level deeper than that run, and the depth is stored on them, so the limit holds
    however many transactions the chain spans: a worker runs each level in its own.
    """
    from engine.runtime.access import lock_run
    from engine.runtime.engine import RunEngine
    from engine.runtime.starting import start_run

    depth = (by_run.trigger_depth if by_run is not None else 0) + 1
    object_type = session.get_one(ObjectTypeRow, record.object_type_id)
    current = record_context(record)
    event = "created" if previous is None else "updated"
    started: list[int] = []
    versions = session.scalars(
        select(VersionRow).where(
            VersionRow.trigger_object == object_type.name, VersionRow.status == "active"
        )
    ).all()
    for version in versions:
        definition = load_data(version.definition)
        trigger = definition.trigger
        if trigger is None or event not in trigger.events:
            continue
        try:
            meets = _meets(trigger.criteria, current, previous)
            if meets and previous is not None and trigger.only_when_newly_met:
                meets = not _meets(trigger.criteria, previous, None)
        except ExpressionError:
            meets = False  # a criteria that cannot be evaluated for this record starts nothing
        if not meets:
            continue
        orchestration = session.get_one(OrchestrationRow, version.orchestration_id)
        if depth > MAX_DEPTH:
            assert by_run is not None  # a person's save is always the first level
            raise RunFailed(
                f"saving {object_type.name} {record.id} was refused: it would start "
                f"'{orchestration.name}' at level {depth} of record triggers starting each "
                f"other (the limit is {MAX_DEPTH}): {_chain(session, by_run)} → "
                f"{orchestration.name}; change a trigger's criteria so these saves stop "
                "starting runs"
            )
        run = start_run(
            session,
            orchestration.id,
            version.id,
            {},
            record_id=record.id,
            actor=actor,
            trigger_depth=depth,
        )
        write_log(
            session,
            run.id,
            _CAUSE_EVENT,
            actor=actor,
            message=f"{object_type.label} {record.id} was {event}",
            details={"by_run": by_run.id} if by_run is not None else None,
        )
        started.append(run.id)
    # Runs that have this record as context re-evaluate what they wait on.
    runs = RunRec.table()
    skip = {*started, by_run.id if by_run is not None else None}
    candidates = Tx.of(session).query(
        RunRec,
        select(runs).where(runs.c.record_id == record.id, runs.c.status == RunStatus.IN_PROGRESS),
    )
    waiting = [r.id for r in candidates if r.id not in skip and r.status == RunStatus.IN_PROGRESS]
    for run_id in waiting:
        other = lock_run(session, run_id)
        if other is not None and other.status == RunStatus.IN_PROGRESS:
            engine = RunEngine(session, other, actor=actor)
            engine.guarded(engine.evaluate_stage)
    return started


def _cause(session: Session, run: RunRec) -> int | None:
    """The run that started ``run``: its parent, or the run whose save triggered it."""
    if run.parent_run_id is not None:
        return run.parent_run_id
    details: Any = None
    for entry in session.info.get(BUFFER_KEY, []):  # started earlier in this transaction
        if entry["run_id"] == run.id and entry["event"] == _CAUSE_EVENT:
            details = entry["details"]
            break
    else:
        details = session.scalar(
            select(LogRow.details)
            .where(LogRow.run_id == run.id, LogRow.event == _CAUSE_EVENT)
            .order_by(LogRow.id)
            .limit(1)
        )
    cause = details.get("by_run") if isinstance(details, dict) else None
    return cause if isinstance(cause, int) else None


def _chain(session: Session, last: RunRec) -> str:
    """'a (run 1) → b (run 2) → …': the runs that led to ``last``, the first one first.

    Read only when a save is refused, from the runs' parents and their "triggered" entries.
    """
    tx = Tx.of(session)
    links: list[str] = []
    run: RunRec | None = last
    while run is not None and len(links) < _CHAIN_SHOWN:
        name = session.get_one(OrchestrationRow, run.orchestration_id).name
        links.append(f"{name} (run {run.id})")
        cause = _cause(session, run)
        run = tx.get(RunRec, cause) if cause is not None else None
    if run is not None:
        links.append("…")
    return " → ".join(reversed(links))
