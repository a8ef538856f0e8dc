"""The one family of errors the service API raises. Each message says what and where."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class BatonError(Exception):
    """Base of every error a caller of the service API should show to a person."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        details: Sequence[str] = (),
        *,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message
        # Problems that belong to one field each, by its name: shown at the field itself.
        self.fields = dict(fields or {})
        self.details = list(details) or [f"{name}: {text}" for name, text in self.fields.items()]
        super().__init__(message)

    def describe(self) -> str:
        return "\n".join([self.message, *(f"  {d}" for d in self.details)])


class NotFound(BatonError):
    """The thing asked for does not exist."""


class InvalidInput(BatonError):
    """The caller's input is wrong; ``details`` lists each problem with its place."""


class Conflict(BatonError):
    """The state changed under the caller (a stale update, a race lost) or forbids this."""


class PermissionDenied(BatonError):
    """The caller's role does not allow this."""


class StoreUnavailable(BatonError):
    """The database cannot be used right now."""

    exit_code = 2


class DatabaseDamaged(StoreUnavailable):
    """The file given as the database is not one, or is damaged: offer to choose another."""
