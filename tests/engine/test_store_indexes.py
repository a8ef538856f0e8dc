"""The partial indexes a completion no longer writes to, and the queries that must still read
them, on SQLite and PostgreSQL: each query is the engine's own, caught as it runs, then
explained by the database.

Most work items have no record, no due time and no claim, and most steps wait for no event
and are not background steps in progress; indexes holding only the rows that have one are
smaller, and a completion writes to fewer of them (docs/benchmarks.md, 2026-12-01). A partial
index serves a query only if the database can tell the query asks for such rows: a comparison
on a column for its IS NOT NULL, and a status written out in the query, not bound (PostgreSQL
plans a statement it runs often once, for any parameter).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from engine.runtime.passes import due_steps
from engine.runtime.timetravel import next_due
from engine.services.baton import Baton
from engine.store.base import utcnow
from engine.store.database import Database
from engine.store.models import StepRunRow, WorkItemRow

PARTIAL = {
    "ix_work_items_record_id": "record_id IS NOT NULL",
    "ix_work_items_sla": "due_at IS NOT NULL",
    "ix_work_items_claimed": "claimed_by IS NOT NULL",
    "ix_step_runs_wait": "wait_event IS NOT NULL",
    "ix_step_runs_due": "'InProgress'",
}


@contextmanager
def caught(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """The SELECTs sent on ``db`` meanwhile, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


_PG_TYPES = {
    str: "text",
    int: "bigint",
    float: "float8",
    bool: "boolean",
    dt.datetime: "timestamptz",
}


def plan(db: Database, statement: str, parameters: Any) -> str:
    """How the database would run ``statement``, as one text.

    PostgreSQL is asked for the plan it makes once for any parameters, as for a statement run
    often (psycopg prepares one on its sixth run), and told to avoid reading whole tables, so
    that on a small test database it still shows what it *can* use."""
    with db.engine.connect() as connection:
        driver = connection.connection.dbapi_connection
        if db.is_sqlite:
            cursor = driver.cursor()
            rows = cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
            return " | ".join(str(r[-1]) for r in rows)
        import psycopg

        cursor = psycopg.ClientCursor(driver)  # the statement as text: PREPARE holds its own $n
        names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
        numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m[1]) + 1}", statement)
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        types = ", ".join(_PG_TYPES[type(parameters[n])] for n in names)
        cursor.execute(
            f"PREPARE baton_plan ({types}) AS {numbered}"
            if names
            else f"PREPARE baton_plan AS {numbered}"
        )
        marks = ", ".join(f"%s::{_PG_TYPES[type(parameters[n])]}" for n in names)
        cursor.execute(
            f"EXPLAIN EXECUTE baton_plan({marks})" if names else "EXPLAIN EXECUTE baton_plan",
            [parameters[n] for n in names],
        )
        lines = " | ".join(r[0] for r in cursor.fetchall())
        driver.rollback()
        cursor.execute("DEALLOCATE baton_plan")
        return lines


def plan_of(db: Database, run: Callable[[], object], table: str) -> str:
    with caught(db) as seen:
        run()
    (statement, parameters) = next((s, p) for s, p in seen if table in s)
    return plan(db, statement, parameters)


def test_the_migrated_indexes_are_partial(baton: Baton) -> None:
    db = baton.db
    with db.engine.connect() as connection:
        if db.is_sqlite:
            rows = connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
            ).all()
        else:
            rows = connection.execute(text("SELECT indexname, indexdef FROM pg_indexes")).all()
    made = {str(row[0]): str(row[1]) for row in rows}
    for name, condition in PARTIAL.items():
        assert condition in made[name], (name, made[name])
    due = made["ix_step_runs_due"]
    assert "(available_at, id)" in due and "'background'" in due, due


def test_the_workers_queries_read_the_index_of_due_steps(baton: Baton) -> None:
    db = baton.db
    now = utcnow()
    for run in (lambda: due_steps(db, now, 16), lambda: next_due(db, now)):
        assert "ix_step_runs_due" in plan_of(db, run, "step_runs")


def test_needs_attention_reads_the_index_of_due_steps(baton: Baton) -> None:
    with caught(baton.db) as seen:
        baton.attention.report()
    overdue = [(s, p) for s, p in seen if "step_runs" in s and "available_at <" in s]
    assert overdue, "no query of overdue background steps was made"
    for statement, parameters in overdue:
        assert "ix_step_runs_due" in plan(baton.db, statement, parameters), statement


@pytest.mark.parametrize(
    ("index", "query"),
    [
        (
            "ix_work_items_claimed",
            select(func.count())
            .select_from(WorkItemRow)
            .where(WorkItemRow.claimed_by == "ann", WorkItemRow.status == "Claimed"),
        ),
        (
            "ix_work_items_record_id",
            select(WorkItemRow.id).where(WorkItemRow.record_id == 7),
        ),
        (
            "ix_work_items_sla",
            select(func.count())
            .select_from(WorkItemRow)
            .where(
                WorkItemRow.due_at >= dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                WorkItemRow.due_at < dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
            ),
        ),
        (
            "ix_step_runs_wait",
            select(StepRunRow.id).where(
                StepRunRow.wait_event == "order_paid", StepRunRow.wait_key == "42"
            ),
        ),
    ],
)
def test_lookups_by_value_read_the_partial_indexes(baton: Baton, index: str, query: Any) -> None:
    with caught(baton.db) as seen, baton.db.read() as session:
        session.execute(query)
    assert index in plan(baton.db, *seen[-1])


@pytest.mark.parametrize("sla", ["on_time", "breached"])
def test_the_consoles_sla_filters_read_the_due_time_index(baton: Baton, sla: str) -> None:
    """Done late or on time, with any status ("Any" chooses none): an OR of open and done
    items, which reads the due-time index only if the query says it wants a due time at all
    (overdue and due soon are open items: status and due time have an index of their own)."""
    from engine.services.queries import WorkFilter

    with caught(baton.db) as seen:
        baton.console.work_items(WorkFilter(statuses=(), sla=sla))
    (statement, parameters) = next((s, p) for s, p in seen if "FROM work_items" in s)
    assert "ix_work_items_sla" in plan(baton.db, statement, parameters), statement
