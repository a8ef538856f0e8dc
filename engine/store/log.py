"""Writing the run log. Always called inside the transaction of the change it records.

Entries are gathered on the session and written together, in one statement, just before the
transaction commits; a rollback drops them with everything else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import Session, sessionmaker

from engine.store import changes
from engine.store.base import Base, utcnow
from engine.store.models import LogRow
from engine.store.prepared import Prepared

BUFFER_KEY = "baton_log"
LOG_TABLE = Base.metadata.tables[LogRow.__tablename__]
_COLUMNS = ("run_id", "at", "actor", "event", "stage", "step", "work_item_id", "message", "details")
_INSERT_LOG = Prepared(insert(LOG_TABLE), column_keys=_COLUMNS)


def write_log(
    session: Session,
    run_id: int,
    event_name: str,
    *,
    actor: str | None = None,
    stage: str | None = None,
    step: str | None = None,
    work_item_id: int | None = None,
    message: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    session.info.setdefault(BUFFER_KEY, []).append(
        {
            "run_id": run_id,
            "at": utcnow(),
            "actor": actor,
            "event": event_name,
            "stage": stage,
            "step": step,
            "work_item_id": work_item_id,
            "message": message,
            "details": details,
        }
    )


def log_mark(session: Session) -> int:
    """A point to roll the pending entries back to (for savepoints)."""
    return len(session.info.get(BUFFER_KEY, []))


def log_rollback_to(session: Session, mark: int) -> None:
    del session.info.get(BUFFER_KEY, [])[mark:]


def flush_log(session: Session) -> None:
    """Write the pending entries now (also done automatically before commit)."""
    rows = session.info.pop(BUFFER_KEY, None)
    if rows:
        from engine.store.rows import TX_KEY

        tx = session.info.get(TX_KEY)
        if tx is None:
            session.flush()
            connection = session.connection()
        else:
            connection = tx.connection  # flush_tx has written the runs these rows point at
        _INSERT_LOG.run_many(connection, rows)


def _before_commit(session: Session) -> None:
    from engine.store.rows import flush_tx

    flush_tx(session)
    flush_log(session)
    changes.before_commit(session)


def _drop(session: Session, *_: Any) -> None:
    # A savepoint's rollback fires this too: only the end of the whole transaction drops the
    # pending rows (savepoints undo their own part with log_rollback_to and Tx.restore).
    if session.in_transaction():
        return
    session.info.pop(BUFFER_KEY, None)
    session.info.pop("baton_tx", None)


def install(factory: sessionmaker[Session]) -> None:
    """Runtime rows, then log entries, are written just before each commit."""
    event.listen(factory, "before_commit", _before_commit)
    event.listen(factory, "after_rollback", _drop)
