"""Is a pooled PostgreSQL connection still alive? Asked before each use, cheaply.

SQLAlchemy's ``pool_pre_ping`` answers by sending a statement before every transaction: a
round trip to the server each time, three for every background step a worker runs, so a
sixth of the statements the server sees. Here a connection is pinged only when it may be
dead:

- the server said something while the connection sat idle: a server that stops or restarts
  sends its last message to every connection and closes them, so the socket turns readable
  (an idle, healthy connection has nothing to read);
- or it sat idle longer than ``TRUSTED_IDLE_SECONDS``: a connection dropped without a word
  (a firewall forgetting it, a cable pulled) looks healthy until it is used.

A busy worker or app reuses its connections within milliseconds and never pings. A ping
that finds the connection dead throws away every connection of the pool opened before it,
as ``pool_pre_ping`` does, and the pool opens a fresh one: the caller never sees it.
"""

from __future__ import annotations

import select
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InvalidatePoolError

TRUSTED_IDLE_SECONDS = 5.0
_IDLE_SINCE = "baton_idle_since"


def _has_news(dbapi_connection: Any) -> bool:
    """Has the server sent anything to this idle connection (or is its socket gone)?"""
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except Exception:  # closed, broken: no socket to look at
        return True
    return bool(readable)


def install(engine: Engine) -> None:
    """Check each connection ``engine``'s pool hands out, pinging only doubtful ones."""
    dialect = engine.dialect

    def idle_from_now(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle = time.monotonic() - record.info.get(_IDLE_SINCE, 0.0)
        if idle < TRUSTED_IDLE_SECONDS and not _has_news(dbapi_connection):
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise InvalidatePoolError(f"the connection was lost: {exc}") from None
            raise

    event.listen(engine, "connect", idle_from_now)
    event.listen(engine, "checkin", idle_from_now)
    event.listen(engine, "checkout", check)
