"""Alembic environment: run by ``Database.upgrade`` (and by developers' ``alembic`` commands)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from engine.store import models  # noqa: F401  (registers the tables)
from engine.store.base import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as connection:
        is_sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection
        assert raw is not None
        if is_sqlite:
            # Batch migrations copy tables; foreign keys are checked again afterwards. The
            # pragma only works outside a transaction, so it goes straight to the driver.
            raw.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        if is_sqlite:
            problems = raw.execute("PRAGMA foreign_key_check").fetchall()
            raw.execute("PRAGMA foreign_keys=ON")
            if problems:
                raise RuntimeError(f"migration left broken foreign keys: {problems[:5]}")


if context.is_offline_mode():
    raise SystemExit("Baton's migrations run online only (baton db upgrade)")
run_migrations()
