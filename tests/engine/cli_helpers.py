"""What the command-line tests share: running a command as a person would, and telling
whether a database changed."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from engine.cli.main import main
from engine.store.database import resolve_url


def dump(url: str) -> str:
    """A checksum of every row of every table: equal before and after means unchanged."""
    engine = create_engine(resolve_url(url), poolclass=NullPool)
    digest = hashlib.sha256()
    try:
        with engine.connect() as connection:
            for table in sorted(inspect(connection).get_table_names()):
                rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
                digest.update(table.encode())
                for row in sorted(repr(tuple(r)) for r in rows):
                    digest.update(row.encode())
    finally:
        engine.dispose()
    return digest.hexdigest()


def run(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> tuple[int, str]:
    code = main(["--db", db, *args])
    out, err = capsys.readouterr()
    return code, out + err
