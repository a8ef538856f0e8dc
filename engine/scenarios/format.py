"""The scenario file format (``format: 1``): what a test of an orchestration says, as values.

A file names the orchestration it tests, a setup (people, calendars, record types, records,
the moment the clock starts) and a list of scenarios, each a start and a list of steps. A step
is a mapping with one action key (``complete``, ``advance``, ``expect`` …). The file is read
with the definition reader, so every problem is reported at once with its line and column.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from engine.definitions.durations import parse_duration
from engine.definitions.problems import DefinitionError, Path, Problem
from engine.definitions.reader import RawDefinition, read_file, read_text
from engine.scenarios.model import (
    ACTIONS,
    Advance,
    FileModel,
    ScenarioModel,
    Setup,
    Start,
    Stub,
)
from engine.text import did_you_mean

FORMAT_VERSION = 1


# ---------------------------------------------------------------- loaded values


@dataclass(frozen=True)
class Step:
    """One step of a scenario: its action, its typed body, and where it stands."""

    action: str
    body: Any
    line: int
    path: Path


@dataclass(frozen=True)
class Scenario:
    name: str
    line: int
    path: Path
    start: Start
    start_line: int
    steps: list[Step]
    stubs: list[Stub]
    now: dt.datetime
    zone: dt.tzinfo


@dataclass(frozen=True)
class ScenarioFile:
    path: str
    orchestration: str
    version: int | None
    setup: Setup
    scenarios: list[Scenario]
    now: dt.datetime
    zone: dt.tzinfo
    raw: RawDefinition = field(repr=False)

    @property
    def folder(self) -> FilePath:
        return FilePath(self.path).resolve().parent

    def resolve(self, relative: str) -> str:
        """A path written in the file, relative to the file."""
        return str((self.folder / relative).resolve())

    def line_of(self, path: Path) -> int:
        return self.raw.line_of(path) or 1

    @property
    def names_a_file(self) -> bool:
        return self.orchestration.endswith((".yaml", ".yml", ".json")) or "/" in self.orchestration


# ---------------------------------------------------------------- moments and durations


def parse_moment(value: Any, zone: dt.tzinfo | None = None) -> dt.datetime:
    """``2026-03-06T15:00 Europe/London`` (a zone name or offset may follow; else ``zone``,
    else UTC) → an aware datetime. YAML may have read it as a date or datetime already."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        text, _, name = value.strip().partition(" ")
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"'{value}' is not a moment; write e.g. 2026-03-06T15:00 Europe/London"
            ) from None
        if name.strip():
            zone = zone_named(name.strip())
            moment = moment.replace(tzinfo=None)
    else:
        raise ValueError(
            f"{json.dumps(value, default=str)} is not a moment (e.g. 2026-03-06T15:00)"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone or dt.UTC)
    return moment


def zone_named(name: str) -> dt.tzinfo:
    if name.upper() in ("UTC", "Z"):
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{name}' is not a known time zone (e.g. Europe/London)") from None


def _zone_of(value: Any) -> dt.tzinfo:
    if isinstance(value, str) and " " in value.strip():
        return zone_named(value.strip().partition(" ")[2].strip())
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.tzinfo
    return dt.UTC


def check_duration(text: str) -> str:
    parse_duration(text)
    return text


# ---------------------------------------------------------------- reading


def _shape_problems(exc: ValidationError, prefix: Path) -> list[Problem]:
    problems = []
    for error in exc.errors():
        path: Path = (
            *prefix,
            *(p for p in error["loc"] if not str(p).startswith(("function-", "union["))),
        )
        kind = error["type"]
        if kind == "missing":
            problems.append(Problem(path[:-1], f"missing required field '{path[-1]}'"))
        elif kind == "extra_forbidden":
            problems.append(Problem(path, f"unknown field '{path[-1]}'"))
        elif kind in ("literal_error", "enum"):
            expected = (error.get("ctx") or {}).get("expected")
            problems.append(
                Problem(
                    path, f"{json.dumps(error.get('input'), default=str)} is not one of {expected}"
                )
            )
        else:
            shown = json.dumps(error.get("input"), default=str)[:60]
            problems.append(Problem(path, f"{error['msg']} (got {shown})"))
    return _dedupe(problems)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """A value that fits none of a union's shapes gives one problem per shape: keep the first
    for each place."""
    seen: set[tuple[Path, str]] = set()
    out = []
    for problem in problems:
        if (problem.path, problem.message) in seen:
            continue
        seen.add((problem.path, problem.message))
        out.append(problem)
    return out


def _step(item: Any, path: Path, problems: list[Problem], raw: RawDefinition) -> Step | None:
    if not isinstance(item, dict) or not item:
        problems.append(Problem(path, "a step is a mapping with one action, e.g. advance: 2 hours"))
        return None
    names = list(item)
    actions = [n for n in names if n in ACTIONS]
    unknown = [n for n in names if n not in ACTIONS]
    for name in unknown:
        problems.append(
            Problem(
                (*path, str(name)),
                f"'{name}' is not a step{did_you_mean(str(name), ACTIONS)}; use one of "
                f"{', '.join(ACTIONS)}",
            )
        )
    if len(actions) > 1:
        problems.append(Problem(path, f"one action per step, not {', '.join(actions)}"))
    if len(actions) != 1 or unknown:
        return None
    action = actions[0]
    body = item[action]
    where = (*path, action)
    model = ACTIONS[action]
    if action == "run_background":
        if not isinstance(body, str) or not body.strip():
            problems.append(Problem(where, "write run_background: all, or the name of a step"))
            return None
    elif action == "advance" and isinstance(body, str | int | float):
        body = {"by": str(body)}
    if model is not None:
        if body is None:
            body = {}
        try:
            body = model.model_validate(body)
        except ValidationError as exc:
            problems.extend(_shape_problems(exc, where))
            return None
    if isinstance(body, Advance):
        problems.extend(_advance_problems(body, where))
    line = raw.line_of(path) or 1
    return Step(action, body, line, path)


def _advance_problems(body: Advance, where: Path) -> list[Problem]:
    if (body.by is None) == (body.until is None):
        return [Problem(where, "say how far: advance: 2 hours, or advance: {until: …}")]
    if body.by is not None:
        try:
            check_duration(body.by)
        except ValueError as exc:
            return [Problem((*where, "by"), str(exc))]
        if parse_duration(body.by).amount < 0:
            return [Problem((*where, "by"), f"'{body.by}': time only moves forward")]
    elif isinstance(body.until, str) and body.until.strip() in ("next timer", "done"):
        return []
    else:
        try:
            parse_moment(body.until)
        except ValueError as exc:
            return [Problem((*where, "until"), f"{exc}, or 'next timer', or 'done'")]
    return []


def _stub_problems(stubs: list[Stub], where: Path) -> list[Problem]:
    problems = []
    for index, stub in enumerate(stubs):
        if stub.delay is not None:
            try:
                check_duration(stub.delay)
            except ValueError as exc:
                problems.append(Problem((*where, index, "delay"), str(exc)))
        if not (stub.step or stub.action or stub.url):
            problems.append(
                Problem((*where, index), "say which calls the stub answers: step, action or url")
            )
    return problems


def validate(raw: RawDefinition, source: str) -> ScenarioFile:
    """The scenario file, or a DefinitionError listing every problem with its place."""
    data = raw.data
    if not isinstance(data, dict):
        raise DefinitionError(
            [Problem((), "a scenario file is a mapping with format, orchestration and scenarios")],
            source,
        )
    problems: list[Problem] = []
    version = data.get("format")
    if version is None:
        problems.append(Problem((), f"missing 'format' (write format: {FORMAT_VERSION})"))
    elif version != FORMAT_VERSION:
        problems.append(
            Problem(
                ("format",), f"format {version!r} is not {FORMAT_VERSION}, the one this Baton reads"
            )
        )
    scenarios_data = data.get("scenarios")
    top = {k: v for k, v in data.items() if k != "scenarios"}
    top["format"] = FORMAT_VERSION
    top["scenarios"] = [{"name": "x"}]
    model: FileModel | None = None
    try:
        model = FileModel.model_validate(top)
    except ValidationError as exc:
        problems.extend(_shape_problems(exc, ()))
    zone: dt.tzinfo = dt.UTC
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    if model is not None:
        problems.extend(_stub_problems(model.setup.stubs, ("setup", "stubs")))
        if model.setup.now is not None:
            try:
                zone = _zone_of(model.setup.now)
                now = parse_moment(model.setup.now)
            except ValueError as exc:
                problems.append(Problem(("setup", "now"), str(exc)))
    scenarios: list[Scenario] = []
    if not isinstance(scenarios_data, list) or not scenarios_data:
        problems.append(Problem(("scenarios",), "list at least one scenario under 'scenarios:'"))
        scenarios_data = []
    names: dict[str, int] = {}
    for index, item in enumerate(scenarios_data):
        path: Path = ("scenarios", index)
        if not isinstance(item, dict):
            problems.append(Problem(path, "a scenario is a mapping with name, start and steps"))
            continue
        shape = {k: v for k, v in item.items() if k != "steps"}
        try:
            scenario = ScenarioModel.model_validate({**shape, "steps": []})
        except ValidationError as exc:
            problems.extend(_shape_problems(exc, path))
            scenario = None
        steps_data = item.get("steps", [])
        steps: list[Step] = []
        if not isinstance(steps_data, list):
            problems.append(Problem((*path, "steps"), "steps are a list"))
            steps_data = []
        for number, entry in enumerate(steps_data):
            step = _step(entry, (*path, "steps", number), problems, raw)
            if step is not None:
                steps.append(step)
        if scenario is None:
            continue
        problems.extend(_stub_problems(scenario.stubs, (*path, "stubs")))
        if scenario.name in names:
            problems.append(
                Problem(
                    (*path, "name"),
                    f"another scenario on line {names[scenario.name]} has this name: give each its own",
                )
            )
        line = raw.line_of(path) or 1
        names.setdefault(scenario.name, line)
        scenario_now, scenario_zone = now, zone
        if scenario.now is not None:
            try:
                scenario_zone = _zone_of(scenario.now)
                scenario_now = parse_moment(scenario.now, zone)
            except ValueError as exc:
                problems.append(Problem((*path, "now"), str(exc)))
        scenarios.append(
            Scenario(
                scenario.name,
                line,
                path,
                scenario.start,
                raw.line_of((*path, "start")) or line,
                steps,
                scenario.stubs,
                scenario_now,
                scenario_zone,
            )
        )
    if problems or model is None:
        raise DefinitionError(_located(raw, problems), source)
    return ScenarioFile(
        source, model.orchestration, model.version, model.setup, scenarios, now, zone, raw
    )


def _located(raw: RawDefinition, problems: list[Problem]) -> list[Problem]:
    located = []
    for p in problems:
        if p.line is None:
            position = raw.position_of(p.path)
            p = Problem(p.path, p.message, *(position or (None, None)))
        located.append(p)
    return sorted(located, key=lambda p: (p.line or 0, p.column or 0))


def load_scenario_file(path: str) -> ScenarioFile:
    """Read and check the shape of a scenario file (names are checked by ``references``)."""
    try:
        raw = read_file(path)
    except DefinitionError as exc:
        raise DefinitionError(exc.problems, path) from None
    return validate(raw, path)


def load_scenario_text(text: str, source: str) -> ScenarioFile:
    try:
        raw = read_text(text, kind="yaml")
    except DefinitionError as exc:
        raise DefinitionError(exc.problems, source) from None
    return validate(raw, source)


def scenario_schema() -> dict[str, Any]:
    """JSON Schema of scenario files, for editors (steps: one action key each)."""
    schema = FileModel.model_json_schema()
    defs = schema.setdefault("$defs", {})
    step_choices = []
    for name, model in ACTIONS.items():
        if model is None:
            body: dict[str, Any] = {"type": "string", "description": "'all' or a step name"}
        else:
            defs.setdefault(model.__name__, model.model_json_schema(ref_template="#/$defs/{model}"))
            for sub, sub_schema in defs[model.__name__].pop("$defs", {}).items():
                defs.setdefault(sub, sub_schema)
            body = {"$ref": f"#/$defs/{model.__name__}"}
            if name == "advance":
                body = {"anyOf": [body, {"type": "string", "description": "a duration"}]}
        step_choices.append(
            {
                "type": "object",
                "properties": {name: body},
                "required": [name],
                "additionalProperties": False,
            }
        )
    defs["ScenarioModel"]["properties"]["steps"] = {
        "type": "array",
        "items": {"oneOf": step_choices},
    }
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"Baton scenario file (format {FORMAT_VERSION})"
    return schema
