"""Values as a person reads them on screen, not as Python or JSON writes them (a field's
name reads as a label through ``engine.text.derived_label``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any


def shown(value: Any) -> str:
    """yes or no for a tick box, text without quotes, a list as its items, a moment in local
    time; only a nested structure keeps its JSON (there is nothing plainer to say)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | str):
        return str(value)
    if isinstance(value, dt.datetime):
        return f"{value.astimezone():%a %d %b %Y %H:%M}"
    if isinstance(value, list) and all(
        v is None or isinstance(v, bool | int | float | str) for v in value
    ):
        return ", ".join(shown(v) for v in value)
    return json.dumps(value, default=str, ensure_ascii=False)
