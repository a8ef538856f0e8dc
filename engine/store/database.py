"""Connecting to the database: the SQLite default, PostgreSQL for teams, and the schema state.

Sessions are never shared across threads: ``Database.write()`` and ``Database.read()`` each
give a fresh session in its own transaction.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from engine.store.prepared import wrap_driver_error

ENV_VAR = "BATON_DATABASE_URL"
MIGRATIONS = (
    Path(sys._MEIPASS) / "engine" / "store" / "migrations"  # inside a desktop bundle
    if hasattr(sys, "_MEIPASS")
    else Path(__file__).with_name("migrations")
)


class DatabaseError(Exception):
    """The database cannot be used: unreachable, not Baton's, or of another schema version."""


class NotADatabase(DatabaseError):
    """The file is not a SQLite database, or it is damaged: the app may offer another one."""


class MissingDatabase(DatabaseError):
    """The SQLite file does not exist and this caller does not create databases."""


# How long a SQLite connection waits for another program's lock before giving up.
BUSY_TIMEOUT_SECONDS = 15.0
# Connections a process keeps open to a shared database, and how many more it may open for a
# moment when they are all in use (closed again as each transaction ends).
POOL_SIZE = 5
POOL_OVERFLOW = 10


def default_url() -> str:
    """The SQLite file in the user's data directory."""
    directory = Path(platformdirs.user_data_dir("baton", appauthor=False))
    return f"sqlite:///{directory / 'baton.sqlite3'}"


def resolve_url(url: str | None = None) -> str:
    """``url``, else $BATON_DATABASE_URL, else the default SQLite file.

    A plain file path is taken as a SQLite file.
    """
    chosen = url or os.environ.get(ENV_VAR) or default_url()
    if "://" not in chosen:
        chosen = f"sqlite:///{Path(chosen).expanduser().resolve()}"
    if chosen.startswith(("postgres://", "postgresql://")):
        chosen = "postgresql+psycopg://" + chosen.split("://", 1)[1]
    return chosen


def describe_url(url: str) -> str:
    """The URL as it may be shown to people: no password."""
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # e.g. a port that is not a number
        shown = re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)
    # The driver is ours, not the person's: show the URL as they would write it.
    return shown.replace("postgresql+psycopg://", "postgresql://", 1)


def _url_problem(exc: Exception) -> str:
    if isinstance(exc, NoSuchModuleError):
        return "Baton uses SQLite files and postgresql:// URLs"
    if isinstance(exc, ValueError) and "int()" in str(exc):
        return "its port is not a number (write postgresql://USER:PASSWORD@HOST:PORT/DATABASE)"
    return _first_line(exc)


def sqlite_file(url: str) -> str | None:
    """The file a SQLite URL names (None for memory, URI filenames and other databases)."""
    if not url.startswith("sqlite"):
        return None
    try:
        path = make_url(url).database
    except (ArgumentError, ValueError):
        return None
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return path


def explain(
    exc: BaseException, place: str, otherwise: str = "cannot reach the database {place}: {text}"
) -> str:
    """One sentence for a driver error met while opening or using the database at ``place``:
    damaged, held by another program, read-only, full, else ``otherwise`` (a format with
    ``{place}`` and ``{text}``, the driver's first line)."""
    text = _first_line(exc)
    lowered = text.lower()
    if "not a database" in lowered or "malformed" in lowered or "file is encrypted" in lowered:
        return f"{place} is not a SQLite database, or it is damaged"
    if "locked" in lowered or "busy" in lowered:
        return (
            f"another program holds {place}: nothing was changed; close it, or wait for it "
            "to finish, and try again"
        )
    if "readonly" in lowered or "read-only" in lowered:
        return (
            f"{place} is read-only: nothing was changed (Baton needs to write to it; check "
            "the file's permissions, or the disk it is on)"
        )
    if "unable to open database file" in lowered:
        if Path(place).is_dir():
            return f"{place} is a folder, not a database file"
        return (
            f"cannot open {place}: SQLite could not open it or create its -wal and -shm files "
            "beside it (is the folder or disk read-only?)"
        )
    if "disk" in lowered and "full" in lowered:
        return f"the disk holding {place} is full; nothing was changed"
    return otherwise.format(place=place, text=text)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is off; we send BEGIN ourselves (see _begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MB of page cache
    cursor.execute("PRAGMA mmap_size=268435456")  # read through 256 MB of memory map
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Writers take the write lock up front, so two processes never deadlock upgrading a
    # read lock; readers use a deferred transaction and never block anyone under WAL.
    # Straight to the driver: this runs for every transaction.
    driver = connection.connection.dbapi_connection
    statement = (
        "BEGIN"
        if connection.get_execution_options().get("baton_read_only")
        else ("BEGIN IMMEDIATE")
    )
    try:
        driver.execute(statement)
    except connection.dialect.loaded_dbapi.Error as exc:
        raise wrap_driver_error(connection, statement, (), exc) from exc


@dataclass(frozen=True)
class SchemaState:
    current: str | None
    head: str
    has_tables: bool

    @property
    def empty(self) -> bool:
        return self.current is None and not self.has_tables

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


class Database:
    """An engine and the sessions made from it."""

    def __init__(
        self,
        url: str | None = None,
        *,
        echo: bool = False,
        create: bool = True,
        connections: int = POOL_SIZE,
    ) -> None:
        """``create``: a SQLite file that does not exist yet is made (with its folders);
        without it, a missing file is refused with MissingDatabase, so a mistyped path never
        leaves a new database behind. ``connections``: how many this process uses at once on
        a shared database (a worker: one per call in flight, and a few more), kept open for
        the next transaction; past them, more are opened (up to ``POOL_OVERFLOW``) and closed
        again after each transaction."""
        self.connections = max(POOL_SIZE, connections)
        self.url = resolve_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.file = sqlite_file(self.url) if self.is_sqlite else None
        if self.file and not create and not os.path.lexists(self.file):
            raise MissingDatabase(
                f"there is no database at {self.file}: check the path, or create one there "
                "with 'baton db upgrade'"
            )
        try:
            self.engine = self._create_engine(echo)
        except (ArgumentError, ImportError, ValueError) as exc:
            shown = describe_url(url or self.url)
            raise DatabaseError(f"cannot use database URL {shown}: {_url_problem(exc)}") from None
        # Autoflush stays on, so a query always sees the transaction's own changes; the hot
        # lookups that cannot depend on them opt out (``no_autoflush``), and ids are chosen
        # before insert (engine.store.ids), so a transition writes its rows once, at commit.
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            self.engine.execution_options(baton_read_only=True), expire_on_commit=False
        )
        from engine.store.changes import Announcer, guard, register
        from engine.store.log import install

        install(self._sessions)
        self.announcer = Announcer(self.url, self.engine.dialect.name)
        register(self._sessions, self.announcer)  # write sessions: announced, and guarded
        guard(self._read_sessions)  # a read session commits too: it may not write them either

    def _create_engine(self, echo: bool) -> Engine:
        if self.is_sqlite:
            if self.file and not os.path.lexists(self.file):
                try:
                    Path(self.file).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise DatabaseError(
                        f"cannot create {self.file}: {exc.strerror or exc}"
                    ) from None
            engine = create_engine(
                self.url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_SECONDS}
            )
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        return create_engine(
            self.url,
            echo=echo,
            pool_pre_ping=True,
            pool_size=self.connections,
            max_overflow=POOL_OVERFLOW,
            connect_args={"connect_timeout": 10},
        )

    @property
    def display_url(self) -> str:
        return describe_url(self.url)

    @property
    def place(self) -> str:
        """How messages name this database: its file for SQLite, else its URL."""
        return self.file or self.display_url

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in a write transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; never blocks writers."""
        with self._read_sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.announcer.close()
        self.engine.dispose()

    # ------------------------------------------------------------ schema

    def schema_state(self) -> SchemaState:
        from alembic.runtime.migration import MigrationContext

        head = _script_directory().get_current_head()
        assert head is not None
        try:
            with self.engine.connect() as connection:
                current = MigrationContext.configure(connection).get_current_revision()
                tables = set(inspect(connection).get_table_names())
        except SQLAlchemyError as exc:
            # A damaged or foreign file fails here, at the first statement (DatabaseError);
            # so do a lock held by another program and a folder SQLite cannot write in.
            message = explain(exc, self.place)
            error = NotADatabase if message.endswith("or it is damaged") else DatabaseError
            raise error(message) from None
        return SchemaState(current, head, bool(tables - {"alembic_version"}))

    def _state_if_current(self) -> SchemaState | None:
        """The usual case, asked without loading Alembic (a fifth of a command's start-up):
        the database's recorded revision is the newest migration file's. Anything else (no
        version table, an older or unknown revision, any error) is None: ask Alembic."""
        head = head_revision()
        if head is None:
            return None
        try:
            with self.engine.connect() as connection:
                current = connection.exec_driver_sql(
                    "SELECT version_num FROM alembic_version"
                ).scalar()
        except SQLAlchemyError:
            return None
        return SchemaState(current, head, True) if current == head else None

    def schema_problem(self, state: SchemaState) -> str | None:
        """Why this Baton cannot use the database whatever is done to it, else None."""
        if state.current is None and state.has_tables:
            return (
                f"{self.place} is not a Baton database (it has other tables); "
                "choose an empty database or a Baton one"
            )
        known = {rev.revision for rev in _script_directory().walk_revisions()}
        if state.current is not None and state.current not in known:
            return (
                f"{self.place} was set up by a newer Baton (schema {state.current}); "
                "update Baton to use it"
            )
        return None

    def check_schema(self, *, upgrade_if_needed: bool) -> SchemaState:
        """Make sure this is a Baton database this version understands.

        An empty database is set up. An older one is upgraded when ``upgrade_if_needed``,
        else refused with a message saying how to upgrade.
        """
        state = self._state_if_current() or self.schema_state()
        if state.up_to_date:
            return state
        problem = self.schema_problem(state)
        if problem:
            raise DatabaseError(problem)
        if state.empty or upgrade_if_needed:
            self.upgrade()
            return self.schema_state()
        raise DatabaseError(
            f"{self.place} has an older schema ({state.current}); run 'baton db upgrade'"
        )

    def upgrade(self, revision: str = "head") -> None:
        from alembic import command

        try:
            command.upgrade(alembic_config(self), revision)
        except SQLAlchemyError as exc:
            raise DatabaseError(
                explain(exc, self.place, "upgrading {place} failed: {text}")
            ) from None

    def downgrade(self, revision: str) -> None:
        from alembic import command

        command.downgrade(alembic_config(self), revision)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def alembic_config(database: Database | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if database is not None:
        config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
        config.attributes["engine"] = database.engine
    return config


_REVISION_LINE = re.compile(r'^(down_revision|revision) = "([^"]*)"$', re.MULTILINE)


def head_revision() -> str | None:
    """The newest migration, read from the files' own ``revision = "…"`` and
    ``down_revision = "…"`` lines: the one revision no other revises. None when the files do
    not say it that plainly (a merge, a branch): Alembic is asked then."""
    revisions, revised = set(), set()
    for path in MIGRATIONS.joinpath("versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found:
            return None
        revisions.add(found["revision"])
        revised.add(found.get("down_revision"))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def _script_directory() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())
