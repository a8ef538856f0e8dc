"""A process keeps open as many connections to a shared database as it uses at once: a worker
with N calls in flight would otherwise open and close a PostgreSQL connection (a new server
process) for most of its transactions."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

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
