"""The helper functions expressions may call. Each takes and returns plain data only.

Documented in docs/expressions.md; keep the two in step.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from typing import Any

from engine import clock
from engine.expressions import limits

Helper = Callable[..., Any]

MAX_BUSINESS_DAYS = 100_000


class HelperError(ValueError):
    """A helper was given something it cannot work with."""


def _as_datetime(value: Any, helper: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise HelperError(f"{helper}(): '{value}' is not a date or time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    raise HelperError(f"{helper}(): expected a date or time, got {_kind(value)}")


def _as_date(value: Any, helper: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            raise HelperError(f"{helper}(): '{value}' is not a date") from None
    raise HelperError(f"{helper}(): expected a date, got {_kind(value)}")


def _as_number(value: Any, helper: str) -> float | int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            raise HelperError(f"{helper}(): '{value}' is not a number") from None
    raise HelperError(f"{helper}(): expected a number, got {_kind(value)}")


def _as_text(value: Any, helper: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise HelperError(f"{helper}(): expected text, got {_kind(value)}")


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        tuple: "a list",
        dict: "a record/object",
    }.get(type(value), type(value).__name__)


def now() -> dt.datetime:
    return clock.now()


def today() -> dt.date:
    return clock.now().date()


def date(value: Any) -> dt.date:
    return _as_date(value, "date")


def datetime(value: Any) -> dt.datetime:
    return _as_datetime(value, "datetime")


def add_days(value: Any, days: Any) -> dt.datetime | dt.date:
    n = _as_number(days, "add_days")
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value + dt.timedelta(days=n)
    return _as_datetime(value, "add_days") + dt.timedelta(days=n)


def add_hours(value: Any, hours: Any) -> dt.datetime:
    return _as_datetime(value, "add_hours") + dt.timedelta(hours=_as_number(hours, "add_hours"))


def add_minutes(value: Any, minutes: Any) -> dt.datetime:
    delta = dt.timedelta(minutes=_as_number(minutes, "add_minutes"))
    return _as_datetime(value, "add_minutes") + delta


def add_business_days(value: Any, days: Any) -> dt.date | dt.datetime:
    """Adds working days (Monday to Friday); the calendar-aware form is business time's."""
    n = int(_as_number(days, "add_business_days"))
    if abs(n) > MAX_BUSINESS_DAYS:
        raise HelperError("add_business_days(): too many days")
    result: dt.date | dt.datetime = (
        value
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        else _as_datetime(value, "add_business_days")
    )
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    # Any 7 days in a row hold exactly 5 working days, so whole weeks are jumped at once;
    # at least one working day is left to walk, to land where walking day by day would.
    weeks = max(remaining - 1, 0) // 5
    result = result + dt.timedelta(days=7 * weeks * step)
    remaining -= 5 * weeks
    while remaining:
        result = result + dt.timedelta(days=step)
        if result.weekday() < 5:
            remaining -= 1
    return result


def days_between(start: Any, end: Any) -> int:
    return (_as_date(end, "days_between") - _as_date(start, "days_between")).days


def hours_between(start: Any, end: Any) -> float:
    delta = _as_datetime(end, "hours_between") - _as_datetime(start, "hours_between")
    return delta.total_seconds() / 3600


def weekday(value: Any) -> int:
    """1 = Monday … 7 = Sunday."""
    return _as_date(value, "weekday").isoweekday()


def lower(value: Any) -> str:
    return _as_text(value, "lower").lower()


def upper(value: Any) -> str:
    return _as_text(value, "upper").upper()


def trim(value: Any) -> str:
    return _as_text(value, "trim").strip()


def contains(container: Any, item: Any) -> bool:
    if container is None:
        return False
    if isinstance(container, str):
        return _as_text(item, "contains") in container
    if isinstance(container, list | tuple | dict):
        return item in container
    raise HelperError(f"contains(): expected text or a list, got {_kind(container)}")


def starts_with(value: Any, prefix: Any) -> bool:
    return _as_text(value, "starts_with").startswith(_as_text(prefix, "starts_with"))


def ends_with(value: Any, suffix: Any) -> bool:
    return _as_text(value, "ends_with").endswith(_as_text(suffix, "ends_with"))


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        try:
            return str(value)
        except ValueError:
            # Python refuses to write out a whole number of more than 4,300 digits.
            raise HelperError("text(): the number is too large to write out") from None
    raise HelperError(f"text(): cannot turn {_kind(value)} into text")


def number(value: Any) -> float | int:
    return _as_number(value, "number")


def length(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str | list | tuple | dict):
        return len(value)
    raise HelperError(f"len(): expected text or a list, got {_kind(value)}")


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple | dict) and len(value) == 0)


def coalesce(*values: Any) -> Any:
    for value in values:
        if not is_blank(value):
            return value
    return None


def _items(values: tuple[Any, ...], helper: str) -> Iterable[Any]:
    if len(values) == 1 and isinstance(values[0], list | tuple):
        return list(values[0])
    if not values:
        raise HelperError(f"{helper}(): needs at least one value")
    return values


def any_of(*values: Any) -> bool:
    return any(bool(v) for v in _items(values, "any"))


def all_of(*values: Any) -> bool:
    return all(bool(v) for v in _items(values, "all"))


def minimum(*values: Any) -> Any:
    items = [v for v in _items(values, "min") if v is not None]
    if not items:
        return None
    try:
        return min(items)
    except TypeError:
        raise HelperError("min(): values cannot be compared with each other") from None


def maximum(*values: Any) -> Any:
    items = [v for v in _items(values, "max") if v is not None]
    if not items:
        return None
    try:
        return max(items)
    except TypeError:
        raise HelperError("max(): values cannot be compared with each other") from None


def total(*values: Any) -> float | int:
    items = _items(values, "sum")
    if set(map(type, items)) <= {int, float}:
        result: float | int = sum(items)  # the common case, without a Python step per item
        return result
    return sum(_as_number(v, "sum") for v in items if v is not None)


def round_to(value: Any, digits: Any = 0) -> float | int:
    n = _as_number(value, "round")
    d = int(_as_number(digits, "round"))
    if not -20 <= d <= 20:
        raise HelperError("round(): digits must be between -20 and 20")
    result = round(n, d)
    return int(result) if d <= 0 and math.isfinite(result) else result


def absolute(value: Any) -> float | int:
    return abs(_as_number(value, "abs"))


_CONSTANT_WORK = frozenset(
    {"len", "is_blank", "coalesce", "text", "date", "weekday", "days_between", "add_business_days"}
)
"""Helpers whose work does not grow with their arguments (``date`` reads 10 characters)."""


def work(name: str, args: tuple[Any, ...] | list[Any]) -> int:
    """Steps helper ``name`` may take on ``args``: the characters and items it looks through.

    The evaluator charges this to the evaluation's budget before calling the helper, so that
    ``sum()`` of a huge list, repeated, cannot run for long.
    """
    if name in _CONSTANT_WORK:
        return 0
    return sum(limits.length(arg) for arg in args)


HELPERS: dict[str, Helper] = {
    "now": now,
    "today": today,
    "date": date,
    "datetime": datetime,
    "add_days": add_days,
    "add_hours": add_hours,
    "add_minutes": add_minutes,
    "add_business_days": add_business_days,
    "days_between": days_between,
    "hours_between": hours_between,
    "weekday": weekday,
    "lower": lower,
    "upper": upper,
    "trim": trim,
    "contains": contains,
    "starts_with": starts_with,
    "ends_with": ends_with,
    "text": text,
    "number": number,
    "len": length,
    "is_blank": is_blank,
    "coalesce": coalesce,
    "any": any_of,
    "all": all_of,
    "min": minimum,
    "max": maximum,
    "sum": total,
    "round": round_to,
    "abs": absolute,
}
