"""Problems found in a definition, each with where it is and what is wrong."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Path = tuple[str | int, ...]
Position = tuple[int, int]  # line and column in the file, both counted from 1


def format_path(path: Path) -> str:
    """``('elements', 2, 'steps', 1, 'start')`` → ``elements[2].steps[1].start``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


def describe_position(line: int, column: int | None = None) -> str:
    """``line 12, column 9``: where something stands in the file, as people count."""
    return f"line {line}" if column is None else f"line {line}, column {column}"


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str
    line: int | None = None
    column: int | None = None

    @property
    def location(self) -> str:
        return format_path(self.path)

    def describe(self, source: str | None = None) -> str:
        where = self.location
        if self.line is not None:
            where = f"{describe_position(self.line, self.column)}: {where}"
        if source:
            where = f"{source}: {where}"
        return f"{where}: {self.message}"


class DefinitionError(Exception):
    """A definition could not be loaded; ``problems`` lists every reason at once."""

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(self.describe())

    def describe(self) -> str:
        return "\n".join(p.describe(self.source) for p in self.problems)
