"""``Baton``: the service API. The CLI and the desktop app both use only this.

    baton = Baton()                      # the default SQLite database
    baton = Baton("postgresql://…", actor="alice")
    baton.definitions.import_file("flow.yaml", activate=True)
    run = baton.runs.start("customer_onboarding", {"amount": 5000})

Every call runs in its own transaction and returns plain data; errors are ``BatonError``s.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from engine.errors import DatabaseDamaged, StoreUnavailable
from engine.loading import loaded
from engine.services.context import ServiceContext
from engine.store.database import Database, DatabaseError, NotADatabase

# Each service is imported and built when first used, so a command that lists work does not
# pay for loading the designer's checks, the console's queries or the triggers.
if TYPE_CHECKING:
    from engine.services.attention import AttentionService
    from engine.services.calendars import CalendarsService
    from engine.services.console import ConsoleService
    from engine.services.dashboards import DashboardsService
    from engine.services.definitions import DefinitionsService
    from engine.services.directory import DirectoryService
    from engine.services.events import EventsService
    from engine.services.outbox import OutboxService
    from engine.services.records import RecordsService
    from engine.services.runs import RunsService
    from engine.services.salesforce import SalesforceService
    from engine.services.settings import SettingsService
    from engine.services.work import WorkService
    from engine.services.worker import WorkerService


def _unavailable(exc: DatabaseError) -> StoreUnavailable:
    return (DatabaseDamaged if isinstance(exc, NotADatabase) else StoreUnavailable)(str(exc))


class Baton:
    def __init__(
        self,
        url: str | None = None,
        *,
        actor: str | None = None,
        database: Database | None = None,
        upgrade: bool | None = None,
    ) -> None:
        """Open ``url`` (default: $BATON_DATABASE_URL, else the SQLite file in the user's
        data directory). A new database is set up; an older SQLite one is upgraded (it has one
        user); an older shared one must be upgraded on purpose with ``baton db upgrade``."""
        try:
            db = database or Database(url)
        except DatabaseError as exc:
            raise _unavailable(exc) from None
        try:
            db.check_schema(upgrade_if_needed=db.is_sqlite if upgrade is None else upgrade)
        except DatabaseError as exc:
            if database is None:
                db.dispose()  # ours to close: nothing may hold the refused database open
            raise _unavailable(exc) from None
        self._wire(db, actor)
        loaded()  # a process that opens its database has imported what it needs

    def _wire(self, db: Database, actor: str | None) -> None:
        self.db = db
        self.actor = actor
        self._context = ServiceContext(self.db, actor)

    @cached_property
    def definitions(self) -> DefinitionsService:
        from engine.services.definitions import DefinitionsService

        return DefinitionsService(self._context)

    @cached_property
    def records(self) -> RecordsService:
        from engine.runtime.triggers import on_record_saved
        from engine.services.records import RecordsService

        return RecordsService(self._context, on_saved=on_record_saved)

    @cached_property
    def runs(self) -> RunsService:
        from engine.services.runs import RunsService

        return RunsService(self._context)

    @cached_property
    def work(self) -> WorkService:
        from engine.services.work import WorkService

        return WorkService(self._context)

    @cached_property
    def events(self) -> EventsService:
        from engine.services.events import EventsService

        return EventsService(self._context)

    @cached_property
    def directory(self) -> DirectoryService:
        from engine.services.directory import DirectoryService

        return DirectoryService(self._context)

    @cached_property
    def worker(self) -> WorkerService:
        from engine.services.worker import WorkerService

        return WorkerService(self._context)

    @cached_property
    def calendars(self) -> CalendarsService:
        from engine.services.calendars import CalendarsService

        return CalendarsService(self._context)

    @cached_property
    def settings(self) -> SettingsService:
        from engine.services.settings import SettingsService

        return SettingsService(self._context)

    @cached_property
    def mail(self) -> OutboxService:
        from engine.services.outbox import OutboxService

        return OutboxService(self._context)

    @cached_property
    def console(self) -> ConsoleService:
        from engine.services.console import ConsoleService

        return ConsoleService(self._context)

    @cached_property
    def attention(self) -> AttentionService:
        from engine.services.attention import AttentionService

        return AttentionService(self._context)

    @cached_property
    def dashboards(self) -> DashboardsService:
        from engine.services.dashboards import DashboardsService

        return DashboardsService(self._context)

    @cached_property
    def salesforce(self) -> SalesforceService:
        from engine.services.salesforce import SalesforceService

        return SalesforceService(self.definitions, self.records)

    def has_orchestrations(self) -> bool:
        """Whether any orchestration is stored (a new database, its demo not yet loaded, has
        none). One indexed read, without loading the definition models or counting runs,
        so the app's start can ask it."""
        from sqlalchemy import select

        from engine.services.permissions import ANYONE
        from engine.store.models import OrchestrationRow

        with self._context.read() as session:
            self._context.require(session, ANYONE, "list orchestrations")
            return session.scalar(select(OrchestrationRow.id).limit(1)) is not None

    def as_user(self, actor: str | None) -> Baton:
        """The same database (already checked), acting as ``actor``."""
        other = Baton.__new__(Baton)
        other._wire(self.db, actor)
        return other

    def subscribe(self, callback: Callable[[frozenset[str]], None]) -> Callable[[], None]:
        """Hear about changes: ``callback(kinds)`` runs on the 'baton-changes' thread after
        each committed change ("runs", "work", "background", "outbox", "records") — from every
        process on PostgreSQL, from this process on SQLite. Returns an unsubscribe function."""
        return self.db.announcer.subscribe(callback)

    def close(self) -> None:
        self.db.dispose()
