"""Typed values of form fields, record fields and run variables: checking and converting.

One set of rules serves forms, records and run inputs, so a number is a number everywhere.
Values are stored as JSON: dates and datetimes as ISO text.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TRUE_WORDS = {"true", "yes", "y", "1", "on", "checked"}
FALSE_WORDS = {"false", "no", "n", "0", "off", "unchecked", ""}
MAX_TEXT = 10_000
MAX_LONG_TEXT = 100_000
MAX_NUMBER = 10**18


class ValueProblem(ValueError):
    """A value does not suit its type; the message says why, for a person."""


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueProblem("expected a number, not true/false")
    if isinstance(value, int | float):
        number: Any = value
    elif isinstance(value, str):
        cleaned = value.strip().replace(",", "")
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            raise ValueProblem(f"'{value}' is not a number") from None
    else:
        raise ValueProblem(f"expected a number, got {type(value).__name__}")
    if isinstance(number, Decimal) and not number.is_finite():
        raise ValueProblem(f"'{value}' is not a number")
    if number != number:  # a float NaN
        raise ValueProblem("NaN is not a number")
    # Values are stored as JSON: 1e5000 would be infinity, or an integer Python cannot read back.
    if not -MAX_NUMBER < number < MAX_NUMBER:
        if isinstance(value, str):
            shown = (
                f"'{value}'" if len(value) <= 30 else f"'{value[:12]}…' ({len(value):,} characters)"
            )
        elif isinstance(value, float):
            shown = f"{value:g}"
        else:  # str() of a huge int fails: say its size
            shown = f"an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits"
        raise ValueProblem(f"{shown} is too large: a number must be between -10^18 and 10^18")
    if isinstance(number, int | float):
        return number
    return int(number) if number == number.to_integral_value() else float(number)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS:
        return True
    if isinstance(value, str) and value.strip().lower() in FALSE_WORDS:
        return False
    if value in (0, 1):
        return bool(value)
    raise ValueProblem(f"expected true or false, got {value!r}")


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise ValueProblem(f"'{value}' is not a date (write YYYY-MM-DD)") from None
    raise ValueProblem(f"expected a date, got {type(value).__name__}")


def _datetime(value: Any) -> str:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueProblem(
                f"'{value}' is not a date and time (write YYYY-MM-DDTHH:MM, with a zone)"
            ) from None
    else:
        raise ValueProblem(f"expected a date and time, got {type(value).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat()


def _text(value: Any, limit: int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueProblem(f"expected text, got {type(value).__name__}")
    text = str(value)
    if len(text) > limit:
        raise ValueProblem(f"is {len(text)} characters long; the limit is {limit}")
    return text


def convert(kind: str, value: Any, options: list[str] | None = None) -> Any:
    """``value`` converted to field type ``kind``; None stays None. Raises ValueProblem."""
    if value is None or (isinstance(value, str) and value.strip() == "" and kind != "text"):
        return None
    if kind in ("number", "currency"):
        return _number(value)
    if kind in ("checkbox", "boolean"):
        return _boolean(value)
    if kind == "date":
        return _date(value)
    if kind == "datetime":
        return _datetime(value)
    if kind == "email":
        text = _text(value, 320).strip()
        if not EMAIL.match(text):
            raise ValueProblem(f"'{text}' is not an e-mail address")
        return text
    if kind == "picklist":
        text = _text(value, MAX_TEXT)
        if options is not None and text not in options:
            raise ValueProblem(f"'{text}' is not one of {', '.join(options)}")
        return text
    if kind == "long_text":
        return _text(value, MAX_LONG_TEXT)
    if kind in ("list", "object"):
        wanted = list if kind == "list" else dict
        if not isinstance(value, wanted):
            raise ValueProblem(f"expected {'a list' if kind == 'list' else 'an object'}")
        return value
    return _text(value, MAX_TEXT)
