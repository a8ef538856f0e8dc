"""Row ids chosen before insert, so a transaction never has to flush half-way to learn them.

With ids known up front, every new row of a transition is written at commit, each table in
one batched statement, instead of a round trip per row. On SQLite the writing transaction
holds the database's write lock from its first statement (BEGIN IMMEDIATE), so the next id
is simply one more than the largest; on PostgreSQL ids come from the table's own sequence,
a block at a time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

KEY = "baton_ids"
BLOCK = 32


def next_id(session: Session, model: Any) -> int:
    """A fresh primary key for a new row of ``model`` in this transaction."""
    table = model.__table__
    pools: dict[str, list[int]] = session.info.setdefault(KEY, {})
    pool = pools.get(table.name)
    if session.get_bind().dialect.name == "sqlite":
        if pool is None:
            # Pending rows took their ids from this pool, so they need not be flushed first.
            with session.no_autoflush:
                largest = session.scalar(select(func.max(table.c.id))) or 0
            pool = pools[table.name] = [int(largest)]
        pool[0] += 1
        return pool[0]
    if not pool:
        with session.no_autoflush:
            rows = session.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"table": table.name, "n": BLOCK},
            )
            pool = pools[table.name] = [int(r[0]) for r in rows][::-1]
    return pool.pop()
