"""Business time: due dates and escalation times counted in working hours only.

A calendar has working intervals per weekday in its own time zone (e.g. 09:00–12:30 and
13:30–17:00), holidays (whole local days), and the length of a business day (for durations
in business days). Time is walked over real instants: each working interval is placed on the
calendar's local clock and turned into UTC, so a daylight-saving change inside or between
intervals counts exactly the hours people actually work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions.durations import parse_duration
from engine.store.models import CalendarRow

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3660  # ten years: further than any due date; more means the calendar never works


class CalendarError(ValueError):
    """A calendar that cannot be used (bad hours, unknown time zone, no working time)."""


Interval = tuple[dt.time, dt.time]


@dataclass(frozen=True)
class BusinessCalendar:
    name: str
    zone: ZoneInfo
    hours: dict[int, tuple[Interval, ...]]  # weekday (0 = Monday) → working intervals
    holidays: frozenset[dt.date]
    hours_per_day: float = 8.0

    def __post_init__(self) -> None:
        if not any(self.hours.get(d) for d in range(7)):
            raise CalendarError(f"calendar '{self.name}' has no working hours on any day")

    def _intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The day's working intervals as UTC instants (none on holidays)."""
        if day in self.holidays:
            return []
        out = []
        for start, end in self.hours.get(day.weekday(), ()):
            a = dt.datetime.combine(day, start, self.zone).astimezone(dt.UTC)
            b = (
                dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), self.zone)
                if end == dt.time(0)
                else dt.datetime.combine(day, end, self.zone)
            ).astimezone(dt.UTC)
            if b > a:
                out.append((a, b))
        return out

    def add(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The instant ``hours`` of working time after (or, if negative, before) ``start``."""
        if hours < 0:
            return self._back(start, -hours)
        remaining = dt.timedelta(hours=hours)
        day = start.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            for a, b in self._intervals(day):
                if b <= start:
                    continue
                begin = max(a, start)
                if remaining <= b - begin:
                    return begin + remaining
                remaining -= b - begin
            day += dt.timedelta(days=1)
        raise CalendarError(
            f"calendar '{self.name}' has no working time in the ten years after {start:%Y-%m-%d}"
        )

    def _back(self, end: dt.datetime, hours: float) -> dt.datetime:
        remaining = dt.timedelta(hours=hours)
        day = end.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            for a, b in reversed(self._intervals(day)):
                if a >= end:
                    continue
                finish = min(b, end)
                if remaining <= finish - a:
                    return finish - remaining
                remaining -= finish - a
            day -= dt.timedelta(days=1)
        raise CalendarError(f"calendar '{self.name}' has no working time before {end:%Y-%m-%d}")

    def shift(self, start: dt.datetime, duration: str) -> dt.datetime:
        """``start`` moved by a duration such as '2 business days' or '-4 hours'."""
        value = parse_duration(duration)
        if not value.business:
            return start + value.as_timedelta()
        hours = value.amount * (self.hours_per_day if value.unit == "days" else 1)
        return self.add(start, hours)


def _time(text: str, where: str) -> dt.time:
    if text in ("24:00", "24:00:00"):
        return dt.time(0)
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise CalendarError(f"{where}: '{text}' is not a time of day (write HH:MM)") from None


def build_calendar(
    name: str,
    timezone: str,
    hours: dict[str, Any],
    holidays: list[str] | tuple[str, ...] = (),
    hours_per_day: float = 8.0,
) -> BusinessCalendar:
    """A calendar from plain data, checking everything; ``hours`` maps 'mon' … 'sun' to
    lists of ['09:00', '17:00'] intervals."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(f"calendar '{name}': '{timezone}' is not a known time zone") from None
    by_day: dict[int, tuple[Interval, ...]] = {}
    for key, intervals in hours.items():
        if key not in WEEKDAYS:
            raise CalendarError(f"calendar '{name}': '{key}' is not a weekday (mon … sun)")
        parsed: list[Interval] = []
        for pair in intervals or []:
            where = f"calendar '{name}', {key}"
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise CalendarError(f"{where}: write each interval as [start, end]")
            start, end = _time(str(pair[0]), where), _time(str(pair[1]), where)
            if end != dt.time(0) and end <= start:
                raise CalendarError(f"{where}: {pair[0]}–{pair[1]} ends before it starts")
            parsed.append((start, end))
        by_day[WEEKDAYS.index(key)] = tuple(sorted(parsed))
    try:
        days = frozenset(dt.date.fromisoformat(str(d)) for d in holidays)
    except ValueError as exc:
        raise CalendarError(f"calendar '{name}': a holiday is not a date: {exc}") from None
    if not 0 < hours_per_day <= 24:
        raise CalendarError(f"calendar '{name}': a business day must be 0–24 hours long")
    return BusinessCalendar(name, zone, by_day, days, hours_per_day)


NINE_TO_FIVE = {day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]}
BUILT_IN = build_calendar("standard", "UTC", NINE_TO_FIVE)


def load_calendar(session: Session, name: str | None) -> BusinessCalendar:
    """The named calendar, else the default one, else Monday–Friday 09:00–17:00 UTC."""
    query = select(CalendarRow)
    query = query.where(CalendarRow.name == name) if name else query.where(CalendarRow.is_default)
    with session.no_autoflush:
        row = session.scalar(query.limit(1))
    if row is None:
        if name:
            raise CalendarError(f"there is no business calendar named '{name}'")
        return BUILT_IN
    return build_calendar(row.name, row.timezone, row.hours, row.holidays, row.hours_per_day)


def due_date(
    session: Session, start: dt.datetime, duration: str, calendar: str | None
) -> dt.datetime:
    return load_calendar(session, calendar).shift(start, duration)
