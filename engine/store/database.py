"""Connecting to the database: the SQLite default, PostgreSQL for teams, and the schema state.

Sessions are never shared across threads: ``Database.write()`` and ``Database.read()`` each
give a fresh session in its own transaction.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
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
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is off; we send BEGIN ourselves (see _begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
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

    def __init__(self, url: str | None = None, *, echo: bool = False) -> None:
        self.url = resolve_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        try:
            self.engine = self._create_engine(echo)
        except (ArgumentError, ImportError, ValueError) as exc:
            raise DatabaseError(
                f"cannot use database URL {describe_url(self.url)}: {exc}"
            ) from None
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
            path = make_url(self.url).database
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(self.url, echo=echo, connect_args={"timeout": 15})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        return create_engine(
            self.url,
            echo=echo,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=10,
            connect_args={"connect_timeout": 10},
        )

    @property
    def display_url(self) -> str:
        return describe_url(self.url)

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
        except OperationalError as exc:
            raise DatabaseError(
                f"cannot reach the database {self.display_url}: {_first_line(exc)}"
            ) from None
        return SchemaState(current, head, bool(tables - {"alembic_version"}))

    def check_schema(self, *, upgrade_if_needed: bool) -> SchemaState:
        """Make sure this is a Baton database this version understands.

        An empty database is set up. An older one is upgraded when ``upgrade_if_needed``,
        else refused with a message saying how to upgrade.
        """
        state = self.schema_state()
        if state.up_to_date:
            return state
        known = {rev.revision for rev in _script_directory().walk_revisions()}
        if state.current is None and state.has_tables:
            raise DatabaseError(
                f"{self.display_url} is not a Baton database (it has other tables); "
                "choose an empty database or a Baton one"
            )
        if state.current is not None and state.current not in known:
            raise DatabaseError(
                f"{self.display_url} was set up by a newer Baton (schema {state.current}); "
                "update Baton to use it"
            )
        if state.empty or upgrade_if_needed:
            self.upgrade()
            return self.schema_state()
        raise DatabaseError(
            f"{self.display_url} has an older schema ({state.current}); run 'baton db upgrade'"
        )

    def upgrade(self, revision: str = "head") -> None:
        from alembic import command

        try:
            command.upgrade(alembic_config(self), revision)
        except SQLAlchemyError as exc:
            raise DatabaseError(
                f"upgrading {self.display_url} failed: {_first_line(exc)}"
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


def _script_directory() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())
