"""What every service area shares: the database and who is acting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from engine.errors import StoreUnavailable
from engine.services.permissions import Caller, require
from engine.store.database import Database, explain


@dataclass(frozen=True)
class ServiceContext:
    db: Database
    actor: str | None

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: everything in it commits together or not at all."""
        with _translate_store_errors(self.db), self.db.write() as session:
            yield session

    def require(self, session: Session, allowed: frozenset[str], action: str) -> Caller:
        """The acting caller, if their role allows ``action`` (else PermissionDenied)."""
        return require(session, self.actor, allowed, action)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with _translate_store_errors(self.db), self.db.read() as session:
            yield session


@contextmanager
def _translate_store_errors(db: Database) -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        text = str(exc.orig) if exc.orig is not None else str(exc)
        if "locked" in text or "busy" in text:
            raise StoreUnavailable(
                f"the database {db.display_url} is locked by another program; nothing was "
                "changed, try again"
            ) from None
        if "disk" in text and "full" in text:
            raise StoreUnavailable(
                f"the disk holding {db.display_url} is full; nothing was changed"
            ) from None
        # Read-only files and disks, damaged files, folders SQLite cannot write in: said plainly.
        raise StoreUnavailable(
            explain(exc, db.place, "the database {place} failed: {text}")
        ) from None
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StoreUnavailable(
                f"lost the connection to {db.display_url}; nothing was changed, try again"
            ) from None
        raise
