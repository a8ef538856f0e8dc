"""A process keeps open as many connections to a shared database as it uses at once: a worker
with N calls in flight would otherwise open and close a PostgreSQL connection (a new server
process) for most of its transactions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, text

from engine.store import liveness
from engine.store.database import POOL_SIZE, Database

pytestmark = pytest.mark.postgres


def kept_after(db: Database, at_once: int) -> int:
    """Connections still open after ``at_once`` transactions ran together and ended."""
    together = threading.Barrier(at_once, timeout=30)

    def one() -> None:
        with db.read() as session:
            session.execute(text("SELECT 1"))
            together.wait()  # every transaction holds its connection at this moment

    threads = [threading.Thread(target=one) for _ in range(at_once)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return int(db.engine.pool.checkedin())  # type: ignore[attr-defined]


def test_a_pool_sized_for_a_workers_calls_keeps_each_connection(postgres_url: str) -> None:
    sized = Database(postgres_url, connections=20)
    plain = Database(postgres_url)
    try:
        assert kept_after(sized, 16) == 16
        assert kept_after(plain, 12) == POOL_SIZE  # the others were closed as they ended
    finally:
        sized.dispose()
        plain.dispose()


def test_the_worker_command_sizes_its_pool_to_its_concurrency(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.cli import commands

    opened: list[int] = []
    real = commands.open_baton

    def spy(args: object, **kwargs: object) -> object:
        baton = real(args, **kwargs)  # type: ignore[arg-type]
        opened.append(baton.db.connections)
        return baton

    monkeypatch.setattr(commands, "open_baton", spy)
    monkeypatch.setattr(commands, "_baton", spy)
    from engine.cli.main import main

    assert main(["--db", postgres_url, "db", "upgrade"]) == 0
    assert main(["--db", postgres_url, "worker", "--once", "--concurrency", "32"]) == 0
    assert opened[-1] == 36  # a connection for each call in flight, and a few more


@pytest.mark.slow
def test_connections_idle_while_the_server_restarted_are_replaced_unseen(
    postgres_server: object, postgres_url: str
) -> None:
    from tests.pg import PostgresServer

    assert isinstance(postgres_server, PostgresServer)
    db = Database(postgres_url, connections=8)
    try:
        assert kept_after(db, 4) == 4  # the pool holds connections to the server as it was
        postgres_server.restart()
        with db.read() as session:  # each dead one is dropped before use, a fresh one used
            assert session.execute(text("SELECT 1")).scalar() == 1
        assert kept_after(db, 8) == 8
    finally:
        db.dispose()


# ------------------------------------------- pinged only when it may be dead (engine.store.liveness)


def _statements_seen(db: Database, work: Callable[[], None]) -> list[str]:
    """The statements ``work`` sent on ``db``'s connections, pings included."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    ping = db.engine.dialect.do_ping

    def counted_ping(dbapi_connection: Any) -> bool:
        seen.append("<ping>")
        return bool(ping(dbapi_connection))

    event.listen(db.engine, "before_cursor_execute", note)
    db.engine.dialect.do_ping = counted_ping  # type: ignore[method-assign]
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
        db.engine.dialect.do_ping = ping  # type: ignore[method-assign]
    return seen


def test_a_connection_used_again_at_once_is_not_pinged(postgres_url: str) -> None:
    db = Database(postgres_url)
    try:

        def transactions() -> None:
            for _ in range(20):
                with db.read() as session:
                    session.execute(text("SELECT 1"))

        seen = _statements_seen(db, transactions)
        assert "<ping>" not in seen
        assert len(seen) == 20  # one statement each, nothing before them
    finally:
        db.dispose()


def test_a_connection_idle_for_long_is_pinged_first(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(postgres_url)
    try:
        with db.read() as session:
            session.execute(text("SELECT 1"))
        monkeypatch.setattr(liveness, "TRUSTED_IDLE_SECONDS", 0.0)

        def one() -> None:
            with db.read() as session:
                session.execute(text("SELECT 1"))

        assert _statements_seen(db, one)[0] == "<ping>"
    finally:
        db.dispose()


def test_a_connection_the_server_ended_is_replaced_unseen(postgres_url: str) -> None:
    db = Database(postgres_url, connections=2)
    watcher = Database(postgres_url)
    try:
        with db.read() as session:
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
        with watcher.write() as session:  # the server ends it, as when it stops or restarts
            assert session.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()

        def one() -> None:
            with db.read() as session:
                assert session.execute(text("SELECT pg_backend_pid()")).scalar() != pid

        # The socket says so at once: it is pinged (the ping fails), and a fresh one is used.
        wait_until_readable(db)
        assert _statements_seen(db, one)[0] == "<ping>"
    finally:
        db.dispose()
        watcher.dispose()


def wait_until_readable(db: Database) -> None:
    """Until the pool's idle connection has heard the server's goodbye (it comes at once)."""
    import select

    pool = db.engine.pool
    record = pool._pool.queue[0]  # type: ignore[attr-defined]
    select.select([record.dbapi_connection.fileno()], [], [], 10)
