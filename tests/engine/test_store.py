"""The store: migrations (one head, up from empty, down again) on SQLite and PostgreSQL,
SQLite settings, and the checks that refuse databases Baton cannot use."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from engine.errors import StoreUnavailable
from engine.services.baton import Baton
from engine.store.base import Base
from engine.store.database import Database, alembic_config, default_url, resolve_url


def test_exactly_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1


def test_upgrade_from_empty_then_downgrade(any_url: str) -> None:
    db = Database(any_url)
    try:
        assert db.schema_state().empty
        db.upgrade()
        state = db.schema_state()
        assert state.up_to_date
        tables = set(inspect(db.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        db.downgrade("base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.upgrade()
        assert db.schema_state().up_to_date
    finally:
        db.dispose()


def test_migrated_schema_matches_the_models(any_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    db = Database(any_url)
    try:
        db.upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
        assert differences == []
    finally:
        db.dispose()


def test_sqlite_is_wal_with_foreign_keys(db_path: Path) -> None:
    db = Database(str(db_path))
    db.upgrade()
    with db.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.dispose()


def test_default_database_is_in_the_user_data_dir(tmp_path: Path) -> None:
    url = default_url()
    assert url.startswith("sqlite:///")
    assert str(tmp_path / "xdg-data") in url  # conftest points XDG_DATA_HOME here
    assert url.endswith("baton.sqlite3")


def test_url_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert resolve_url(str(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"
    assert resolve_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    monkeypatch.setenv("BATON_DATABASE_URL", "sqlite:///from-env.db")
    assert resolve_url(None) == "sqlite:///from-env.db"
    assert resolve_url("sqlite:///explicit.db") == "sqlite:///explicit.db"


def test_new_database_is_set_up_on_open(db_path: Path) -> None:
    baton = Baton(str(db_path))
    assert baton.db.schema_state().up_to_date
    baton.close()


def test_foreign_database_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    with pytest.raises(StoreUnavailable, match="is not a Baton database"):
        Baton(str(path))


def test_newer_database_refused(db_path: Path) -> None:
    Baton(str(db_path)).close()
    engine = create_engine(f"sqlite:///{db_path}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    with pytest.raises(StoreUnavailable, match="set up by a newer Baton"):
        Baton(str(db_path))


def test_unreachable_postgres_is_a_clear_error() -> None:
    with pytest.raises(StoreUnavailable, match="cannot reach the database"):
        Baton("postgresql://nobody@127.0.0.1:1/none")


def test_every_runtime_record_matches_its_table() -> None:
    from engine.store.rows import INSERT_ORDER, fields_of

    for cls in INSERT_ORDER:
        assert set(fields_of(cls)) == {c.name for c in cls.table().c}, cls.__name__


def test_older_sqlite_database_is_upgraded_on_open(db_path: Path) -> None:
    db = Database(str(db_path))
    db.upgrade("0001")
    db.dispose()
    baton = Baton(str(db_path))
    assert baton.db.schema_state().up_to_date
    baton.close()


def test_older_shared_database_needs_an_explicit_upgrade(postgres_url: str) -> None:
    db = Database(postgres_url)
    db.upgrade("0001")
    db.dispose()
    with pytest.raises(StoreUnavailable, match="older schema \\(0001\\); run 'baton db upgrade'"):
        Baton(postgres_url)
    Baton(postgres_url, upgrade=True).close()
    again = Database(postgres_url)
    assert again.schema_state().up_to_date
    again.dispose()
