"""Small text helpers for messages people read."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or an empty string."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def derived_label(name: str) -> str:
    """The label a name reads as: ``credit_check`` → "Credit check"."""
    return name.replace("_", " ").capitalize()
