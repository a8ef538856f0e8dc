"""Change notices as the desktop app sees them (re-exported from ``engine.store.changes``).

A notice (``Change``) is the frozenset of kinds one committed transaction changed, with the ids
of the rows it wrote and its origin; ``acting_for(token)`` around a service call makes the
notices of what it commits carry ``token``, so the window that made the call can tell their
echo from someone else's change.
"""

from __future__ import annotations

from engine.store.changes import Change, acting_for

__all__ = ["Change", "acting_for"]
