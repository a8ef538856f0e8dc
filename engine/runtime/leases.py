"""Leases and attempts: how a worker holds the background step whose call it is making.

A step is taken under a lease with an attempt number, the fencing token: a worker whose lease
lapsed (it died or stalled) is overtaken by one that raises the number, and the old worker's
late result is discarded. The number never goes back; a new set of attempts (a supervisor's
retry) counts from a base. A lease lost is not the step's fault: it spends no retry attempt,
up to MAX_LOST_LEASES. ``LeaseKeeper`` is the one heartbeat that renews the leases of every
call a worker has in flight.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import socket
import threading

from sqlalchemy import exc as sa_exc
from sqlalchemy import select, tuple_, update

from engine.definitions.model import BackgroundStep
from engine.statuses import StepStatus
from engine.store.base import utcnow
from engine.store.database import Database
from engine.store.rows import StepRunRec, Tx

# A worker holds a step for LEASE at a time and renews it every LEASE / 3 while an external
# call runs; a worker that dies lets go within LEASE, and whoever takes over bumps the attempt
# (the fencing token) without spending a retry.
LEASE = dt.timedelta(seconds=30)
# A step whose lease is lost this many times (its worker died or stalled each time) fails:
# something about the step itself is likely killing the workers that run it.
MAX_LOST_LEASES = 3


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def database_trouble(exc: BaseException) -> bool:
    """True for errors that are the database's (unreachable, locked, connection lost), not
    the step's: the step is left as it was, to be tried again."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc,
        sa_exc.OperationalError
        | sa_exc.InterfaceError
        | sa_exc.DisconnectionError
        | sa_exc.TimeoutError,
    )


def failures_so_far(row: StepRunRec) -> int:
    """The attempts that count against the retry policy: the attempt number is also the
    fencing token, and it grows on each lost lease too, which is not the step's fault; it
    never goes back, so a new set of attempts (a supervisor's retry) counts from its base."""
    return row.attempt - row.attempt_base - row.lost_leases


def backoff(step: BackgroundStep, attempt: int) -> dt.timedelta:
    """How long before the next attempt, after ``attempt`` failures: doubling from the step's
    backoff up to its cap, spread by a fifth either way so retries do not come in step."""
    base = step.retry.backoff_seconds * (2 ** max(attempt - 1, 0))
    capped = min(base, step.retry.max_backoff_seconds)
    return dt.timedelta(seconds=capped * random.uniform(0.8, 1.2))


class LeaseKeeper:
    """The heartbeat of a worker's calls in flight: one thread renews all their leases every
    LEASE / 3, in one statement, for as long as each call runs.

    A lease is renewed only while the step still has the attempt that made the call and this
    worker as its holder, so a step taken over is never held again by the old worker. A step
    row that another transaction has locked at that moment (its result being written, or a
    supervisor's operation) is passed over until the next beat: the heartbeat never waits for
    a lock, so it can take no part in a deadlock.
    """

    def __init__(self, db: Database, owner: str, lease: dt.timedelta = LEASE) -> None:
        self.db = db
        self.owner = owner
        self.lease = lease
        self._held: dict[int, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, step_run_id: int, attempt: int) -> None:
        """Renew this step's lease, for this attempt, until ``release``."""
        with self._lock:
            self._held[step_run_id] = attempt
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._beat, name="baton-heartbeat", daemon=True
                )
                self._thread.start()

    def release(self, step_run_id: int) -> None:
        with self._lock:
            self._held.pop(step_run_id, None)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def renew(self) -> int:
        """Renew every lease held now; returns how many were renewed."""
        with self._lock:
            held = list(self._held.items())
        if not held:
            return 0
        table = StepRunRec.table()
        ids = [step_run_id for step_run_id, _ in held]
        free = (
            select(table.c.id)
            .where(
                table.c.id.in_(ids),
                table.c.lease_owner == self.owner,
                table.c.status == StepStatus.IN_PROGRESS,
            )
            .with_for_update(skip_locked=True)
        )
        expires = utcnow() + self.lease
        statement = (
            update(table)
            .where(table.c.id.in_(free), tuple_(table.c.id, table.c.attempt).in_(held))
            .values(lease_expires_at=expires, available_at=expires)
        )
        with self.db.write() as session:
            return int(Tx.of(session).connection.execute(statement).rowcount or 0)

    def _beat(self) -> None:
        while not self._stop.wait(self.lease.total_seconds() / 3):
            try:
                self.renew()
            except Exception:  # the database is away: a lease may lapse; fencing keeps it safe
                continue
