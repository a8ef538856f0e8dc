"""The kinds of number a command line takes, each with the range that makes sense for it.

argparse turns a ``ValueError`` or ``ArgumentTypeError`` from a type into "argument X: …" and
exit 2, so a number the database cannot hold (an id past 64 bits), a negative limit or a
heartbeat of zero seconds is refused here, before any database is opened, in one sentence.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

# Ids are 64-bit keys; version numbers are 32-bit columns.
MAX_ID = 2**63 - 1
MAX_VERSION = 2**31 - 1


def whole(low: int, high: int, what: str = "a whole number") -> Callable[[str], int]:
    """A type for integers from ``low`` to ``high``, both included."""

    def parse(text: str) -> int:
        cleaned = text.strip().replace("_", "")
        # Digits only: int() would take '١٢' or spend seconds on a million-digit string.
        digits = cleaned[1:] if cleaned[:1] in "+-" else cleaned
        if not digits.isascii() or not digits.isdigit():
            raise argparse.ArgumentTypeError(f"'{text}' is not {what}")
        if len(digits) > len(str(high)) + 1:
            value = -(high + 1) if cleaned.startswith("-") else high + 1
        else:
            value = int(cleaned)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is out of range: use {low:,} to {high:,}")
        return value

    return parse


def seconds(low: float, high: float) -> Callable[[str], float]:
    """A type for a number of seconds from ``low`` to ``high``: finite, never NaN."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{text} is out of range: use {low:g} to {high:g} seconds"
            )
        return value

    return parse


ident = whole(1, MAX_ID, "an id (a whole number)")
version = whole(1, MAX_VERSION, "a version number")
limit = whole(1, 1_000_000, "a whole number")
lease = seconds(1, 3600)
concurrency = whole(1, 256, "a whole number")
interval = seconds(0.1, 3600)
