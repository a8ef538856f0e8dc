"""Record triggers: saving a record starts the orchestrations whose criteria it meets, and
wakes the runs that have it as their record (their conditions may now hold)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions import load_data
from engine.expressions import ExpressionError, evaluate_condition
from engine.runtime.context import record_context
from engine.runtime.statuses import RunStatus
from engine.store.log import write_log
from engine.store.models import ObjectTypeRow, OrchestrationRow, RecordRow, VersionRow
from engine.store.rows import RunRec, Tx

MAX_DEPTH = 8  # triggers firing triggers: deeper than this is a loop between orchestrations
DEPTH_KEY = "baton_trigger_depth"


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
    exclude_run_id: int | None = None,
) -> list[int]:
    """Start triggered runs for this save; returns their ids. Runs in the saving transaction."""
    from engine.runtime.access import lock_run
    from engine.runtime.engine import RunEngine
    from engine.runtime.starting import start_run

    depth = session.info.get(DEPTH_KEY, 0)
    if depth >= MAX_DEPTH:
        raise RuntimeError(
            f"record triggers started each other {MAX_DEPTH} levels deep; an orchestration "
            "updates a record that triggers it again"
        )
    session.info[DEPTH_KEY] = depth + 1
    try:
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
            run = start_run(
                session, orchestration.id, version.id, {}, record_id=record.id, actor=actor
            )
            write_log(
                session,
                run.id,
                "triggered",
                actor=actor,
                message=f"{object_type.label} {record.id} was {event}",
            )
            started.append(run.id)
        # Runs that have this record as context re-evaluate what they wait on.
        runs = RunRec.table()
        skip = {*started, exclude_run_id}
        candidates = Tx.of(session).query(
            RunRec,
            select(runs).where(
                runs.c.record_id == record.id, runs.c.status == RunStatus.IN_PROGRESS
            ),
        )
        waiting = [
            r.id for r in candidates if r.id not in skip and r.status == RunStatus.IN_PROGRESS
        ]
        for run_id in waiting:
            other = lock_run(session, run_id)
            if other is not None and other.status == RunStatus.IN_PROGRESS:
                engine = RunEngine(session, other, actor=actor)
                engine.guarded(engine.evaluate_stage)
        return started
    finally:
        session.info[DEPTH_KEY] = depth
