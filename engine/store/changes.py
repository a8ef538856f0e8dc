"""Change notifications: who wants to hear that runs, work or mail changed.

Every committed transaction that wrote runtime rows announces the kinds it changed ("runs",
"work", "background", "outbox", "records"). On PostgreSQL the announcement is a NOTIFY sent
in the transaction itself, so it goes out only if the transaction commits, and every process
sharing the database hears it through LISTEN. On SQLite, transactions committed in this
process are announced directly.

Subscribers are plain Python callables taking a ``frozenset`` of kinds. They are always called
on the one thread named ``baton-changes``, never on the thread that committed; a slow or
failing subscriber delays or loses nothing of anyone else's transaction.

The runtime's rows (runs, stage and step runs, work items, timers, the outbox) are written only
through ``engine.store.rows.Tx``, which notes the kinds it changed. A write of one of them
through the ORM would go out unannounced (and behind the back of the transaction's own copy),
so sessions refuse it (``guard``): it is a programming error, raised before anything is written.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import ORMExecuteState, Session

CHANNEL = "baton_changes"
KINDS_KEY = "baton_changes"
THREAD_NAME = "baton-changes"
Subscriber = Callable[[frozenset[str]], None]
log = logging.getLogger(__name__)
# The tables engine.store.rows.Tx writes (and announces); nothing else may write them.
TX_TABLES = frozenset({"runs", "stage_runs", "step_runs", "work_items", "timers", "outbox"})


class UntrackedWrite(RuntimeError):
    """A runtime row was about to be written outside ``Tx``, so without its change notice."""


def note(session: Session, *kinds: str) -> None:
    """Remember, for the commit, that this transaction changed ``kinds``."""
    session.info.setdefault(KINDS_KEY, set()).update(kinds)


def before_commit(session: Session) -> None:
    """On PostgreSQL: NOTIFY inside the transaction (delivered only if it commits)."""
    kinds = session.info.get(KINDS_KEY)
    if kinds and session.get_bind().dialect.name == "postgresql":
        session.connection().execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": CHANNEL, "payload": ",".join(sorted(kinds))},
        )


class Announcer:
    """Delivers change notes to subscribers on one thread of its own."""

    def __init__(self, url: str, dialect: str) -> None:
        self.url = url
        self.dialect = dialect
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._queue: queue.Queue[frozenset[str] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(kinds)`` on the baton-changes thread after each change; returns a
        function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)
            if self._thread is None:
                target = self._listen if self.dialect == "postgresql" else self._relay
                self._stop.clear()
                self._thread = threading.Thread(target=target, name=THREAD_NAME, daemon=True)
                self._thread.start()

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def committed(self, session: Session) -> None:
        """After a commit in this process (SQLite announces here; PostgreSQL via LISTEN)."""
        kinds = session.info.pop(KINDS_KEY, None)
        if kinds and self.dialect != "postgresql" and self._thread is not None:
            self._queue.put(frozenset(kinds))

    def close(self) -> None:
        self._stop.set()
        self._queue.put(None)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
        self._thread = None

    def _deliver(self, kinds: frozenset[str]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(kinds)
            except Exception:  # one subscriber's bug must not silence the others
                log.exception("a change subscriber failed")

    def _relay(self) -> None:
        while not self._stop.is_set():
            kinds = self._queue.get()
            if kinds is None:
                return
            self._deliver(kinds)

    def _listen(self) -> None:
        import psycopg

        dsn = self.url.replace("postgresql+psycopg://", "postgresql://", 1)
        delay = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    delay = 0.5
                    # After (re)connecting, changes may have been missed: say "everything".
                    self._deliver(frozenset({"runs", "work", "background", "outbox", "records"}))
                    while not self._stop.is_set():
                        for note_ in conn.notifies(timeout=1.0):
                            self._deliver(frozenset(note_.payload.split(",")))
            except psycopg.Error as exc:
                log.warning("listening for changes failed (%s); retrying", exc)
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)


def _untracked(table: str, verb: str, what: str) -> UntrackedWrite:
    return UntrackedWrite(
        f"{what} {verb} a {table} row through the ORM; runtime rows are written only through "
        "engine.store.rows.Tx (Tx.of(session)), which announces the change"
    )


def _refuse_orm_rows(session: Session, _context: Any, _instances: Any) -> None:
    for rows, verb in (
        (session.new, "adds"),
        (session.dirty, "changes"),
        (session.deleted, "deletes"),
    ):
        for obj in rows:
            table = getattr(obj, "__tablename__", None)
            if table in TX_TABLES and (verb != "changes" or session.is_modified(obj)):
                raise _untracked(
                    table, verb, f"this transaction (row id {getattr(obj, 'id', None)})"
                )


def _refuse_orm_statements(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(getattr(state.statement, "table", None), "name", None)
        if table in TX_TABLES:
            verb = "inserts" if state.is_insert else "updates" if state.is_update else "deletes"
            raise _untracked(table, verb, "a statement run on the session")


def guard(factory: Any) -> None:
    """Make sessions of ``factory`` refuse ORM writes of the rows only ``Tx`` may write."""
    from sqlalchemy import event

    event.listen(factory, "before_flush", _refuse_orm_rows)
    event.listen(factory, "do_orm_execute", _refuse_orm_statements)


def register(factory: Any, announcer: Announcer) -> None:
    from sqlalchemy import event

    event.listen(factory, "after_commit", announcer.committed)
    guard(factory)
