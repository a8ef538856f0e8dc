"""Printing results for people (tables, histories) and for programs (--json)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def print_json(value: Any) -> None:
    json.dump(_plain(value), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def when(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, empty: str = "(none)") -> None:
    data = [["" if v is None else str(v) for v in row] for row in rows]
    if not data:
        print(empty)
        return
    widths = [max(len(h), *(len(r[i]) for r in data)) for i, h in enumerate(headers)]
    widths = [min(w, 60) for w in widths]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in data:
        cells = [
            (c if len(c) <= w else c[: w - 1] + "…").ljust(w)
            for c, w in zip(row, widths, strict=True)
        ]
        print("  ".join(cells).rstrip())


class UsageError(Exception):
    """Something on the command line cannot be used (an output file, say): exit 2."""


def write_file(path: str, text: str) -> None:
    """Write ``text`` to the file a person named, or say in one sentence why it cannot be."""
    import os

    if os.path.isdir(path):
        raise UsageError(f"cannot write {path}: it is a folder; name a file in it")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"cannot write {path}: there is no folder {folder}")
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    except UnicodeEncodeError:  # a lone surrogate cannot be written as UTF-8
        raise UsageError(
            f"cannot write {path}: the text holds characters UTF-8 cannot encode"
        ) from None


def error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
