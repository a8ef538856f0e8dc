"""Change notifications: who wants to hear that runs, work or mail changed.

Every committed transaction that wrote runtime rows announces the kinds it changed ("runs",
"work", "background", "outbox", "records"). On PostgreSQL the announcement is a NOTIFY sent
in the transaction itself, so it goes out only if the transaction commits, and every process
sharing the database hears it through LISTEN. On SQLite, transactions committed in this
process are announced directly, and commits by other processes on the same file (a
``baton worker``, the command line) are noticed by polling ``PRAGMA data_version`` every
``POLL_SECONDS`` while anyone listens: such a change is announced as every kind, since SQLite
does not say what changed.

Subscribers are plain Python callables taking a ``Change``: the ``frozenset`` of kinds, which
also says which rows of each kind were written (``ids``; a kind without ids means "some, or
many": another process's SQLite commit, a bulk load, more than ``MAX_IDS`` rows) and who caused
it (``origin``: the token of ``acting_for`` around the call, so a window can tell the echo of
its own change from someone else's). They are always called on the one thread named
``baton-changes``, never on the thread that committed; a slow or failing subscriber delays or
loses nothing of anyone else's transaction.

The runtime's rows (runs, stage and step runs, work items, timers, the outbox) are written only
through ``engine.store.rows.Tx``, which notes the kinds it changed. A write of one of them
through the ORM would go out unannounced (and behind the back of the transaction's own copy),
so sessions refuse it (``guard``): it is a programming error, raised before anything is written.
"""

from __future__ import annotations

import contextvars
import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import ORMExecuteState, Session

CHANNEL = "baton_changes"
ALL_KINDS = frozenset({"runs", "work", "background", "outbox", "records", "directory"})
POLL_SECONDS = 1.5
KINDS_KEY = "baton_changes"
IDS_KEY = "baton_changed_ids"
THREAD_NAME = "baton-changes"
# Past this many rows of one kind a notice names none of them: "many changed".
MAX_IDS = 200
MAX_ORIGIN = 120
PAYLOAD_LIMIT = 7900  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more
Subscriber = Callable[[frozenset[str]], None]  # called with a Change
log = logging.getLogger(__name__)
# The tables engine.store.rows.Tx writes (and announces); nothing else may write them.
TX_TABLES = frozenset({"runs", "stage_runs", "step_runs", "work_items", "timers", "outbox"})
# People, groups and queues, calendars and settings: a write to any of them is announced as
# "directory", whichever service made it (the Admin panels of other desktops read them again).
DIRECTORY_TABLES = frozenset({"users", "groups", "group_members", "calendars", "settings"})


class UntrackedWrite(RuntimeError):
    """A runtime row was about to be written outside ``Tx``, so without its change notice."""


class Change(frozenset[str]):
    """What one committed transaction changed: the kinds (it *is* their frozenset, so a
    subscriber that wants only the kinds treats it as one), the ids of the rows written per
    kind, and the origin, the token of whoever caused it (``acting_for``), if anyone said.

    ``ids`` names a kind only when every row of it that changed is known: runs by run id
    (their stage and step runs count as the run), work by work item id (timers count as their
    item), background by step run id, outbox by message id. A kind missing from ``ids`` means
    "something of this kind changed": ask again.
    """

    __slots__ = ("ids", "origin")
    ids: Mapping[str, frozenset[int]]
    origin: str | None

    def __new__(
        cls,
        kinds: Iterable[str] = (),
        ids: Mapping[str, Iterable[int]] | None = None,
        origin: str | None = None,
    ) -> Change:
        change = super().__new__(cls, kinds)
        known = {k: frozenset(v) for k, v in (ids or {}).items() if k in change}
        change.ids = MappingProxyType(known)
        change.origin = origin
        return change

    def rows(self, kind: str) -> frozenset[int] | None:
        """The ids of ``kind`` that changed: empty if that kind did not change, None if it
        did and which rows is not known."""
        if kind not in self:
            return frozenset()
        return self.ids.get(kind)

    def touches(self, kind: str, row_id: int) -> bool:
        """Whether the row ``row_id`` of ``kind`` may have changed."""
        rows = self.rows(kind)
        return rows is None or row_id in rows

    def __repr__(self) -> str:
        ids = {k: sorted(v) for k, v in sorted(self.ids.items())}
        return f"Change({sorted(self)}, ids={ids}, origin={self.origin!r})"

    # ------------------------------------------------------------ on the wire (NOTIFY)

    def payload(self) -> str:
        """The comma-joined kinds, then compact JSON of the ids and the origin:
        ``runs,work,{"ids":{"runs":[12]},"origin":"inbox:…"}``. A process of an older version
        splits it on commas and still finds every kind (the JSON's pieces name no kind). Under
        PostgreSQL's limit: the longest lists of ids are left out first."""
        ids = {k: sorted(v) for k, v in self.ids.items()}
        kinds = ",".join(sorted(self))
        while True:
            extra = json.dumps({"ids": ids, "origin": self.origin}, separators=(",", ":"))
            text_ = f"{kinds},{extra}"
            if len(text_.encode()) < PAYLOAD_LIMIT or not ids:
                return text_
            del ids[max(ids, key=lambda k: len(ids[k]))]

    @classmethod
    def parse(cls, payload: str) -> Change:
        """A notice from another process (``payload``), or the bare comma-joined kinds of an
        older version. Ids that cannot be read are left out: "some rows changed"."""
        head, brace, tail = payload.partition("{")
        kinds = [k for k in head.split(",") if k]
        if not brace:
            return cls(kinds)
        try:
            data = json.loads(brace + tail)
            origin = data.get("origin")
            return cls(
                kinds,
                {str(k): [int(i) for i in v] for k, v in data.get("ids", {}).items()},
                origin if isinstance(origin, str) else None,
            )
        except (ValueError, TypeError, AttributeError):
            log.warning("a change notice with unreadable ids (%.80s)", payload)
            return cls(kinds or ALL_KINDS)


EVERYTHING = Change(ALL_KINDS)  # what a change nobody described gives
_origin: contextvars.ContextVar[str | None] = contextvars.ContextVar("baton_origin", default=None)


@contextmanager
def acting_for(origin: str | None) -> Iterator[None]:
    """Changes committed inside carry ``origin`` (a token naming, say, the window whose call
    made them), so that window can skip the echo of its own change."""
    token = _origin.set(origin[:MAX_ORIGIN] if origin else None)
    try:
        yield
    finally:
        _origin.reset(token)


def note(session: Session, *kinds: str, ids: Mapping[str, Iterable[int]] | None = None) -> None:
    """Remember, for the commit, that this transaction changed ``kinds`` — and, for the kinds
    in ``ids``, which rows. ``Tx`` gives the ids of every runtime row it writes (nothing else
    may write them), so a kind only ever noted without ids (records, a bulk load written past
    ``Tx``) goes out as "some rows"; so does one with more than ``MAX_IDS``."""
    session.info.setdefault(KINDS_KEY, set()).update(kinds)
    if not ids:
        return
    known: dict[str, set[int] | None] = session.info.setdefault(IDS_KEY, {})
    for kind, rows in ids.items():
        if kind not in kinds:
            continue
        have = known.setdefault(kind, set())
        if have is not None:
            have.update(rows)
            if len(have) > MAX_IDS:
                known[kind] = None


def _change(session: Session, *, pop: bool) -> Change | None:
    """The change this transaction is about to commit (None if it changed nothing)."""
    kinds = session.info.pop(KINDS_KEY, None) if pop else session.info.get(KINDS_KEY)
    known = session.info.pop(IDS_KEY, None) if pop else session.info.get(IDS_KEY)
    if not kinds:
        return None
    ids = {k: v for k, v in (known or {}).items() if v is not None}
    return Change(kinds, ids, _origin.get())


def before_commit(session: Session) -> None:
    """On PostgreSQL: NOTIFY inside the transaction (delivered only if it commits)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.flush()  # what is still pending is noted (``_check_orm_rows``) before the notice
    change = _change(session, pop=False)
    if change is not None:
        session.connection().execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": CHANNEL, "payload": change.payload()},
        )


class Announcer:
    """Delivers change notes to subscribers on one thread of its own."""

    def __init__(self, url: str, dialect: str) -> None:
        self.url = url
        self.dialect = dialect
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._queue: queue.Queue[Change | None] = queue.Queue()
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
        """Call ``callback(change)`` (a ``Change``) on the baton-changes thread after each
        change; returns a function that unsubscribes."""
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
        change = _change(session, pop=True)
        if self.dialect == "postgresql" or self._thread is None:
            return
        with self._watch_lock:
            others, self._others_committed = self._others_committed, False
            self._version = self._data_version()
        if others:
            self._queue.put(EVERYTHING)
        elif change is not None:
            self._queue.put(change)

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
            self._deliver(EVERYTHING)

    def _deliver(self, change: Change) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(change)
            except Exception:  # one subscriber's bug must not silence the others
                log.exception("a change subscriber failed")

    def _relay(self) -> None:
        with self._watch_lock:  # the starting point: what is in the file now
            self._version = self._data_version()
        next_poll = time.monotonic() + POLL_SECONDS
        while not self._stop.is_set():
            try:
                change = self._queue.get(timeout=max(0.0, next_poll - time.monotonic()))
            except queue.Empty:
                change = Change()
            if change is None:
                return
            if change:
                self._deliver(change)
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
                    self._deliver(EVERYTHING)
                    while not self._stop.is_set():
                        for note_ in conn.notifies(timeout=1.0):
                            self._deliver(Change.parse(note_.payload))
            except psycopg.Error as exc:
                log.warning("listening for changes failed (%s); retrying", exc)
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)


def _untracked(table: str, verb: str, what: str) -> UntrackedWrite:
    return UntrackedWrite(
        f"{what} {verb} a {table} row through the ORM; runtime rows are written only through "
        "engine.store.rows.Tx (Tx.of(session)), which announces the change"
    )


def _check_orm_rows(session: Session, _context: Any, _instances: Any) -> None:
    """Before a flush: refuse ORM writes of runtime rows; note those of the directory."""
    for rows, verb in (
        (session.new, "adds"),
        (session.dirty, "changes"),
        (session.deleted, "deletes"),
    ):
        for obj in rows:
            table = getattr(obj, "__tablename__", None)
            if table not in TX_TABLES and table not in DIRECTORY_TABLES:
                continue
            if verb == "changes" and not session.is_modified(obj):
                continue
            if table in TX_TABLES:
                raise _untracked(
                    table, verb, f"this transaction (row id {getattr(obj, 'id', None)})"
                )
            note(session, "directory")


def _check_orm_statements(state: ORMExecuteState) -> None:
    """The same for statements run on the session (bulk inserts, updates and deletes)."""
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(getattr(state.statement, "table", None), "name", None)
        if table in TX_TABLES:
            verb = "inserts" if state.is_insert else "updates" if state.is_update else "deletes"
            raise _untracked(table, verb, "a statement run on the session")
        if table in DIRECTORY_TABLES:
            note(state.session, "directory")


def guard(factory: Any) -> None:
    """Make sessions of ``factory`` refuse ORM writes of the rows only ``Tx`` may write, and
    note writes of the directory's (announced by the sessions that ``register`` them)."""
    from sqlalchemy import event

    event.listen(factory, "before_flush", _check_orm_rows)
    event.listen(factory, "do_orm_execute", _check_orm_statements)


def register(factory: Any, announcer: Announcer) -> None:
    from sqlalchemy import event

    event.listen(factory, "before_commit", announcer.committing)
    event.listen(factory, "after_commit", announcer.committed)
    guard(factory)
