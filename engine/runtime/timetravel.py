"""Time travel over a scratch database: move its clock forward, stopping at every moment
something falls due on the way (an escalation rung, a wait, a retry), so each fires at its
own time and in its own order, exactly as if the time had passed.

Only for databases that own their time (Try it, ``baton test``): the clock moved is a
``engine.clock.Clock`` in use for that database, never the process's time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from engine.clock import Clock
from engine.runtime.passes import due_background
from engine.store.database import Database
from engine.store.models import StepRunRow, TimerRow

# Due moments visited in one journey at most: a loop that keeps making new work due a moment
# later (a step retrying every second for a year) ends the journey, it does not hang it.
MAX_STOPS = 2000


@dataclass(frozen=True)
class Journey:
    arrived: dt.datetime
    stops: int
    cut_short: bool = False  # MAX_STOPS reached before the target


def next_due(db: Database, after: dt.datetime) -> dt.datetime | None:
    """The first moment after ``after`` at which a timer fires or a background step of a run
    in progress falls due (a wait ending, a retry, a lease running out)."""
    with db.read() as session:
        timer = session.scalar(
            select(func.min(TimerRow.fire_at)).where(
                TimerRow.status == "pending", TimerRow.fire_at > after
            )
        )
        step = session.scalar(
            select(func.min(StepRunRow.available_at)).where(
                *due_background(), StepRunRow.available_at > after
            )
        )
    moments = [m for m in (timer, step) if m is not None]
    return min(moments) if moments else None


def travel(
    db: Database, clock: Clock, target: dt.datetime, do_due: Callable[[], object]
) -> Journey:
    """Move ``clock`` to ``target``, calling ``do_due`` (run what is due now) at each due
    moment on the way and on arrival."""
    do_due()
    stops = 0
    while stops < MAX_STOPS:
        moment = next_due(db, clock.now())
        if moment is None or moment > target:
            break
        clock.advance(moment - clock.now())
        do_due()
        stops += 1
    else:
        return Journey(clock.now(), stops, cut_short=True)
    if target > clock.now():
        clock.advance(target - clock.now())
        do_due()
    return Journey(clock.now(), stops)


def to_next_due(db: Database, clock: Clock, do_due: Callable[[], object]) -> dt.datetime | None:
    """Jump to the next due moment and do what falls due there; None if nothing is waiting
    on time (the clock then stays where it is)."""
    with clock.held():
        moment = next_due(db, clock.now())
        if moment is None:
            return None
        clock.advance(moment - clock.now())
        do_due()
        return moment
