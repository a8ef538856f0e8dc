"""The worker as a service: one pass over everything due, or a loop."""

from __future__ import annotations

from engine.runtime.worker import run_due
from engine.services.context import ServiceContext
from engine.services.dto import WorkerReport
from engine.services.permissions import ADMINS


class WorkerService:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    def run_once(self) -> WorkerReport:
        """Do everything that is due now, then return what was done."""
        with self.context.read() as session:
            self.context.require(session, ADMINS, "run the worker")
        report = run_due(self.context.db)
        return WorkerReport(steps_run=report.steps_run, errors=report.errors)
