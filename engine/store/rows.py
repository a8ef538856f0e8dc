"""The runtime's rows, read and written with SQLAlchemy Core: the engine's hot path.

A transition loads a handful of rows and changes a few columns. The ORM's unit of work costs
several hundred microseconds per row for that; here each row is a plain record, a ``Tx`` (one
per transaction) remembers what it loaded and created, and at commit writes every insert and
update as one batched statement per table and column set. The tables and column types are
the ORM models' own (``engine.store.models``), so both views always agree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from engine.store.base import Base, utcnow
from engine.store.changes import note
from engine.store.ids import next_id
from engine.store.prepared import Prepared

TX_KEY = "baton_tx"


@dataclass(slots=True, eq=False)
class Rec:
    table_name: ClassVar[str]
    id: int = 0

    @classmethod
    def table(cls) -> Table:
        return Base.metadata.tables[cls.table_name]


@dataclass(slots=True, eq=False)
class RunRec(Rec):
    table_name: ClassVar[str] = "runs"
    orchestration_id: int = 0
    version_id: int = 0
    status: str = ""
    record_id: int | None = None
    parent_run_id: int | None = None
    parent_step_run_id: int | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    current_element: str | None = None
    error: str | None = None
    started_by: str | None = None
    started_at: dt.datetime = field(default_factory=utcnow)
    ended_at: dt.datetime | None = None
    updated_at: dt.datetime = field(default_factory=utcnow)
    row_version: int = 1
    trigger_depth: int = 0


@dataclass(slots=True, eq=False)
class StageRunRec(Rec):
    table_name: ClassVar[str] = "stage_runs"
    run_id: int = 0
    stage: str = ""
    visit: int = 1
    status: str = ""
    error: str | None = None
    started_at: dt.datetime = field(default_factory=utcnow)
    ended_at: dt.datetime | None = None


@dataclass(slots=True, eq=False)
class StepRunRec(Rec):
    table_name: ClassVar[str] = "step_runs"
    run_id: int = 0
    stage_run_id: int = 0
    orchestration_id: int | None = None
    stage: str | None = None
    step: str = ""
    kind: str = ""
    status: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    action_index: int = 0
    attempt: int = 0
    lost_leases: int = 0
    attempt_base: int = 0
    available_at: dt.datetime | None = None
    lease_owner: str | None = None
    lease_expires_at: dt.datetime | None = None
    wait_event: str | None = None
    wait_key: str | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None

    def fresh_attempts(self) -> None:
        """A new set of attempts begins (the retry policy whole again, no lease lost yet);
        the attempt number, the fencing token, goes on from where it is."""
        self.attempt_base = self.attempt
        self.lost_leases = 0


@dataclass(slots=True, eq=False)
class WorkItemRec(Rec):
    table_name: ClassVar[str] = "work_items"
    run_id: int = 0
    step_run_id: int = 0
    orchestration_id: int = 0
    record_id: int | None = None
    stage: str = ""
    step: str = ""
    title: str = ""
    status: str = ""
    assignee_kind: str = ""
    assignee: str = ""
    claimed_by: str | None = None
    claimed_at: dt.datetime | None = None
    priority: int = 2
    due_at: dt.datetime | None = None
    created_at: dt.datetime = field(default_factory=utcnow)
    completed_at: dt.datetime | None = None
    completed_by: str | None = None
    comment: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    flag: str | None = None
    row_version: int = 1


@dataclass(slots=True, eq=False)
class TimerRec(Rec):
    table_name: ClassVar[str] = "timers"
    run_id: int = 0
    work_item_id: int = 0
    rung: int = 0
    fire_at: dt.datetime = field(default_factory=utcnow)
    status: str = "pending"
    fired_at: dt.datetime | None = None


@dataclass(slots=True, eq=False)
class OutboxRec(Rec):
    table_name: ClassVar[str] = "outbox"
    kind: str = "email"
    recipient: str = ""
    subject: str = ""
    body: str = ""
    run_id: int | None = None
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: dt.datetime = field(default_factory=utcnow)
    last_error: str | None = None
    created_at: dt.datetime = field(default_factory=utcnow)
    sent_at: dt.datetime | None = None


# What a change to each kind of row means to subscribers (engine.store.changes).
_KIND: dict[type[Rec], str] = {}


@dataclass(frozen=True, slots=True)
class Mark:
    """A transaction's rows at a savepoint (``Tx.mark``), to go back to (``Tx.restore``)."""

    count: int  # rows created before it
    values: dict[tuple[type[Rec], int], tuple[Any, ...]]
    snapshots: dict[tuple[type[Rec], int], tuple[Any, ...]]
    locked: frozenset[tuple[type[Rec], int]]


# Parents before children, for inserts.
INSERT_ORDER: tuple[type[Rec], ...] = (
    RunRec,
    StageRunRec,
    StepRunRec,
    WorkItemRec,
    TimerRec,
    OutboxRec,
)
_KIND.update(
    {
        RunRec: "runs",
        StageRunRec: "runs",
        StepRunRec: "runs",
        WorkItemRec: "work",
        TimerRec: "work",
        OutboxRec: "outbox",
    }
)
R = TypeVar("R", bound=Rec)

_fields_cache: dict[type[Rec], tuple[str, ...]] = {}


def fields_of(cls: type[Rec]) -> tuple[str, ...]:
    names = _fields_cache.get(cls)
    if names is None:
        names = _fields_cache[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


_getters: dict[type[Rec], Callable[[Any], tuple[Any, ...]]] = {}


def _snapshot(rec: Rec) -> tuple[Any, ...]:
    """Every field's value, as one tuple (read in C by attrgetter)."""
    getter = _getters.get(type(rec))
    if getter is None:
        getter = _getters[type(rec)] = operator.attrgetter(*fields_of(type(rec)))
    return getter(rec)


_by_id: dict[tuple[type[Rec], bool], Prepared] = {}
_inserts: dict[type[Rec], Prepared] = {}
_updates: dict[tuple[type[Rec], tuple[str, ...]], Prepared] = {}


def _get_statement(cls: type[Rec], lock: bool) -> Prepared:
    prepared = _by_id.get((cls, lock))
    if prepared is None:
        table = cls.table()
        statement = select(table).where(table.c.id == bindparam("id", type_=table.c.id.type))
        if lock:
            statement = statement.with_for_update()
        prepared = _by_id[(cls, lock)] = Prepared(statement)
    return prepared


def labelled(cls: type[Rec], prefix: str) -> list[Any]:
    """The columns of ``cls``'s table labelled ``prefix + name``, for joins."""
    return [c.label(prefix + c.name) for c in cls.table().c]


def _insert_statement(cls: type[Rec]) -> Prepared:
    prepared = _inserts.get(cls)
    if prepared is None:
        prepared = _inserts[cls] = Prepared(insert(cls.table()), column_keys=fields_of(cls))
    return prepared


def _update_statement(cls: type[Rec], columns: tuple[str, ...]) -> Prepared:
    prepared = _updates.get((cls, columns))
    if prepared is None:
        table = cls.table()
        # Bind names may not equal column names in SET; types make JSON and dates convert.
        statement = (
            update(table)
            .where(table.c.id == bindparam("_id", type_=table.c.id.type))
            .values({name: bindparam(f"v_{name}", type_=table.c[name].type) for name in columns})
        )
        prepared = _updates[(cls, columns)] = Prepared(statement)
    return prepared


class Tx:
    """The runtime rows of one transaction. Get it with ``Tx.of(session)``."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.loaded: dict[tuple[type[Rec], int], Rec] = {}
        self.snapshots: dict[tuple[type[Rec], int], tuple[Any, ...]] = {}
        self.new: list[Rec] = []
        self.locked: set[tuple[type[Rec], int]] = set()
        self.steps_by_stage: dict[int, list[StepRunRec]] = {}
        self._connection: Connection | None = None

    @property
    def connection(self) -> Connection:
        """The transaction's connection (asking the session each time costs ~30 µs)."""
        if self._connection is None:
            self._connection = self.session.connection()
        return self._connection

    @staticmethod
    def of(session: Session) -> Tx:
        tx: Tx | None = session.info.get(TX_KEY)
        if tx is None:
            tx = session.info[TX_KEY] = Tx(session)
        return tx

    # ------------------------------------------------------------ reading

    def _adopt(self, cls: type[R], rows: Iterable[Any]) -> list[R]:
        """Records for ``rows``; rows already known keep their state in this transaction."""
        return [self.adopt(cls, row._mapping) for row in rows]

    def adopt(self, cls: type[R], values: Mapping[str, Any], *, fresh: bool = False) -> R:
        """The record for one row's ``values``. A known row keeps its state, unless ``fresh``
        (the values were read under a lock, or after one) and this transaction has not
        changed it: then it takes them, so nothing read before a lock stays stale after it."""
        key = (cls, values["id"])
        known = self.loaded.get(key)
        if known is None:
            known = cls(**values)
            self.loaded[key] = known
            self.snapshots[key] = _snapshot(known)
        elif fresh:
            before = self.snapshots.get(key)
            if before is not None and _snapshot(known) == before:
                for name in fields_of(cls):
                    setattr(known, name, values[name])
                self.snapshots[key] = _snapshot(known)
        return known  # type: ignore[return-value]

    def adopt_joined(
        self, mapping: Mapping[str, Any], parts: Sequence[tuple[type[Rec], str]]
    ) -> list[Rec]:
        """Records from one row of a join whose columns are labelled ``prefix + name``."""
        out: list[Rec] = []
        for cls, prefix in parts:
            values = {name: mapping[prefix + name] for name in fields_of(cls)}
            out.append(self.adopt(cls, values))
            self.locked.add((cls, values["id"]))
        return out

    def get(self, cls: type[R], rec_id: int | None, *, lock: bool = False) -> R | None:
        if rec_id is None:
            return None
        key = (cls, rec_id)
        known = self.loaded.get(key)
        if known is not None and (not lock or key in self.locked):
            return known  # type: ignore[return-value]
        rows = _get_statement(cls, lock).rows(self.connection, {"id": rec_id})
        found = [self.adopt(cls, row, fresh=lock) for row in rows]
        if not found:
            return None
        if lock:
            self.locked.add(key)
        return found[0]

    def get_one(self, cls: type[R], rec_id: int) -> R:
        rec = self.get(cls, rec_id)
        if rec is None:
            raise LookupError(f"no {cls.table_name} row {rec_id}")
        return rec

    def query(self, cls: type[R], statement: Any, params: dict[str, Any] | None = None) -> list[R]:
        """Run a select of ``cls``'s table (all columns); known rows keep their state."""
        connection = self.connection
        if isinstance(statement, Prepared):
            return [self.adopt(cls, row) for row in statement.rows(connection, params or {})]
        return self._adopt(cls, connection.execute(statement, params or {}))

    def lock_many(self, cls: type[R], ids: Sequence[int], *, skip_locked: bool = False) -> list[R]:
        if not ids:
            return []
        table = cls.table()
        statement = (
            select(table).where(table.c.id.in_(list(ids))).with_for_update(skip_locked=skip_locked)
        )
        rows: list[Any] = list(self.connection.execute(statement))
        found = [self.adopt(cls, row._mapping, fresh=True) for row in rows]
        self.locked.update((cls, r.id) for r in found)
        return found

    def reread(self, cls: type[R], ids: Sequence[int]) -> None:
        """Read these known rows again: those this transaction has not changed take the
        values now committed (see ``adopt``)."""
        if ids:
            table = cls.table()
            rows: list[Any] = list(
                self.connection.execute(select(table).where(table.c.id.in_(list(ids))))
            )
            for row in rows:
                self.adopt(cls, row._mapping, fresh=True)

    def pending(self, cls: type[R]) -> list[R]:
        return [r for r in self.new if type(r) is cls]

    # ------------------------------------------------------------ savepoints

    def mark(self) -> Mark:
        """The current state of every row, to go back to if what follows fails."""
        return Mark(
            len(self.new),
            {key: _snapshot(rec) for key, rec in self.loaded.items()},
            dict(self.snapshots),
            frozenset(self.locked),
        )

    def restore(self, mark: Mark) -> None:
        """Back to ``mark`` (its savepoint was rolled back): the rows' values, what they were
        last read or written as, and which are locked (a rolled-back savepoint lets go of the
        locks taken in it), so a row read afresh under a lock in between is not then written
        back with the values from before it."""
        for rec in self.new[mark.count :]:
            self.loaded.pop((type(rec), rec.id), None)
        del self.new[mark.count :]
        for key, rec in self.loaded.items():
            saved = mark.values.get(key)
            if saved is not None:
                for name, value in zip(fields_of(type(rec)), saved, strict=True):
                    setattr(rec, name, value)
                before = mark.snapshots.get(key)
                if before is None:  # created before the mark, not yet written
                    self.snapshots.pop(key, None)
                else:
                    self.snapshots[key] = before
        self.locked = set(mark.locked)
        for stage_run_id in [k for k in self.steps_by_stage if (StageRunRec, k) not in self.loaded]:
            del self.steps_by_stage[stage_run_id]

    # ------------------------------------------------------------ writing

    def add(self, rec: R) -> R:
        """A new row: it gets its id now and is inserted at commit."""
        model = _MODELS[type(rec)]
        rec.id = next_id(self.session, model)
        self.new.append(rec)
        self.loaded[(type(rec), rec.id)] = rec
        return rec

    def flush(self) -> None:
        """Write every new and changed row (called before commit)."""
        if self.session.new or self.session.dirty or self.session.deleted:
            self.session.flush()  # ORM rows this transaction made (records, events) come first
        connection = self.connection
        ids: dict[str, set[int]] = {}
        for rec in self.new:
            _written(ids, rec)
        if self.new:
            created = {id(r) for r in self.new}
            for cls in INSERT_ORDER:
                batch = [r for r in self.new if type(r) is cls]
                if batch:
                    names = fields_of(cls)
                    _insert_statement(cls).run_many(
                        connection, [{n: getattr(r, n) for n in names} for r in batch]
                    )
            for rec in self.new:
                self.snapshots[(type(rec), rec.id)] = _snapshot(rec)
            self.new = [r for r in self.new if id(r) not in created]
        groups: dict[tuple[type[Rec], tuple[str, ...]], list[dict[str, Any]]] = {}
        for key, rec in self.loaded.items():
            before = self.snapshots.get(key)
            if before is None:
                continue
            now = _snapshot(rec)
            if now == before:  # one comparison in C for the rows that did not change
                continue
            names = fields_of(type(rec))
            changed = tuple(
                name
                for name, old in zip(names, before, strict=True)
                if name != "id" and getattr(rec, name) != old
            )
            if changed:
                _written(ids, rec)
                values = {f"v_{name}": getattr(rec, name) for name in changed}
                values["_id"] = rec.id
                groups.setdefault((type(rec), changed), []).append(values)
                self.snapshots[key] = _snapshot(rec)
        for (cls, columns), rows in groups.items():
            _update_statement(cls, columns).run_many(connection, rows)
        if ids:
            note(self.session, *ids, ids=ids)


def _written(ids: dict[str, set[int]], rec: Rec) -> None:
    """Note ``rec`` as written, under its kind, by the id a subscriber knows it by
    (engine.store.changes.Change): a stage or step run is its run, a timer its work item."""
    if isinstance(rec, StepRunRec):
        ids.setdefault("runs", set()).add(rec.run_id)
        if rec.kind == "background":
            ids.setdefault("background", set()).add(rec.id)
    elif isinstance(rec, StageRunRec):
        ids.setdefault("runs", set()).add(rec.run_id)
    elif isinstance(rec, TimerRec):
        ids.setdefault("work", set()).add(rec.work_item_id)
    else:
        ids.setdefault(_KIND[type(rec)], set()).add(rec.id)


def _models() -> dict[type[Rec], Any]:
    from engine.store import models

    by_table = {
        m.__tablename__: m
        for m in vars(models).values()
        if isinstance(m, type) and hasattr(m, "__tablename__")
    }
    return {cls: by_table[cls.table_name] for cls in INSERT_ORDER}


_MODELS: dict[type[Rec], Any] = _models()


def flush_tx(session: Session) -> None:
    tx: Tx | None = session.info.get(TX_KEY)
    if tx is not None:
        tx.flush()
