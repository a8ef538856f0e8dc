"""Row ids chosen before insert, so a transaction never has to flush half-way to learn them.

With ids known up front, every new row of a transition is written at commit, each table in
one batched statement, instead of a round trip per row. On SQLite the writing transaction
holds the database's write lock from its first statement (BEGIN IMMEDIATE), so the next id
is simply one more than the largest; on PostgreSQL ids come from the table's own sequence,
a block at a time.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

KEY = "baton_ids"
BLOCK = 32


# Tables whose ids the engine chooses: on SQLite their maxima are read together, once.
SQLITE_TABLES = (
    "runs",
    "stage_runs",
    "step_runs",
    "work_items",
    "timers",
    "outbox",
    "records",
    "events",
)


def _sqlite_maxima(session: Session) -> dict[str, list[int]]:
    query = "SELECT " + ", ".join(f"(SELECT max(id) FROM {t})" for t in SQLITE_TABLES)
    cursor = session.connection().connection.cursor()  # straight to the driver: every write
    try:
        cursor.execute(query)
        row = cursor.fetchone()
    finally:
        cursor.close()
    assert row is not None
    return {t: [int(v or 0)] for t, v in zip(SQLITE_TABLES, row, strict=True)}


def next_id(session: Session, model: Any) -> int:
    """A fresh primary key for a new row of ``model`` in this transaction."""
    table = model.__table__
    pools: dict[str, list[int]] | None = session.info.get(KEY)
    if session.get_bind().dialect.name == "sqlite":
        if pools is None:
            pools = session.info[KEY] = _sqlite_maxima(session)
        pool = pools.get(table.name)
        if pool is None:
            with session.no_autoflush:
                largest = session.scalar(select(func.max(table.c.id))) or 0
            pool = pools[table.name] = [int(largest)]
        pool[0] += 1
        return pool[0]
    return _from_sequence(session, table.name)


# PostgreSQL: sequence values are unique whoever draws them, so one process keeps the block
# it drew across transactions (ids stay dense: 1, 2, 3 … for a single desktop).
_blocks: weakref.WeakKeyDictionary[Any, dict[str, list[int]]] = weakref.WeakKeyDictionary()
_blocks_lock = threading.Lock()


def _from_sequence(session: Session, table: str) -> int:
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    with _blocks_lock:
        pool = _blocks.setdefault(engine, {}).setdefault(table, [])
        if pool:
            return pool.pop()
    with session.no_autoflush:
        rows = session.connection().execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table, "n": BLOCK},
        )
        drawn = [int(r[0]) for r in rows][::-1]
    with _blocks_lock:
        pool = _blocks[engine][table]
        pool.extend(drawn)
        pool.sort(reverse=True)
        return pool.pop()
