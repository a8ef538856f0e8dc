"""The one source of "now" for the engine, so tests can move time forward without sleeping.

Time is process-wide by default (tests move it with ``advance``). A scratch database that
must keep a time of its own — a Try it trial, a scenario of ``baton test`` — runs its calls
inside ``using(Clock(...))``: the engine then reads that clock on that thread (and in that
context) only, so travelling in a trial's time never moves the real database's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_offset = dt.timedelta(0)


class Clock:
    """A time of its own: real time plus an offset, or frozen at a moment (then it moves only
    when advanced, so what a scenario expects to the minute happens to the minute)."""

    def __init__(self, frozen_at: dt.datetime | None = None) -> None:
        if frozen_at is not None and frozen_at.tzinfo is None:
            raise ValueError("a clock is frozen at an aware moment")
        self.frozen_at = frozen_at
        self.offset = dt.timedelta(0)

    def now(self) -> dt.datetime:
        base = self.frozen_at if self.frozen_at is not None else dt.datetime.now(dt.UTC)
        return base.astimezone(dt.UTC) + self.offset

    def advance(self, delta: dt.timedelta) -> None:
        if delta < dt.timedelta(0):
            raise ValueError("time only moves forward")
        self.offset += delta

    @contextmanager
    def held(self) -> Iterator[Clock]:
        """Stop a ticking clock while the block runs (time travel lands on exact moments),
        then let it tick on from where it stood."""
        if self.frozen_at is not None:
            yield self
            return
        self.frozen_at, self.offset = self.now(), dt.timedelta(0)
        try:
            yield self
        finally:
            self.offset = self.frozen_at + self.offset - dt.datetime.now(dt.UTC)
            self.frozen_at = None


_current: ContextVar[Clock | None] = ContextVar("baton_clock", default=None)


def now() -> dt.datetime:
    """The current time in UTC (plus any offset a test has set), or the time of the clock
    in use in this context."""
    own = _current.get()
    if own is not None:
        return own.now()
    return dt.datetime.now(dt.UTC) + _offset


@contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    """Read ``clock`` instead of the process's time while the block runs."""
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)


def advance(delta: dt.timedelta) -> None:
    """Move time forward (tests only)."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = dt.timedelta(0)
