"""Time arithmetic in SQL that reads the same on SQLite (text timestamps) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, func, literal_column
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def seconds_between(name: str, start: Any, end: Any) -> ColumnElement[float]:
    """``end - start`` in seconds."""
    if name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * literal_column("86400.0")
    return func.extract("epoch", end - start).cast(Float)


def day_of(name: str, column: Any) -> ColumnElement[str]:
    """The UTC calendar day of a timestamp, as 'YYYY-MM-DD' text."""
    if name == "sqlite":
        return func.substr(column, 1, 10)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
