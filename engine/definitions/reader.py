"""Reading definition files as data: YAML or JSON, defensively.

Untrusted files must fail with a clear message, never a traceback: the size is capped, YAML
aliases (the "billion laughs" expansion) are refused, nesting depth is capped, and only plain
data types are built. While reading YAML we remember the line of every value, so that a
problem found later can say where it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.definitions.problems import DefinitionError, Path, Problem

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64


@dataclass
class RawDefinition:
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The line of the nearest enclosing value that has one."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]


class _Loader(yaml.SafeLoader):
    """A safe loader that refuses aliases and deep nesting."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in definition files", event.start_mark
            )
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"the file is nested more than {MAX_DEPTH} levels deep",
                self.peek_event().start_mark,  # type: ignore[no-untyped-call]
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


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


def _record_lines(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            _record_lines(value_node, (*path, key), lines)
            lines.setdefault((*path, key), key_node.start_mark.line + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*path, index), lines)


def _check_depth(data: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise DefinitionError(
            [Problem((), f"the file is nested more than {MAX_DEPTH} levels deep")]
        )
    if isinstance(data, dict):
        for value in data.values():
            _check_depth(value, depth + 1)
    elif isinstance(data, list):
        for value in data:
            _check_depth(value, depth + 1)


def read_yaml(text: str) -> RawDefinition:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise DefinitionError([Problem((), "the file is empty")])
        lines: dict[Path, int] = {}
        _record_lines(node, (), lines)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = exc.problem or exc.context or "not valid YAML"
        raise DefinitionError([Problem((), f"not valid YAML: {reason}", line)]) from None
    except yaml.YAMLError as exc:
        raise DefinitionError([Problem((), f"not valid YAML: {exc}")]) from None
    except RecursionError:
        raise DefinitionError(
            [Problem((), f"the file is nested more than {MAX_DEPTH} levels deep")]
        ) from None
    finally:
        loader.dispose()
    return RawDefinition(data, lines)


def read_json(text: str) -> RawDefinition:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DefinitionError([Problem((), f"not valid JSON: {exc.msg}", exc.lineno)]) from None
    except RecursionError:
        raise DefinitionError(
            [Problem((), f"the file is nested more than {MAX_DEPTH} levels deep")]
        ) from None
    _check_depth(data)
    return RawDefinition(data)


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
    import os

    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise _too_big(size)
        with open(path, "rb") as handle:
            content = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DefinitionError([Problem((), f"cannot read the file: {exc.strerror}")]) from None
    return read_bytes(content, filename=path)
