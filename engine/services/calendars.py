"""Business calendars: define them, list them, and work out due dates with them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy import select, update

from engine.runtime.calendar import CalendarError, build_calendar, load_calendar
from engine.services.context import ServiceContext
from engine.services.dto import Data
from engine.services.errors import InvalidInput
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
        try:
            build_calendar(name, timezone, hours, holidays or [], hours_per_day)
        except CalendarError as exc:
            raise InvalidInput(str(exc)) from None
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
        try:
            with open(path, encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise InvalidInput(f"{path} is not valid YAML: {exc}") from None
        items = data.get("calendars") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise InvalidInput(f"{path}: expected a list under 'calendars:'")
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, dict) or "name" not in item or "timezone" not in item:
                raise InvalidInput(f"{path}: calendars[{i}] needs at least name and timezone")
            out.append(
                self.define(
                    str(item["name"]),
                    timezone=str(item["timezone"]),
                    hours=dict(item.get("hours") or {}),
                    holidays=[str(d) for d in item.get("holidays") or []],
                    hours_per_day=float(item.get("hours_per_day", 8.0)),
                    default=bool(item.get("default", False)),
                )
            )
        return out

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
