"""The service API: the only way into Baton for the CLI and the desktop app."""

from engine.errors import (
    BatonError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StoreUnavailable,
)

__all__ = [
    "BatonError",
    "Conflict",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "StoreUnavailable",
]
