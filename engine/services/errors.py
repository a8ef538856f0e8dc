"""Moved to ``engine.errors`` (below every layer that raises them); kept for old imports."""

from engine.errors import (
    BatonError,
    Conflict,
    DatabaseDamaged,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StoreUnavailable,
)

__all__ = [
    "BatonError",
    "Conflict",
    "DatabaseDamaged",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "StoreUnavailable",
]
