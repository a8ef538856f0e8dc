"""Business calendars: define them, list them, and work out due dates with them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from engine.errors import InvalidInput
from engine.runtime.calendar import CalendarError, build_calendar, load_calendar
from engine.services.context import ServiceContext
from engine.services.datafiles import read_yaml_file
from engine.services.dto import Data
from engine.services.limits import check_text
from engine.services.permissions import ADMINS, ANYONE
from engine.store.base import utcnow
from engine.store.models import CalendarRow


@dataclass(frozen=True)
class CalendarInfo(Data):
    name: str
    timezone: str
    hours: dict[str, Any]
    holidays: list[str]
    hours_per_day: float
    is_default: bool


def _info(row: CalendarRow) -> CalendarInfo:
    return CalendarInfo(
        row.name,
        row.timezone,
        dict(row.hours),
        list(row.holidays),
        row.hours_per_day,
        row.is_default,
    )


def _check(
    name: str, timezone: str, hours: dict[str, Any], holidays: list[str], hours_per_day: float
) -> None:
    check_text(CalendarRow, {"name": name, "timezone": timezone}, "the calendar")
    try:
        build_calendar(name, timezone, hours, holidays, hours_per_day)
    except CalendarError as exc:
        raise InvalidInput(str(exc)) from None


class CalendarsService:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    def define(
        self,
        name: str,
        *,
        timezone: str,
        hours: dict[str, Any],
        holidays: list[str] | None = None,
        hours_per_day: float = 8.0,
        default: bool = False,
    ) -> CalendarInfo:
        """Create or replace a calendar (admins). Everything is checked before it is saved."""
        _check(name, timezone, hours, holidays or [], hours_per_day)
        with self.context.write() as session:
            self.context.require(session, ADMINS, "define business calendars")
            if default:
                session.execute(update(CalendarRow).values(is_default=False))
            row = session.scalar(select(CalendarRow).where(CalendarRow.name == name))
            if row is None:
                row = CalendarRow(name=name, created_at=utcnow())
                session.add(row)
            row.timezone = timezone
            row.hours = hours
            row.holidays = sorted(holidays or [])
            row.hours_per_day = hours_per_day
            row.is_default = default or bool(row.is_default)
            session.flush()
            return _info(row)

    def define_from_file(self, path: str) -> list[CalendarInfo]:
        """A YAML file with ``calendars:`` — each with name, timezone, hours, holidays …"""
        data = read_yaml_file(path)
        items = data.get("calendars") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise InvalidInput(f"{path}: expected a list under 'calendars:'")
        specs: list[dict[str, Any]] = []
        for i, item in enumerate(items):
            where = f"{path}: calendars[{i}]"
            if not isinstance(item, dict) or "name" not in item or "timezone" not in item:
                raise InvalidInput(f"{where} needs at least name and timezone")
            hours = item.get("hours") or {}
            if not isinstance(hours, dict) or not all(
                isinstance(v, list) or v is None for v in hours.values()
            ):
                raise InvalidInput(
                    f"{where}.hours: write the working hours per day, e.g. "
                    "mon: [['09:00', '17:00']]"
                )
            holidays = item.get("holidays") or []
            if not isinstance(holidays, list):
                raise InvalidInput(f"{where}.holidays: write a list of dates, e.g. ['2026-12-25']")
            per_day = item.get("hours_per_day", 8.0)
            if isinstance(per_day, bool) or not isinstance(per_day, int | float):
                raise InvalidInput(f"{where}.hours_per_day: '{per_day}' is not a number of hours")
            spec: dict[str, Any] = {
                "name": str(item["name"]),
                "timezone": str(item["timezone"]),
                "hours": {str(k): v for k, v in hours.items()},
                "holidays": [str(d) for d in holidays],
                "hours_per_day": float(per_day),
            }
            _check(**spec)  # every calendar of the file, before any is saved
            specs.append({**spec, "default": bool(item.get("default", False))})
        return [self.define(spec.pop("name"), **spec) for spec in specs]

    def list(self) -> list[CalendarInfo]:
        with self.context.read() as session:
            self.context.require(session, ANYONE, "list calendars")
            return [
                _info(r) for r in session.scalars(select(CalendarRow).order_by(CalendarRow.name))
            ]

    def due(self, start: dt.datetime, duration: str, calendar: str | None = None) -> dt.datetime:
        """When something started at ``start`` is due after ``duration`` (for previews)."""
        with self.context.read() as session:
            self.context.require(session, ANYONE, "work out due dates")
            try:
                return load_calendar(session, calendar).shift(start, duration)
            except (CalendarError, ValueError) as exc:
                raise InvalidInput(str(exc)) from None

    def preview(
        self,
        start: dt.datetime,
        duration: str,
        *,
        timezone: str,
        hours: dict[str, Any],
        holidays: tuple[str, ...] | None = None,
        hours_per_day: float = 8.0,
        name: str = "this calendar",
    ) -> dt.datetime:
        """When work assigned at ``start`` falls due after ``duration`` under a calendar as a
        form shows it, before it is saved: the same checks and words as ``define``."""
        days = [str(d) for d in holidays or ()]
        _check(name, timezone, hours, days, hours_per_day)
        with self.context.read() as session:
            self.context.require(session, ANYONE, "work out due dates")
        try:
            calendar = build_calendar(name, timezone, hours, days, hours_per_day)
            return calendar.shift(start, duration)
        except (CalendarError, ValueError) as exc:
            raise InvalidInput(str(exc)) from None
