"""``baton demo --scale N``: months of realistic run history for the demo orchestrations.

Runs follow their orchestration's real graph (decisions, Go To loops back to review), with
people's work completed on time or late, failures in background steps, cancellations,
runs still in progress with open (some overdue) work, and a few suspended. Rows are written in
large batches through the same compiled statements the engine's transactions use (each
column's own type stores the value), in one write transaction that announces what it changed
like any other; a million runs take a few minutes.

The newest runs are left where a real run would be: in a stage, their interactive steps
assigned, so the Inbox, Work Items and Needs attention have real work to show and people can
carry on with it.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnDefault, Connection, insert, text

from engine import clock
from engine.clients.demo import demo_records, load_demo
from engine.definitions.model import (
    BackgroundStep,
    Decision,
    InteractiveStep,
    Orchestration,
    Stage,
    label_of,
)
from engine.expressions import ExpressionError, evaluate_condition
from engine.runtime.context import definition_for
from engine.services.baton import Baton
from engine.store.base import Base
from engine.store.changes import note
from engine.store.prepared import Prepared

BATCH = 20000
DAY = 86400.0
NAMES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka", "Tyrell")
FAILURES = (
    "HTTP 503 from https://billing.example/api: service unavailable",
    "HTTP 500 from https://payments.example/refunds: internal error",
    "the SMTP server refused the message: mailbox full",
    "timed out after 30 s waiting for https://crm.example/accounts",
)
CANCEL_REASONS = ("Customer withdrew", "Duplicate request", "Candidate took another offer")
TABLES = ("records", "runs", "stage_runs", "step_runs", "work_items", "run_log")


@dataclass
class _Flow:
    orchestration_id: int
    version_id: int
    name: str
    definition: Orchestration
    weight: float
    members: dict[str, list[str]]
    people: list[str]
    # record-triggered: the object's id, its title field, and sample records meeting the criteria
    object_type_id: int | None = None
    title_field: str | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Batch:
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in TABLES})
    next_id: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        self.next_id[table] += 1
        return self.next_id[table]

    @property
    def size(self) -> int:
        return sum(len(r) for r in self.rows.values())


def generate_history(
    baton: Baton,
    runs: int,
    *,
    days: int = 180,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Add ``runs`` runs of history spread over the last ``days`` days."""
    if runs < 1:
        raise ValueError("generate at least one run")
    load_demo(baton)
    rnd = random.Random(seed)
    flows = _flows(baton)
    now = clock.now()
    db = baton.db
    with db.write() as session:
        conn = session.connection()
        writer = _Writer(conn)
        batch = _Batch(next_id={t: _max_id(conn, t) for t in TABLES})
        made = 0
        for started in _start_times(rnd, runs, days, now):
            flow = rnd.choices(flows, weights=[f.weight for f in flows])[0]
            _one_run(rnd, batch, flow, started, now)
            made += 1
            if batch.size >= BATCH:
                writer.flush(batch)
                if progress:
                    progress(made)
        writer.flush(batch)
        writer.finish()
        note(session, "runs", "work", "records")  # announced when it commits
    if db.engine.dialect.name == "postgresql":
        # What autovacuum would do in time: the visibility map lets counts read indexes only.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"VACUUM (ANALYZE) {', '.join(TABLES)}"))
    if progress:
        progress(made)
    return [f"generated {runs:,} runs over the last {days} days"]


def _flows(baton: Baton) -> list[_Flow]:
    weights = {"customer_onboarding": 0.45, "employee_hiring": 0.2, "refund_request": 0.35}
    directory = baton.as_user("admin").directory
    members: dict[str, list[str]] = {}
    for kind in ("queue", "group"):
        for group in directory.groups(kind):
            members[f"{kind}:{group.name}"] = list(group.members) or ["admin"]
    people = [u.username for u in directory.users() if u.role == "user" and u.active]
    flows = []
    with baton.db.read() as session:
        rows = session.execute(
            text(
                "SELECT o.id, v.id, o.name FROM orchestrations o JOIN orchestration_versions v "
                "ON v.orchestration_id = o.id WHERE v.status = 'active'"
            )
        ).all()
        for oid, vid, name in rows:
            definition = definition_for(session, int(vid)).definition
            flow = _Flow(
                int(oid),
                int(vid),
                str(name),
                definition,
                weights.get(str(name), 0.1),
                members,
                people,
            )
            trigger = definition.trigger
            if trigger is not None:
                object_row = session.execute(
                    text("SELECT id, title_field FROM object_types WHERE name = :name"),
                    {"name": trigger.object},
                ).first()
                if object_row is not None:
                    flow.object_type_id, flow.title_field = int(object_row[0]), object_row[1]
                    flow.samples = [
                        dict(r)
                        for r in demo_records().get(trigger.object, [])
                        if _meets(trigger.criteria, r)
                    ]
            flows.append(flow)
    return flows


def _meets(criteria: str | None, record: dict[str, Any]) -> bool:
    try:
        return not criteria or evaluate_condition(criteria, {"record": record, "old": None})
    except ExpressionError:
        return False


def _max_id(conn: Connection, table: str) -> int:
    """The largest id in use. On PostgreSQL that includes every id drawn from the table's
    sequence, used yet or not: Baton processes keep blocks of them (``store/ids.py``)."""
    largest = int(conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar() or 0)
    if conn.dialect.name != "postgresql":
        return largest
    sequence = conn.execute(text(f"SELECT pg_get_serial_sequence('{table}', 'id')")).scalar()
    drawn = conn.execute(
        text(f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {sequence}")
    ).scalar()
    return max(largest, int(drawn or 0))


def _start_times(
    rnd: random.Random, runs: int, days: int, now: dt.datetime
) -> Iterator[dt.datetime]:
    """Start times, oldest first, busier on weekdays and growing over the months."""
    span = days * DAY
    offsets = sorted(span * (1 - math.sqrt(rnd.random())) for _ in range(runs))
    for seconds in reversed(offsets):
        moment = now - dt.timedelta(seconds=seconds)
        if moment.weekday() >= 5 and rnd.random() < 0.6:
            moment -= dt.timedelta(days=2)  # most weekend work starts on the Friday before
        yield min(moment, now - dt.timedelta(minutes=5))


def _duration(rnd: random.Random, median_seconds: float, spread: float = 0.9) -> float:
    return median_seconds * math.exp(rnd.gauss(0, spread))


def _step_median(stage: Stage, step: InteractiveStep | BackgroundStep) -> float:
    if isinstance(step, BackgroundStep):
        return 20.0
    slow = {"legal": 2.5, "senior_approval": 1.8, "technical_interview": 3.0}
    return DAY * 0.6 * slow.get(step.name, 1.0)


def _one_run(
    rnd: random.Random, batch: _Batch, flow: _Flow, started: dt.datetime, now: dt.datetime
) -> None:
    age = (now - started).total_seconds() / DAY
    roll = rnd.random()
    if age < 12:
        fate = "open" if roll < 0.9 - age / 15 else _finished_fate(rnd)
    else:
        fate = "open" if roll < 0.004 else _finished_fate(rnd)
    run_id = batch.take("runs")
    rows = batch.rows
    log: list[tuple[Any, ...]] = []

    def note(
        at: dt.datetime, event: str, stage: str | None = None, message: str | None = None
    ) -> None:
        log.append(
            (batch.take("run_log"), run_id, at, None, event, stage, None, None, message, None)
        )

    actor = rnd.choice(flow.people)
    note(started, "run_started", message=f"started {flow.name}")
    variables = _variables(rnd, flow, run_id)
    record_id = _record(rnd, batch, flow, run_id, started, actor)
    state: dict[str, Any] = {}
    at = started
    current: str | None = None
    status, error, ended = "Completed", None, None
    visits: dict[str, int] = {}
    path = _walk(rnd, flow.definition)
    stop_at = rnd.randrange(len(path)) if fate != "completed" else -1
    for index, stage in enumerate(path):
        visits[stage.name] = visits.get(stage.name, 0) + 1
        stage_run_id = batch.take("stage_runs")
        stage_start = at
        note(stage_start, "stage_started", stage.name)
        current = stage.name
        here = index == stop_at
        took = {step.name: _duration(rnd, _step_median(stage, step)) for step in stage.steps}
        if not here and stage_start + dt.timedelta(seconds=max(took.values(), default=0)) > now:
            here, fate = True, "open"  # the history reaches today here: the run is still in it
        step_state: dict[str, Any] = {}
        stage_end = stage_start
        failed_step = None
        if here and fate == "error":
            background = [s for s in stage.steps if isinstance(s, BackgroundStep)]
            failed_step = rnd.choice(background or stage.steps).name
        for step in stage.steps:
            step_start = stage_start
            step_end = step_start + dt.timedelta(seconds=took[step.name])
            step_status = "Completed"
            if here:
                if fate == "error":
                    step_status = "Error" if step.name == failed_step else "Discontinued"
                elif fate in ("open", "suspended") and (
                    step_end > now or isinstance(step, InteractiveStep)
                ):
                    step_status = (
                        "InProgress" if step_end > now or rnd.random() < 0.6 else "Completed"
                    )
                elif fate == "canceled":
                    step_status = "Canceled"
            if step_status in ("InProgress",) or (step_status != "Completed" and step_end > now):
                step_end_value = None
            else:
                step_end = min(step_end, now)
                step_end_value = step_end
            stage_end = max(stage_end, step_end)
            outputs = _outputs(flow.definition, step) if step_status == "Completed" else {}
            step_run_id = batch.take("step_runs")
            rows["step_runs"].append(
                (
                    step_run_id,
                    run_id,
                    stage_run_id,
                    flow.orchestration_id,
                    stage.name,
                    step.name,
                    step.kind,
                    step_status,
                    outputs,
                    _failure(step, run_id) if step_status == "Error" else None,
                    len(getattr(step, "actions", ()) or ()) if step_status == "Completed" else 0,
                    3 if step_status == "Error" else 1,
                    step_start,
                    step_end_value,
                )
            )
            step_state[step.name] = {"status": step_status, "outputs": outputs}
            if isinstance(step, InteractiveStep):
                _work_item(
                    rnd,
                    batch,
                    flow,
                    run_id,
                    step_run_id,
                    stage,
                    step,
                    step_status,
                    step_start,
                    step_end_value,
                    now,
                    record_id,
                )
        if here:
            stage_status = {"error": "Error", "canceled": "Canceled", "suspended": "Suspended"}.get(
                fate, "InProgress"
            )
            rows["stage_runs"].append(
                (
                    stage_run_id,
                    run_id,
                    stage.name,
                    visits[stage.name],
                    stage_status,
                    f"step '{stage.name}.{failed_step}' failed" if fate == "error" else None,
                    stage_start,
                    None if stage_status in ("InProgress", "Suspended") else stage_end,
                )
            )
            state[stage.name] = {"status": stage_status, "visits": visits[stage.name], **step_state}
            if fate == "error":
                status = "Error"
                error = f"step '{stage.name}.{failed_step}' failed: " + _failure(
                    next(s for s in stage.steps if s.name == failed_step), run_id
                )
                ended = min(stage_end, now)
                note(ended, "run_failed", message=error)
            elif fate == "canceled":
                status, ended = "Canceled", min(stage_end, now)
                note(ended, "run_canceled", message=rnd.choice(CANCEL_REASONS))
            else:
                status = "Suspended" if fate == "suspended" else "InProgress"
            break
        rows["stage_runs"].append(
            (
                stage_run_id,
                run_id,
                stage.name,
                visits[stage.name],
                "Completed",
                None,
                stage_start,
                stage_end,
            )
        )
        state[stage.name] = {"status": "Completed", "visits": visits[stage.name], **step_state}
        note(stage_end, "stage_completed", stage.name)
        at = min(stage_end + dt.timedelta(seconds=rnd.uniform(1, 120)), now)
    else:
        current = None
        ended = min(at, now)
        note(ended, "run_completed")
    rows["runs"].append(
        (
            run_id,
            flow.orchestration_id,
            flow.version_id,
            status,
            record_id,
            variables,
            state,
            current,
            error,
            actor,
            started,
            ended,
            ended or now,
            1,
        )
    )
    rows["run_log"].extend(log)


def _failure(step: InteractiveStep | BackgroundStep, run_id: int) -> str:
    if isinstance(step, InteractiveStep):
        return "it cannot be assigned: user 'former.employee' is deactivated"
    return FAILURES[run_id % len(FAILURES)]


def _finished_fate(rnd: random.Random) -> str:
    roll = rnd.random()
    if roll < 0.05:
        return "error"
    if roll < 0.09:
        return "canceled"
    if roll < 0.092:
        return "suspended"
    return "completed"


def _walk(rnd: random.Random, definition: Orchestration) -> list[Stage]:
    """The stages a run visits: decisions choose the first outcome mostly, loops at most twice."""
    path: list[Stage] = []
    seen: dict[str, int] = {}
    name: str | None = definition.elements[0].name if definition.elements else None
    while name and name != "end" and len(path) < 12:
        element = definition.element(name)
        if element is None:
            break
        seen[name] = seen.get(name, 0) + 1
        if isinstance(element, Decision):
            first = element.outcomes[0].next if element.outcomes else element.default
            name = first if seen[name] > 1 or rnd.random() < 0.8 else element.default
            continue
        path.append(element)
        name = definition.next_of(element)
    return path


def _record(
    rnd: random.Random, batch: _Batch, flow: _Flow, run_id: int, at: dt.datetime, actor: str
) -> int | None:
    """The record a record-triggered run is about: one of the demo's, as if saved anew."""
    if flow.object_type_id is None or not flow.samples:
        return None
    data = dict(rnd.choice(flow.samples))
    if flow.title_field and flow.title_field in data:
        data[flow.title_field] = f"{data[flow.title_field]}-{run_id}"
    record_id = batch.take("records")
    batch.rows["records"].append(
        (record_id, flow.object_type_id, data, actor, at, actor, at, actor, 1)
    )
    return record_id


def _variables(rnd: random.Random, flow: _Flow, run_id: int) -> dict[str, Any]:
    """What a run would have been started with: each input as a person would fill it in,
    every other variable at its default."""
    values: dict[str, Any] = {}
    for variable in flow.definition.variables:
        kind = str(variable.type)
        if variable.default is not None:
            values[variable.name] = variable.default
        elif not variable.input:
            continue
        elif kind.endswith(("number", "currency")):
            values[variable.name] = rnd.randrange(1, 400) * 500
        elif kind.endswith("text"):
            values[variable.name] = f"{rnd.choice(NAMES)} {run_id}"
    return values


def _outputs(definition: Orchestration, step: InteractiveStep | BackgroundStep) -> dict[str, Any]:
    if not isinstance(step, InteractiveStep) or step.form is None:
        return {}
    form = definition.forms.get(step.form)
    if form is None:
        return {}
    values: dict[str, Any] = {}
    for f in form.fields:
        kind = str(getattr(f, "type", "text"))
        values[f.name] = (
            True if "checkbox" in kind else 3 if kind.endswith(("number", "currency")) else "ok"
        )
    if form.outcomes:
        values["outcome"] = form.outcomes[0].name
    return values


def _work_item(
    rnd: random.Random,
    batch: _Batch,
    flow: _Flow,
    run_id: int,
    step_run_id: int,
    stage: Stage,
    step: InteractiveStep,
    step_status: str,
    created: dt.datetime,
    ended: dt.datetime | None,
    now: dt.datetime,
    record_id: int | None,
) -> None:
    assignee = step.assignee
    kind, who = "user", rnd.choice(flow.people)
    if assignee is not None and assignee.user:
        who = assignee.user
    elif assignee is not None and (assignee.queue or assignee.group):
        kind = "queue" if assignee.queue else "group"
        who = str(assignee.queue or assignee.group)
    pool = flow.members.get(f"{kind}:{who}", [who])
    due = created + dt.timedelta(days=rnd.choice((1, 2, 2, 3, 5)))
    status = {"Completed": "Completed", "InProgress": "Assigned"}.get(step_status, "Canceled")
    claimed_by = None
    if status == "Assigned" and kind != "user" and rnd.random() < 0.4:
        status, claimed_by = "Claimed", rnd.choice(pool)
    completed_by = rnd.choice(pool) if status == "Completed" else None
    batch.rows["work_items"].append(
        (
            batch.take("work_items"),
            run_id,
            step_run_id,
            flow.orchestration_id,
            record_id,
            stage.name,
            step.name,
            label_of(step),
            status,
            kind,
            who,
            claimed_by,
            created if claimed_by else None,
            rnd.choice((1, 2, 2, 2, 3, 4)),
            due,
            created,
            ended if status != "Assigned" and status != "Claimed" else None,
            completed_by,
            None,
            {},
            None,
            1,
        )
    )


class _Writer:
    """Batched inserts through statements compiled once, as the engine's own (``Prepared``)."""

    COLUMNS = {
        "records": "id, object_type_id, data, owner, created_at, created_by, updated_at, "
        "updated_by, row_version",
        "runs": "id, orchestration_id, version_id, status, record_id, variables, state, "
        "current_element, error, started_by, started_at, ended_at, updated_at, row_version",
        "stage_runs": "id, run_id, stage, visit, status, error, started_at, ended_at",
        "step_runs": "id, run_id, stage_run_id, orchestration_id, stage, step, kind, status, "
        "outputs, error, action_index, attempt, started_at, ended_at",
        "work_items": "id, run_id, step_run_id, orchestration_id, record_id, stage, step, title, "
        "status, assignee_kind, assignee, claimed_by, claimed_at, priority, due_at, created_at, "
        "completed_at, completed_by, comment, values, flag, row_version",
        "run_log": "id, run_id, at, actor, event, stage, step, work_item_id, message, details",
    }

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self.statements: dict[str, tuple[tuple[str, ...], dict[str, Any], Prepared]] = {}
        for name, columns in self.COLUMNS.items():
            names = tuple(column.strip() for column in columns.split(","))
            table = Base.metadata.tables[name]
            # Every column is written, as the engine writes them: the rest take their defaults.
            rest = {
                c.name: c.default.arg
                if isinstance(c.default, ColumnDefault) and c.default.is_scalar
                else None
                for c in table.c
                if c.name not in names
            }
            statement = Prepared(insert(table), column_keys=[c.name for c in table.c])
            self.statements[name] = (names, rest, statement)

    def flush(self, batch: _Batch) -> None:
        for table in TABLES:  # parents first
            rows = batch.rows[table]
            if rows:
                names, rest, statement = self.statements[table]
                statement.run_many(
                    self.conn, [{**rest, **dict(zip(names, row, strict=True))} for row in rows]
                )
                rows.clear()

    def finish(self) -> None:
        if not self.sqlite:
            for table in TABLES:
                # never backwards: ids below it may be held, unused, by a running Baton
                self.conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), :value)"),
                    {"value": max(1, _max_id(self.conn, table))},
                )
        else:  # PostgreSQL's is VACUUM (ANALYZE), after the commit
            self.conn.execute(text("ANALYZE"))
