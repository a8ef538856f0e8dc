"""Reading definition files as data: YAML or JSON, defensively.

Untrusted files must fail with a clear message, never a traceback or a hang: only regular
files are read, the size is capped, so is the number of keys and values and the nesting
depth, YAML aliases (the "billion laughs" expansion) are refused, a key written twice in one
mapping is refused (naming both lines) instead of the last one silently winning, and only
plain data types are built.

The data is built from the parser's events in one loop, never by recursion, so time and
memory grow with the file and a deep or wide file cannot exhaust the stack. While reading we
remember the line and column of every value, so that a problem or review finding found later
can say where it is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from engine import files
from engine.definitions.problems import DefinitionError, Path, Position, Problem

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
# Keys, list items and values together. The biggest real definitions hold a few tens of
# thousands; the cap keeps a generated file from costing seconds and hundreds of megabytes.
MAX_ITEMS = 200_000

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAP = yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG
_SEQ = yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
# No number in a definition needs more digits; Python refuses to read past 4,300 anyway.
MAX_DIGITS = 100
_SCALAR_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("null", "bool", "int", "float", "str", "timestamp", "binary")
}


@dataclass
class RawDefinition:
    data: Any
    positions: dict[Path, Position] = field(default_factory=dict)

    def position_of(self, path: Path) -> Position | None:
        """The line and column of the nearest enclosing value that has one."""
        while True:
            if path in self.positions:
                return self.positions[path]
            if not path:
                return None
            path = path[:-1]

    def line_of(self, path: Path) -> int | None:
        position = self.position_of(path)
        return position[0] if position else None


def _too_big(size: int) -> DefinitionError:
    return DefinitionError(
        [
            Problem(
                (),
                f"the file is {size / 1024 / 1024:.1f} MB; definition files are limited to "
                f"{MAX_FILE_BYTES // 1024 // 1024} MB",
            )
        ]
    )


def _too_many(path: Path, position: Position) -> DefinitionError:
    return DefinitionError(
        [
            Problem(
                path,
                f"the file holds more than {MAX_ITEMS:,} keys and values, "
                "the most a definition may hold",
                *position,
            )
        ]
    )


def _too_deep(path: Path, position: Position | None = None) -> DefinitionError:
    line, column = position or (None, None)
    return DefinitionError(
        [Problem(path, f"the file is nested more than {MAX_DEPTH} levels deep", line, column)]
    )


def _twice(path: Path, first: int, position: Position) -> Problem:
    key = path[-1]
    lines = f"on line {first}" if first == position[0] else f"on lines {first} and {position[0]}"
    return Problem(
        path, f"'{key}' is written twice in the same mapping, {lines}: keep one", *position
    )


_NO_KEY = object()


class _Frame:
    """A mapping or list being filled: its path, and for a mapping the key awaiting a value
    and the line of every key seen so far."""

    __slots__ = ("items", "key", "key_path", "mapping", "path", "seen", "value")

    def __init__(self, value: dict[Any, Any] | list[Any] | None, path: Path, mapping: bool) -> None:
        self.value = value  # None while only positions are wanted (JSON)
        self.mapping = mapping
        self.path = path
        self.key: Any = _NO_KEY
        self.key_path: Path = path
        self.seen: dict[Any, int] = {}
        self.items = 0

    @property
    def wants_key(self) -> bool:
        return self.mapping and self.key is _NO_KEY

    def next_path(self) -> Path:
        """The path of the value coming next in this mapping or list."""
        if self.mapping:
            return self.key_path
        self.items += 1
        return (*self.path, self.items - 1)


class _Refused(Exception):
    def __init__(self, message: str, event: Any, path: Path) -> None:
        self.message, self.event, self.path = message, event, path


def _position(event: Any) -> Position:
    return event.start_mark.line + 1, event.start_mark.column + 1


def _scalar(loader: Any, event: Any, path: Path) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == _MERGE:
        raise _Refused("merge keys (<<) are not allowed in definition files", event, path)
    if tag not in _SCALAR_TAGS:
        raise _Refused(f"the tag {event.tag} is not allowed in definition files", event, path)
    if tag == _STR:
        return event.value  # most values: no node needed
    if tag == _INT and _too_many_digits(event.value):
        raise _Refused(_digits_message(event.value), event, path)
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    return loader.yaml_constructors[tag](loader, node)


def _collection(event: Any, path: Path, depth: int) -> dict[Any, Any] | list[Any]:
    mapping = isinstance(event, yaml.MappingStartEvent)
    if event.tag not in (None, "!", _MAP if mapping else _SEQ):
        raise _Refused(f"the tag {event.tag} is not allowed in definition files", event, path)
    if depth > MAX_DEPTH:
        raise _too_deep(path, _position(event))
    return {} if mapping else []


def _build(loader: Any) -> RawDefinition:
    """The document's data and positions, from the parser's events, in one loop."""
    loader.get_event()  # stream start
    if loader.check_event(yaml.StreamEndEvent):
        raise DefinitionError([Problem((), "the file is empty")])
    loader.get_event()  # document start
    positions: dict[Path, Position] = {}
    twice: list[Problem] = []
    stack: list[_Frame] = []
    root: Any = None
    count = 0
    while True:
        event = loader.get_event()
        if isinstance(event, yaml.CollectionEndEvent):
            stack.pop()
            if not stack:
                break
            continue
        parent = stack[-1] if stack else None
        path = parent.path if parent else ()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused("aliases (*name) are not allowed in definition files", event, path)
        count += 1
        if count > MAX_ITEMS:
            raise _too_many(path, _position(event))
        position = _position(event)
        if parent is not None and parent.wants_key:
            if not isinstance(event, yaml.ScalarEvent):
                raise _Refused("a key must be a single word or value", event, path)
            key = _scalar(loader, event, path)
            key_path = (*path, key if isinstance(key, str) else str(event.value))
            if key in parent.seen:
                twice.append(_twice(key_path, parent.seen[key], position))
            parent.seen[key] = position[0]
            parent.key, parent.key_path = key, key_path
            positions[key_path] = position
            continue
        if parent is not None:
            path = parent.next_path()
        positions[path] = position
        value: Any
        if isinstance(event, yaml.ScalarEvent):
            value = _scalar(loader, event, path)
        else:
            value = _collection(event, path, len(stack) + 1)
        if parent is None:
            root = value
        elif isinstance(parent.value, dict):
            parent.value[parent.key] = value
            parent.key = _NO_KEY
        elif isinstance(parent.value, list):
            parent.value.append(value)
        if isinstance(value, dict | list):
            stack.append(_Frame(value, path, isinstance(value, dict)))
        elif parent is None:
            break  # the document is a single value
    loader.get_event()  # document end
    if not loader.check_event(yaml.StreamEndEvent):
        event = loader.peek_event()
        raise _Refused("a definition file holds one document (no second ---)", event, ())
    if twice:
        raise DefinitionError(twice)
    return RawDefinition(root, positions)


def read_yaml(text: str) -> RawDefinition:
    loader = _Loader(text)
    try:
        return _build(loader)
    except _Refused as exc:
        raise DefinitionError([Problem(exc.path, exc.message, *_position(exc.event))]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        reason = exc.problem or exc.context or "not valid YAML"
        raise DefinitionError([Problem((), f"not valid YAML: {reason}", line, column)]) from None
    except yaml.YAMLError as exc:
        raise DefinitionError([Problem((), f"not valid YAML: {exc}")]) from None
    finally:
        loader.dispose()


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def _json_positions(text: str) -> tuple[dict[Path, Position], list[Problem]]:
    """Where every key and value of JSON ``text`` stands, and the keys written twice, in one
    pass over its tokens. It runs before the text is parsed, so that too many items or too
    deep a nesting is refused before anything is built; on text that is not well-formed it
    only has to survive (the parser then says what is wrong)."""
    positions: dict[Path, Position] = {}
    twice: list[Problem] = []
    stack: list[_Frame] = []
    line, line_start, scanned = 1, 0, 0
    count = 0
    for match in _JSON_TOKEN.finditer(text):
        token, start = match.group(), match.start()
        newlines = text.count("\n", scanned, start)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", scanned, start) + 1
        scanned = start
        first = token[0]
        if first in ",:":
            if first == "," and stack and stack[-1].mapping:
                stack[-1].key = _NO_KEY
            continue
        if first in "}]":
            if not stack:
                break  # not well-formed: the parser will say so
            stack.pop()
            continue
        parent = stack[-1] if stack else None
        path = parent.path if parent else ()
        position = (line, start - line_start + 1)
        count += 1
        if count > MAX_ITEMS:
            raise _too_many(path, position)
        if parent is not None and parent.wants_key:
            key = _json_key(token)
            key_path = (*path, key)
            if key in parent.seen:
                twice.append(_twice(key_path, parent.seen[key], position))
            parent.seen[key] = line
            parent.key, parent.key_path = key, key_path
            positions[key_path] = position
            continue
        if parent is not None:
            path = parent.next_path()
        positions[path] = position
        if first in "{[":
            if len(stack) + 1 > MAX_DEPTH:
                raise _too_deep(path, position)
            stack.append(_Frame(None, path, first == "{"))
    return positions, twice


def _too_many_digits(text: str) -> bool:
    return sum(c.isdigit() for c in text) > MAX_DIGITS


def _digits_message(text: str) -> str:
    digits = sum(c.isdigit() for c in text)
    return f"a whole number of {digits:,} digits is more than a definition holds (at most {MAX_DIGITS})"


class _LongNumber(ValueError):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _json_int(text: str) -> int:
    if _too_many_digits(text):
        raise _LongNumber(text)
    return int(text)


def _json_key(token: str) -> str:
    if "\\" not in token:
        return token[1:-1]
    try:
        key = json.loads(token)
    except json.JSONDecodeError:
        return token
    return key if isinstance(key, str) else token


def read_json(text: str) -> RawDefinition:
    positions, twice = _json_positions(text)
    try:
        data = json.loads(text, parse_int=_json_int)
    except _LongNumber as exc:
        where = text.find(exc.text)
        line = text.count("\n", 0, where) + 1
        column = where - text.rfind("\n", 0, where)
        raise DefinitionError([Problem((), _digits_message(exc.text), line, column)]) from None
    except json.JSONDecodeError as exc:
        raise DefinitionError(
            [Problem((), f"not valid JSON: {exc.msg}", exc.lineno, exc.colno)]
        ) from None
    except RecursionError:
        raise _too_deep(()) from None
    if twice:
        raise DefinitionError(twice)
    return RawDefinition(data, positions)


def read_text(text: str, *, kind: str | None = None) -> RawDefinition:
    """Read definition text; ``kind`` is 'json' or 'yaml', or guessed from the text."""
    if len(text) > MAX_FILE_BYTES:
        raise _too_big(len(text.encode("utf-8", "replace")))
    if kind is None:
        kind = "json" if text.lstrip().startswith(("{", "[")) else "yaml"
    return read_json(text) if kind == "json" else read_yaml(text)


def read_bytes(content: bytes, *, filename: str | None = None) -> RawDefinition:
    if len(content) > MAX_FILE_BYTES:
        raise _too_big(len(content))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DefinitionError(
            [Problem((), f"the file is not UTF-8 text (byte {exc.start} cannot be read)")]
        ) from None
    kind = None
    if filename:
        lower = filename.lower()
        if lower.endswith(".json"):
            kind = "json"
        elif lower.endswith((".yaml", ".yml")):
            kind = "yaml"
    return read_text(text, kind=kind)


def read_file(path: str) -> RawDefinition:
    """Read a definition file; a FIFO, folder or device is refused at once (never waited on)."""
    try:
        content = files.read_bytes(path, limit=MAX_FILE_BYTES)
    except files.UnreadableFile as exc:
        # The error names the file already (as its source): say "the file" in the sentence.
        raise DefinitionError([Problem((), str(exc).replace(path, "the file", 1))]) from None
    return read_bytes(content, filename=path)
