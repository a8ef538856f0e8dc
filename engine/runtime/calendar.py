"""Due dates. Business time counts only working hours (Monday–Friday, 09:00–17:00 UTC by
default); calendars with their own hours, holidays and time zones build on this."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from engine.definitions.durations import parse_duration

WORK_START = dt.time(9)
WORK_END = dt.time(17)
HOURS_PER_DAY = 8


def _is_workday(day: dt.date) -> bool:
    return day.weekday() < 5


def _next_work_moment(moment: dt.datetime) -> dt.datetime:
    """The moment itself if it is in working hours, else the start of the next ones."""
    while True:
        day = moment.date()
        if _is_workday(day):
            start = moment.replace(hour=WORK_START.hour, minute=0, second=0, microsecond=0)
            end = moment.replace(hour=WORK_END.hour, minute=0, second=0, microsecond=0)
            if moment < start:
                return start
            if moment < end:
                return moment
        moment = (moment + dt.timedelta(days=1)).replace(
            hour=WORK_START.hour, minute=0, second=0, microsecond=0
        )


def add_business_hours(start: dt.datetime, hours: float) -> dt.datetime:
    remaining = dt.timedelta(hours=hours)
    moment = _next_work_moment(start)
    while remaining > dt.timedelta(0):
        end = moment.replace(hour=WORK_END.hour, minute=0, second=0, microsecond=0)
        available = end - moment
        if remaining <= available:
            return moment + remaining
        remaining -= available
        moment = _next_work_moment(end)
    return moment


def due_date(
    session: Session, start: dt.datetime, duration: str, calendar: str | None
) -> dt.datetime:
    value = parse_duration(duration)
    if not value.business:
        return start + value.as_timedelta()
    hours = value.amount * (HOURS_PER_DAY if value.unit == "days" else 1)
    return add_business_hours(start, hours)
