"""Durations as people write them: "2 business days", "4 business hours", "30 minutes", "-1 day".

A definition keeps the canonical text (so files stay readable and round-trip); the runtime
turns it into a ``DurationValue`` and, for business units, hands it to a business calendar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, Field

_UNITS = {
    "m": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "h": "hours",
    "hr": "hours",
    "hrs": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
    "w": "weeks",
    "week": "weeks",
    "weeks": "weeks",
}
_PATTERN = re.compile(
    r"^\s*(?P<sign>[-+]?)\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<business>business\s+)?(?P<unit>[a-z]+)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DurationValue:
    amount: float
    unit: str  # minutes | hours | days | weeks
    business: bool

    def as_timedelta(self) -> timedelta:
        """Calendar time (business durations need a calendar instead)."""
        return timedelta(**{self.unit: self.amount})

    def canonical(self) -> str:
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        unit = self.unit if abs(self.amount) != 1 else self.unit[:-1]
        business = "business " if self.business else ""
        return f"{amount} {business}{unit}"


def parse_duration(text: str) -> DurationValue:
    match = _PATTERN.match(text or "")
    if not match:
        raise ValueError(
            f"'{text}' is not a duration; write e.g. '2 business days', '4 hours' or '30 minutes'"
        )
    unit = _UNITS.get(match["unit"].lower())
    if unit is None:
        raise ValueError(f"'{match['unit']}' is not a unit; use minutes, hours, days or weeks")
    business = bool(match["business"])
    if business and unit not in ("hours", "days"):
        raise ValueError("business time is counted in business hours or business days")
    amount = float(match["amount"]) * (-1 if match["sign"] == "-" else 1)
    if abs(amount) > 100_000:
        raise ValueError(f"'{text}' is too long a duration")
    return DurationValue(amount=amount, unit=unit, business=business)


def _normalise(text: str) -> str:
    return parse_duration(text).canonical()


Duration = Annotated[
    str,
    AfterValidator(_normalise),
    Field(description="e.g. '2 business days', '4 business hours', '30 minutes', '-1 day'"),
]
