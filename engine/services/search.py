"""Searching runs by what is in them: a variable's value, a record's field, the error text.

A variable or a field is JSON in its row (``runs.variables``, ``records.data``). Named, its
value is read with the database's own JSON path (SQLite ``json_extract``, PostgreSQL
``->>``) and compared as text, ignoring case, so ``amount = 120`` finds the number 120 and
the text "120" alike, and ``flag = true`` a JSON true on both databases. Unnamed, the
value is looked for anywhere in the JSON's text. No index can serve either (the names are
each orchestration's own), so both scan the rows the other filters leave; the list reads
them in its sort order and stops at a page, which keeps the first page quick (see
docs/benchmarks.md).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Boolean, Text, and_, cast, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from engine.errors import InvalidInput
from engine.store.models import RecordRow, RunRow

MAX_NAME = 200


class JsonMember(FunctionElement[str]):
    """The text of one top-level member of a JSON column: strings as themselves, numbers
    and booleans as JSON writes them ('120', 'true'), absent or null as NULL."""

    type = Text()
    inherit_cache = False  # the member's name is part of the SQL: nothing to cache on
    name = "json_member"

    def __init__(self, column: Any, member: str) -> None:
        self.member = member
        super().__init__(column)


@compiles(JsonMember, "sqlite")
def _member_sqlite(element: JsonMember, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    doc = compiler.process(column, **kw)
    quoted = element.member.replace("\\", "\\\\").replace('"', '\\"')
    path = compiler.process(literal('$."' + quoted + '"', Text), **kw)
    # json_extract gives SQLite's 1/0 for true/false: json_type tells them from numbers.
    return (
        f"CASE json_type({doc}, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
        f"ELSE CAST(json_extract({doc}, {path}) AS TEXT) END"
    )


@compiles(JsonMember, "postgresql")
def _member_postgresql(element: JsonMember, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    doc = compiler.process(column, **kw)
    return f"({doc} ->> {compiler.process(literal(element.member, Text), **kw)})"


class MentionsText(FunctionElement[bool]):
    """SQLite only: the JSON's raw text contains ``text`` (LIKE ignores ASCII case there). A
    quick first test before ``json_member`` parses the JSON: twice as fast over a
    scan. PostgreSQL keeps JSON parsed (jsonb), so there it is simply true."""

    type = Boolean()
    inherit_cache = False
    name = "mentions_text"

    def __init__(self, column: Any, text: str) -> None:
        self.text = text
        super().__init__(column)


@compiles(MentionsText, "sqlite")
def _mentions_sqlite(element: MentionsText, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    escaped = element.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = compiler.process(literal(f"%{escaped}%", Text), **kw)
    return f"({compiler.process(column, **kw)} LIKE {pattern} ESCAPE '\\')"


@compiles(MentionsText, "postgresql")
def _mentions_postgresql(element: MentionsText, compiler: SQLCompiler, **kw: Any) -> str:
    return "true"


def _plain_ascii(text: str) -> bool:
    """Written the same in JSON's text as typed: a quick LIKE can look for it."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def _checked_name(name: str, what: str) -> str:
    name = name.strip()
    if len(name) > MAX_NAME:
        raise InvalidInput(f"a {what} name has at most {MAX_NAME} characters")
    return name


def json_matches(column: Any, name: str | None, value: str, what: str) -> ColumnElement[bool]:
    """``column`` (JSON) has member ``name`` equal to ``value`` (ignoring case), or, with no
    name, mentions ``value`` anywhere in its text."""
    wanted = value.strip().lower()
    if not wanted:
        raise InvalidInput(f"say which {what} value to look for")
    member = _checked_name(name or "", what)
    if member:
        equal = func.lower(JsonMember(column, member)) == wanted
        return and_(MentionsText(column, wanted), equal) if _plain_ascii(wanted) else equal
    text = func.lower(cast(column, Text))
    forms = dict.fromkeys([wanted, json.dumps(wanted)[1:-1]])  # as typed, and JSON-escaped
    return or_(*(text.contains(form, autoescape=True) for form in forms))


class Unindexed(FunctionElement[Any]):
    """``column`` in an ORDER BY that no index may serve. A search matches rows no index
    knows of: walking the list's index in order reads every run, one lookup at a time,
    before it can say that none (or one) matches, 1.3 s on a million runs. Reading the
    table straight through and sorting the few matches takes the time of a count
    (0.5-0.8 s), and a common match stays well under that."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column: Any) -> None:
        self.type = column.type
        super().__init__(column)


@compiles(Unindexed, "sqlite")
def _unindexed_sqlite(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return f"+{compiler.process(column, **kw)}"  # SQLite's unary plus: same value, no index


@compiles(Unindexed, "postgresql")
def _unindexed_postgresql(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    inner = compiler.process(column, **kw)
    return f"COALESCE({inner}, {inner})"


def variable_condition(name: str | None, value: str) -> ColumnElement[bool]:
    """Runs whose variable ``name`` is ``value`` (or, unnamed, whose variables mention it)."""
    return json_matches(RunRow.variables, name, value, "variable")


def record_condition(field: str | None, value: str) -> ColumnElement[bool]:
    """Runs about a record whose field ``field`` is ``value`` (or that mentions it)."""
    records = select(RecordRow.id).where(json_matches(RecordRow.data, field, value, "field"))
    return RunRow.record_id.in_(records)


def error_condition(text: str) -> ColumnElement[bool]:
    """Runs whose error says ``text`` (ignoring case)."""
    wanted = text.strip().lower()
    if not wanted:
        raise InvalidInput("say which words of the error to look for")
    return func.lower(RunRow.error).contains(wanted, autoescape=True)
