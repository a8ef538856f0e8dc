"""What a scenario's runs did, read from the database: what a run waits on now (said when a
step does not hold), and which elements the runs of the tested orchestration reached (its
coverage)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from engine.definitions.model import Orchestration
from engine.scenarios.coverage import Logged, coverage_keys, elements_entered
from engine.services.baton import Baton
from engine.services.dto import RunDetail
from engine.statuses import RunStatus, StepStatus, WorkStatus
from engine.store.models import LogRow, OrchestrationRow, RunRow, StepRunRow


def stuck_at(
    baton: Baton,
    definition: Orchestration,
    detail: RunDetail,
    now: dt.datetime,
    zone: dt.tzinfo,
) -> str:
    """``stuck at review: waiting for …``: what the run waits on at ``now``."""
    run = detail.run
    if run.status != RunStatus.IN_PROGRESS:
        return f"the run is {run.status}" + (f": {run.error}" if run.error else "")
    waits: list[str] = []
    with baton.db.read() as session:
        rows = session.scalars(
            select(StepRunRow)
            .where(StepRunRow.run_id == run.id, StepRunRow.status == StepStatus.IN_PROGRESS)
            .order_by(StepRunRow.id)
        )
        for row in rows:
            if row.wait_event:
                waits.append(f"event '{row.wait_event}' with key '{row.wait_key}' ({row.step})")
            elif row.kind == "background" and row.available_at and row.available_at > now:
                at = row.available_at.astimezone(zone)
                waits.append(f"{row.step} until {at:%Y-%m-%d %H:%M}")
            elif row.kind == "background":
                waits.append(f"{row.step} to run (run_background)")
    for item in detail.work_items:
        if item.status in WorkStatus.OPEN:
            waits.append(f"work on {item.step} ({item.assignee_kind} {item.assignee})")
    stage = definition.stage(run.current_element or "")
    if not waits and stage is not None:
        pending = [
            s.step
            for v in detail.stages
            if v.stage == stage.name
            for s in v.steps
            if s.status == StepStatus.NOT_STARTED
        ]
        waits.append(f"steps that cannot start: {', '.join(pending)}" if pending else "nothing")
    return f"stuck at {run.current_element}: waiting for {', '.join(waits)}"


def reached_by(baton: Baton, orchestration: str, own_run: int | None) -> tuple[set[str], list[str]]:
    """The coverage keys the runs of ``orchestration`` reached, and the path of elements
    ``own_run`` took."""
    with baton.db.read() as session:
        rows = session.execute(
            select(LogRow.run_id, LogRow.event, LogRow.stage, LogRow.step, LogRow.details)
            .join(RunRow, RunRow.id == LogRow.run_id)
            .join(OrchestrationRow, OrchestrationRow.id == RunRow.orchestration_id)
            .where(OrchestrationRow.name == orchestration)
            .order_by(LogRow.id)
        ).all()
    by_run: dict[int, list[Logged]] = {}
    for run_id, event, stage, step, details in rows:
        by_run.setdefault(run_id, []).append(Logged(event, stage, step, details))
    keys: set[str] = set()
    own: list[str] = []
    for run_id, log in by_run.items():
        path = elements_entered(log)
        keys |= coverage_keys(log, path)
        if run_id == own_run:
            own = path
    return keys, own
