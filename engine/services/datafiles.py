"""Reading the YAML (or JSON) data files a person names: object types, calendars.

Through ``engine.files`` (regular files only, bounded, UTF-8), then YAML's safe loader; every
way it can fail — a FIFO, bytes that are not UTF-8, a control character, an integer of
thousands of digits, a lone surrogate from a JSON escape — is one sentence naming the file
and, where known, the line.
"""

from __future__ import annotations

from typing import Any

import yaml

from engine.errors import InvalidInput
from engine.files import UnreadableFile, read_text
from engine.services.limits import json_problems


def _line_column(text: str, position: int) -> str:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return f"line {line}, column {column}"


def _yaml_problem(text: str, exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.reader.ReaderError):
        # Control characters and NUL: the reader knows the character and where it is.
        return f"{_line_column(text, exc.position)}: character #x{exc.character:04x} is not allowed"
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "cannot be read"
        if mark is not None:
            return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
        return problem
    return str(exc).splitlines()[0]


def read_yaml_file(path: str) -> Any:
    """The file's data; InvalidInput, naming the file, when it cannot be read as YAML."""
    try:
        text = read_text(path)
    except UnreadableFile as exc:
        raise InvalidInput(str(exc)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path} is not valid YAML: {_yaml_problem(text, exc)}") from None
    except ValueError as exc:  # an integer of thousands of digits
        raise InvalidInput(f"{path} cannot be read: {str(exc).split(';')[0]}") from None
    problems = json_problems(data, "")
    if problems:
        raise InvalidInput(f"{path} holds values that cannot be stored", problems)
    return data
