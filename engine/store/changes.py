"""Change notifications: who wants to hear that runs, work or mail changed.

Every committed transaction that wrote runtime rows announces the kinds it changed ("runs",
"work", "background", "outbox", "records"). On PostgreSQL the announcement is a NOTIFY sent
in the transaction itself, so it goes out only if the transaction commits, and every process
sharing the database hears it through LISTEN. On SQLite, transactions committed in this
process are announced directly, and commits by other processes on the same file (a
``baton worker``, the command line) are noticed by polling ``PRAGMA data_version`` every
``POLL_SECONDS`` while anyone listens: such a change is announced as every kind, since SQLite
does not say what changed.

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
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import ORMExecuteState, Session

CHANNEL = "baton_changes"
ALL_KINDS = frozenset({"runs", "work", "background", "outbox", "records"})
POLL_SECONDS = 1.5
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
        # SQLite: a connection of our own whose data_version moves when another connection
        # commits. It is read just before each of our commits (we hold the write lock then,
        # so nobody else can commit in between) and just after, so our own commits are not
        # echoed and nobody else's is taken for ours.
        self._watch: sqlite3.Connection | None = None
        self._watch_lock = threading.Lock()
        self._version: int | None = None
        self._others_committed = False

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
        if self.dialect == "postgresql" or self._thread is None:
            return
        with self._watch_lock:
            others, self._others_committed = self._others_committed, False
            self._version = self._data_version()
        if others:
            self._queue.put(ALL_KINDS)
        elif kinds:
            self._queue.put(frozenset(kinds))

    def committing(self, session: Session) -> None:
        """SQLite, just before this process commits (holding the write lock): did another
        connection commit since we last looked? Then that change is announced too."""
        if self.dialect == "postgresql" or self._thread is None:
            return
        with self._watch_lock:
            version = self._data_version()
            if version is not None and self._version is not None and version != self._version:
                self._others_committed = True
            self._version = version

    def close(self) -> None:
        self._stop.set()
        self._queue.put(None)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
        self._thread = None
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None

    # ------------------------------------------------------------ SQLite: other processes

    def _data_version(self) -> int | None:
        """The watch connection's data_version (the caller holds ``_watch_lock``)."""
        if self._watch is None:
            from sqlalchemy.engine import make_url

            path = make_url(self.url).database
            if not path or path == ":memory:":
                return None
            try:
                self._watch = sqlite3.connect(
                    f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=1.0
                )
            except sqlite3.Error:
                return None
        try:
            return int(self._watch.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            return None

    def _poll_others(self) -> None:
        with self._watch_lock:
            version = self._data_version()
            changed = version is not None and self._version is not None and version != self._version
            if version is not None:
                self._version = version
        if changed:
            self._deliver(ALL_KINDS)

    def _deliver(self, kinds: frozenset[str]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(kinds)
            except Exception:  # one subscriber's bug must not silence the others
                log.exception("a change subscriber failed")

    def _relay(self) -> None:
        with self._watch_lock:  # the starting point: what is in the file now
            self._version = self._data_version()
        next_poll = time.monotonic() + POLL_SECONDS
        while not self._stop.is_set():
            try:
                kinds = self._queue.get(timeout=max(0.0, next_poll - time.monotonic()))
            except queue.Empty:
                kinds = frozenset()
            if kinds is None:
                return
            if kinds:
                self._deliver(kinds)
            if time.monotonic() >= next_poll:  # also while this process is busy committing
                self._poll_others()
                next_poll = time.monotonic() + POLL_SECONDS

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
                    self._deliver(ALL_KINDS)
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

    event.listen(factory, "before_commit", announcer.committing)
    event.listen(factory, "after_commit", announcer.committed)
    guard(factory)
