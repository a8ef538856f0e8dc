"""How much of a completion is SQLite's own work: the floor under the engine's Python.

    .venv/bin/python bench/sqlite_floor.py              # 1,000 runs, 3 rounds, medians
    .venv/bin/python bench/sqlite_floor.py --runs 300

The onboarding workload of ``bench/onboarding.py``, in its four parts (start the runs, the
worker's intake steps, the three reviews through the service API, the worker's activation),
every statement and commit the driver is given being recorded (the statement and its
parameters, as the driver received them). The same statements are then replayed, in the same
order and transactions, straight on the ``sqlite3`` module against a copy of the database as
it was before the runs, with the engine's settings (WAL, ``synchronous=NORMAL``, its cache). The replay's time is what SQLite itself costs: parsing
(cached, as the driver caches it), B-trees, pages, the commit. The rest of the engine's time is
Python: SQLAlchemy's session, the engine's logic, building and decoding values.
A benchmark prints figures; it never fails.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RECORDED: list[tuple[str, str, Any]] = []  # (how, sql, parameters)
CONNECT = sqlite3.dbapi2.connect


class _Cursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        RECORDED.append(("one", sql, parameters))
        return super().execute(sql, parameters)

    def executemany(self, sql: str, seq: Any, /) -> Any:
        seq = list(seq)
        RECORDED.append(("many", sql, seq))
        return super().executemany(sql, seq)


class _Connection(sqlite3.Connection):
    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.cursor().execute(sql, parameters)

    def commit(self) -> None:
        RECORDED.append(("commit", "", None))
        super().commit()


PARTS = ("start the runs", "the worker: intake", "the reviews", "the worker: activation")


def one_round(runs: int) -> dict[str, list[float]]:
    """Seconds of each part of the workload: the engine's, and SQLite's alone."""
    from bench import onboarding

    def recorded_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        return CONNECT(*args, factory=_Connection, **kwargs)

    # SQLAlchemy's driver module is sqlite3.dbapi2, whose connect is the same function.
    sqlite3.dbapi2.connect = recorded_connect  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.sqlite3"
            baton = onboarding.setup(path)
            people = {u: baton.as_user(u) for u in onboarding.USERS}
            baton.db.engine.dispose()  # every page on disk: the copy is the database as it is
            copy = Path(tmp) / "copy.sqlite3"
            shutil.copy(path, copy)

            def reviews() -> None:
                for user in onboarding.USERS:
                    for item in people[user].work.list(user=user, limit=runs):
                        people[user].work.complete(item.id, {"approved": True}, user=user)

            parts = (
                lambda: [baton.runs.start("onboarding") for _ in range(runs)],
                baton.worker.run_once,
                reviews,
                baton.worker.run_once,
            )
            RECORDED.clear()
            engine: list[float] = []
            cuts = []
            for part in parts:
                began = time.perf_counter()
                part()
                engine.append(time.perf_counter() - began)
                cuts.append(len(RECORDED))
            statements = list(RECORDED)
            baton.close()
            alone = _replay(copy, statements, cuts)
    finally:
        sqlite3.connect = CONNECT
        sqlite3.dbapi2.connect = CONNECT
    return {"engine": engine, "sqlite": alone}


def _replay(path: Path, statements: list[tuple[str, str, Any]], cuts: list[int]) -> list[float]:
    """Seconds each part's statements take on the sqlite3 module alone, its connection set
    up as the engine sets up its own (engine.store.database)."""
    connection = connect_plain(path)
    cursor = connection.cursor()
    seconds = []
    done = 0
    for cut in cuts:
        began = time.perf_counter()
        for how, sql, parameters in statements[done:cut]:
            if how == "one":
                cursor.execute(sql, parameters)
                if sql.lstrip().upper().startswith("SELECT"):
                    cursor.fetchall()
            elif how == "many":
                cursor.executemany(sql, parameters)
            else:
                connection.commit()
        seconds.append(time.perf_counter() - began)
        done = cut
    connection.close()
    return seconds


def connect_plain(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection set up as the engine sets up its own."""
    from engine.store.database import _sqlite_pragmas

    connection = CONNECT(path)
    _sqlite_pragmas(connection, None)
    return connection


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rounds = [one_round(args.runs) for _ in range(args.repeat)]
    print(f"the onboarding workload, {args.runs} runs, median of {args.repeat} rounds:")
    print(f"  {'part':<24} {'engine':>9} {'SQLite alone':>13} {'share':>6}")
    for i, part in enumerate(PARTS):
        engine = statistics.median(r["engine"][i] for r in rounds)
        alone = statistics.median(r["sqlite"][i] for r in rounds)
        print(f"  {part:<24} {engine:>7.2f} s {alone:>11.2f} s {alone / engine:>6.0%}")
    engine = statistics.median(sum(r["engine"]) for r in rounds)
    alone = statistics.median(sum(r["sqlite"]) for r in rounds)
    completions = 6 * args.runs
    print(
        f"  {'all':<24} {engine:>7.2f} s {alone:>11.2f} s {alone / engine:>6.0%}\n"
        f"  step completions/s: the engine {completions / engine:,.0f};"
        f" SQLite alone, with no Python at all, {completions / alone:,.0f}"
    )
    reviews = 3 * args.runs
    e = statistics.median(r["engine"][2] for r in rounds) / reviews * 1e6
    a = statistics.median(r["sqlite"][2] for r in rounds) / reviews * 1e6
    print(
        f"  a review's completion, its own transaction: engine {e:.0f} µs, SQLite alone {a:.0f} µs"
    )


if __name__ == "__main__":
    main()
