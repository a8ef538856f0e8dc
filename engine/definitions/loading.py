"""From text or file to a validated ``Orchestration``, or every problem at once."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml
from pydantic import ValidationError

from engine.definitions.checks import check
from engine.definitions.model import FORMAT_VERSION, Orchestration
from engine.definitions.problems import DefinitionError, Path, Problem
from engine.definitions.reader import RawDefinition, read_file, read_text
from engine.text import did_you_mean

# Format migrations: MIGRATIONS[n] turns format n data into format n + 1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def _all_field_names() -> set[str]:
    names: set[str] = set()
    pending: list[Any] = [Orchestration]
    seen: set[Any] = set()
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            names.add(name)
            for arg in _types_within(info.annotation):
                if isinstance(arg, type) and hasattr(arg, "model_fields"):
                    pending.append(arg)
    return names


def _types_within(annotation: Any) -> list[Any]:
    out = [annotation]
    for arg in getattr(annotation, "__args__", ()) or ():
        out.extend(_types_within(arg))
    for arg in getattr(annotation, "__metadata__", ()) or ():
        out.extend(_types_within(arg))
    origin = getattr(annotation, "__origin__", None)
    if origin is not None:
        out.append(origin)
    return out


_FIELD_NAMES = _all_field_names()
_TYPE_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "str": "text",
    "string": "text",
    "list": "a list",
    "dict": "a mapping (key: value)",
    "model": "a mapping (key: value)",
}


def _show(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "..."


def _clean_path(data: Any, loc: tuple[Any, ...]) -> Path:
    """Drop the tags pydantic puts in locations of discriminated unions."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(part, int):
            path.append(part)
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            continue
        if (
            isinstance(node, dict)
            and part not in node
            and part
            in (
                node.get("kind"),
                node.get("type"),
            )
        ):
            continue
        if isinstance(part, str) and part.startswith(("function-", "union[", "tagged-union[")):
            continue
        path.append(str(part))
        node = node.get(part) if isinstance(node, dict) else None
    return tuple(path)


def _message(error: Any, path: Path) -> tuple[Path, str]:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return path[:-1], f"missing required field '{path[-1]}'"
    if kind == "extra_forbidden":
        name = str(path[-1])
        return path, f"unknown field '{name}'{did_you_mean(name, _FIELD_NAMES)}"
    if kind == "union_tag_invalid":
        tag = ctx.get("discriminator", "").strip("'")
        return path, f"{tag} {_show(ctx.get('tag'))} is not one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        tag = ctx.get("discriminator", "").strip("'")
        return path, f"missing '{tag}' (what kind of item this is)"
    if kind == "enum" or kind == "literal_error":
        return path, f"{_show(value)} is not one of {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        return path, (
            f"{_show(value)} is not a valid name: start with a letter, then use letters, "
            "digits or '_' (e.g. credit_check)"
        )
    if kind == "value_error" or kind == "assertion_error":
        return path, str(error["msg"]).removeprefix("Value error, ")
    if kind.endswith("_type") or kind.endswith("_parsing"):
        want = _TYPE_WORDS.get(kind.split("_")[0], kind.split("_")[0])
        hint = ""
        if isinstance(value, bool) and want == "text":
            hint = " (YAML reads yes/no/on/off as true/false: put the word in quotes)"
        return path, f"expected {want}, got {_show(value)}{hint}"
    return path, f"{error['msg']} (got {_show(value)})"


def _shape_problems(raw: RawDefinition, exc: ValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors():
        path = _clean_path(raw.data, tuple(error["loc"]))
        path, message = _message(error, path)
        problems.append(Problem(path, message))
    return problems


def _migrate(raw: RawDefinition) -> list[Problem]:
    data = raw.data
    if not isinstance(data, dict):
        return [
            Problem((), "a definition must be a mapping with keys such as format, name, elements")
        ]
    version = data.get("format")
    if version is None:
        return [
            Problem(
                ("format",),
                f"missing 'format' (the file format version; write format: {FORMAT_VERSION})",
            )
        ]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return [Problem(("format",), f"format must be a whole number such as {FORMAT_VERSION}")]
    if version > FORMAT_VERSION:
        return [
            Problem(
                ("format",),
                f"format {version} was written by a newer Baton; this one reads up to {FORMAT_VERSION}",
            )
        ]
    while version < FORMAT_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
        data["format"] = version
    raw.data = data
    return []


def validate_raw(raw: RawDefinition, source: str | None = None) -> Orchestration:
    """Validate raw data; raise ``DefinitionError`` listing every problem found."""
    problems = _migrate(raw)
    if problems:
        raise DefinitionError(_with_lines(raw, problems), source)
    orchestration: Orchestration | None = None
    try:
        orchestration = Orchestration.model_validate(raw.data)
    except ValidationError as exc:
        problems.extend(_shape_problems(raw, exc))
    except RecursionError:
        problems.append(Problem((), "the file is nested too deeply"))
    shape_paths = {p.path for p in problems}
    for problem in check(raw.data):
        if problem.path not in shape_paths:
            problems.append(problem)
    if problems or orchestration is None:
        raise DefinitionError(_with_lines(raw, problems), source)
    return orchestration


def _with_lines(raw: RawDefinition, problems: list[Problem]) -> list[Problem]:
    """Attach the line and column where known, and order the problems as they stand in the
    file."""
    located = [
        p if p.line is not None else Problem(p.path, p.message, *_position(raw, p.path))
        for p in problems
    ]
    return sorted(located, key=lambda p: (p.line or 0, p.column or 0))


def _position(raw: RawDefinition, path: Path) -> tuple[int | None, int | None]:
    return raw.position_of(path) or (None, None)


def load_text(text: str, *, kind: str | None = None, source: str | None = None) -> Orchestration:
    try:
        raw = read_text(text, kind=kind)
    except DefinitionError as exc:
        raise DefinitionError(exc.problems, source) from None
    return validate_raw(raw, source)


def load_file(path: str) -> Orchestration:
    return load_file_located(path)[0]


def load_file_located(path: str) -> tuple[Orchestration, RawDefinition]:
    """The validated definition and the raw file, which knows where each value stands."""
    try:
        raw = read_file(path)
    except DefinitionError as exc:
        raise DefinitionError(exc.problems, path) from None
    return validate_raw(raw, path), raw


def load_data(data: dict[str, Any], source: str | None = None) -> Orchestration:
    return validate_raw(RawDefinition(json.loads(json.dumps(data, default=str))), source)


def to_data(orchestration: Orchestration) -> dict[str, Any]:
    """Plain data for saving: defaults left out so files stay short, format first."""
    data = orchestration.model_dump(mode="json", exclude_defaults=True, by_alias=True)
    data["format"] = FORMAT_VERSION
    ordered = {"format": data.pop("format"), "name": data.pop("name")}
    ordered.update(data)
    return ordered


def to_yaml(orchestration: Orchestration) -> str:
    return yaml.safe_dump(to_data(orchestration), sort_keys=False, allow_unicode=True, width=100)


def to_json(orchestration: Orchestration) -> str:
    return json.dumps(to_data(orchestration), indent=2, ensure_ascii=False)


def json_schema() -> dict[str, Any]:
    """JSON Schema of the definition format, for editors."""
    schema = Orchestration.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"Baton orchestration definition (format {FORMAT_VERSION})"
    return schema
