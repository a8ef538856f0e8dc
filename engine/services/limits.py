"""What a stored value may be, checked before saving, so both databases answer alike.

PostgreSQL refuses a string longer than its column, a NUL character, a lone surrogate (half
of a UTF-16 pair, which is not text) and a JSON number that is not finite; SQLite stores all
of them silently, and Python cannot read back an integer of thousands of digits. The service
checks them first and names the field and the limit. Column lengths come from the models, so
a change of column changes the check with it.

Services call ``check_text``/``check_json`` on what they are given, to name it well; and every
row a service session adds or changes through the ORM (users, groups, definitions, records,
calendars, settings …: runtime rows go through ``Tx`` and carry engine-made values) is
checked once more as it is flushed, so no service can forget.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, String, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from engine.errors import InvalidInput
from engine.store.base import Base
from engine.values import MAX_NUMBER


def column_length(model: type[Base], column: str) -> int | None:
    """The most characters ``model.column`` holds (None: no limit)."""
    kind = model.__table__.columns[column].type
    return kind.length if isinstance(kind, String) else None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (\\x00), which cannot be stored"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"contains a character that is not text (a lone surrogate at character {exc.start + 1})"
        )
    return None


def text_problems(model: type[Base], values: Mapping[str, str | None]) -> list[str]:
    """One line per value of ``values`` (column name → text) that ``model`` cannot store."""
    problems = []
    for column, text in values.items():
        if text is None:
            continue
        limit = column_length(model, column)
        if limit is not None and len(text) > limit:
            problems.append(f"{column}: is {len(text):,} characters long; at most {limit} fit")
            continue
        problem = _text_problem(text)
        if problem:
            problems.append(f"{column}: {problem}")
    return problems


def check_text(model: type[Base], values: Mapping[str, str | None], what: str) -> None:
    """Refuse, naming each field and its limit, what ``model`` cannot store; ``what`` says
    what was being saved ("the event", "object type 'x'")."""
    problems = text_problems(model, values)
    if problems:
        raise InvalidInput(f"{what} cannot be saved", problems)


def json_problems(value: Any, where: str) -> list[str]:
    """One line per part of ``value`` that cannot be stored as JSON alike on both databases;
    ``where`` names ``value`` in them ("data": "data.amount: …"; "": "amount: …")."""
    problems: list[str] = []
    pending: list[tuple[str, Any]] = [(where, value)]
    while pending and len(problems) < 10:
        path, item = pending.pop()
        place = path or "the value"
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, int):
            if not -MAX_NUMBER < item < MAX_NUMBER:
                problems.append(f"{place}: is too large: a number must be between -10^18 and 10^18")
        elif isinstance(item, float):
            if not math.isfinite(item) or not -MAX_NUMBER < item < MAX_NUMBER:
                problems.append(
                    f"{place}: {item!r} is not a number that can be stored (between -10^18 and "
                    "10^18)"
                )
        elif isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                problems.append(f"{place}: {problem}")
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                problem = _text_problem(str(key))
                if problem:
                    problems.append(f"{place}: a key {problem}")
                pending.append((f"{path}.{key}" if path else str(key), inner))
        elif isinstance(item, list | tuple):
            pending.extend((f"{path}[{i}]", inner) for i, inner in enumerate(item))
    return sorted(problems)


def check_json(value: Any, where: str, what: str) -> None:
    """Refuse ``value`` (saved as JSON) when a part of it cannot be stored."""
    problems = json_problems(value, where)
    if problems:
        raise InvalidInput(f"{what} cannot be saved", problems)


def _stored(model: type[Any]) -> list[tuple[str, str, bool]]:
    """(attribute, column, is JSON) of each text or JSON column of ``model``."""
    found = _STORED.get(model)
    if found is None:
        found = []
        for attr in sa_inspect(model).column_attrs:
            column = attr.columns[0]
            kind = column.type
            is_json = isinstance(kind, JSON)  # JSONData too: JSON with a JSONB variant
            if isinstance(kind, String) or is_json:
                found.append((attr.key, column.name, is_json))
        _STORED[model] = found
    return found


_STORED: dict[type[Any], list[tuple[str, str, bool]]] = {}


def _row_problems(obj: Any, new: bool) -> list[str]:
    model = type(obj)
    state = sa_inspect(obj)
    texts: dict[str, str | None] = {}
    problems: list[str] = []
    for key, column, is_json in _stored(model):
        if key not in obj.__dict__ or (not new and not state.attrs[key].history.has_changes()):
            continue  # only what this transaction gives the row
        value = obj.__dict__[key]
        if is_json:
            problems += json_problems(value, column)
        elif isinstance(value, str):
            texts[column] = value
    return text_problems(model, texts) + problems


@event.listens_for(Session, "before_flush")
def _check_rows(session: Session, _context: Any, _instances: Any) -> None:
    for rows, new in ((session.new, True), (session.dirty, False)):
        for obj in rows:
            if isinstance(obj, Base):
                problems = _row_problems(obj, new)
                if problems:
                    table = str(getattr(obj, "__tablename__", type(obj).__name__))
                    noun = table.replace("_", " ").removesuffix("s")
                    raise InvalidInput(f"the {noun} cannot be saved", problems)
