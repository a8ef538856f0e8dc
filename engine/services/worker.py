"""The worker as a service: one pass over everything due, or a loop."""

from __future__ import annotations

import datetime as dt

from engine.errors import InvalidInput
from engine.runtime.escalation import fire_due_timers
from engine.runtime.leases import LEASE
from engine.runtime.mail import send_pending
from engine.runtime.passes import MAX_CONCURRENCY, run_due
from engine.runtime.stalled import advance_stalled
from engine.services.context import ServiceContext
from engine.services.dto import WorkerReport
from engine.services.permissions import ADMINS


class WorkerService:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    def run_once(self, *, lease_seconds: float | None = None, concurrency: int = 1) -> WorkerReport:
        """Do everything that is due now, then return what was done.

        ``concurrency``: how many external actions (HTTP, Python plugins) run at once, each
        under a lease of its own; inline work is batched whatever it is."""
        if lease_seconds is not None and not 1 <= lease_seconds <= 3600:  # NaN too
            raise InvalidInput(f"a lease of {lease_seconds:g} s is out of range: use 1 to 3600")
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise InvalidInput(
                f"a concurrency of {concurrency} is out of range: use 1 to {MAX_CONCURRENCY}"
            )
        with self.context.read() as session:
            self.context.require(session, ADMINS, "run the worker")
        db = self.context.db
        steps = run_due(
            db,
            lease=dt.timedelta(seconds=lease_seconds) if lease_seconds else LEASE,
            concurrency=concurrency,
        )
        timers = fire_due_timers(db)
        stalled = advance_stalled(db)
        mail = send_pending(db)
        return WorkerReport(
            steps_run=steps.steps_run,
            timers_fired=timers.fired,
            messages_sent=mail.sent,
            errors=[*steps.errors, *timers.errors, *stalled.errors, *mail.errors],
            stalled_moved=stalled.moved,
        )
