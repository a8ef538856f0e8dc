"""A scenario file's world: its definition, people, calendars, record types and records, built
once per file into a template SQLite database that each scenario gets a fresh copy of."""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from engine import files
from engine.clock import Clock, using
from engine.definitions import DefinitionError, Orchestration, load_file
from engine.definitions.objects import ObjectType
from engine.definitions.problems import Problem
from engine.errors import BatonError
from engine.scenarios.format import ScenarioFile
from engine.scenarios.model import Person
from engine.services.baton import Baton


@dataclass
class World:
    """What a file's scenarios run in: the tested definition and the names that exist."""

    definition: Orchestration
    users: dict[str, str] = field(default_factory=dict)  # username → email
    queues: dict[str, list[str]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)  # alias → id
    object_types: dict[str, set[str]] = field(default_factory=dict)  # type → field names
    template: str = ""


def _setup_files(file: ScenarioFile) -> list[DefinitionError]:
    """Every file the setup names must be there: said with its place, before any is read."""
    setup = file.setup
    named: list[tuple[tuple[str | int, ...], str]] = [
        (("setup", key), value)
        for key, value in (
            ("directory", setup.directory),
            ("calendars", setup.calendars),
            ("object_types", setup.object_types),
        )
        if isinstance(value, str)
    ]
    named += [(("setup", "orchestrations", i), p) for i, p in enumerate(setup.orchestrations)]
    return [
        _problem(file, where, f"there is no file {file.resolve(path)}")
        for where, path in named
        if not Path(file.resolve(path)).is_file()
    ]


def _directory(file: ScenarioFile, path: str) -> dict[str, Any]:
    where = ("setup", "directory")
    try:
        data = yaml.safe_load(files.read_text(file.resolve(path)))
    except (files.UnreadableFile, yaml.YAMLError) as exc:
        raise _problem(file, where, f"{path} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise _problem(file, where, f"{path} holds no users:, queues: or groups:")
    return data


def _problem(file: ScenarioFile, where: tuple[str | int, ...], message: str) -> DefinitionError:
    line = file.line_of(where)
    return DefinitionError([Problem(where, message, line)], file.path)


def tested_definition(file: ScenarioFile, source: Baton | None) -> Orchestration:
    """The orchestration the file tests: from its definition file, or stored in ``source``."""
    if file.names_a_file:
        path = file.resolve(file.orchestration)
        if not Path(path).is_file():
            raise _problem(file, ("orchestration",), f"there is no definition file {path}")
        return load_file(path)
    if source is None:
        raise _problem(
            file,
            ("orchestration",),
            f"'{file.orchestration}' names a stored orchestration: give a definition file, "
            "or a database with --db",
        )
    try:
        return source.definitions.get(file.orchestration, file.version)[1]
    except BatonError as exc:
        raise _problem(file, ("orchestration",), exc.message) from None


def _people(file: ScenarioFile, world: World) -> list[Person]:
    setup = file.setup
    people: list[Person] = []
    if setup.directory:
        data = _directory(file, setup.directory)
        try:
            people += [Person.model_validate(u) for u in data.get("users") or []]
            for kind, target in (("queues", world.queues), ("groups", world.groups)):
                for group in data.get(kind) or []:
                    target[str(group["name"])] = [str(m) for m in group.get("members") or []]
        except (ValidationError, KeyError, TypeError, AttributeError) as exc:
            raise _problem(
                file,
                ("setup", "directory"),
                f"{setup.directory}: each user needs a username (and a role), each queue and "
                f"group a name and members ({type(exc).__name__}: {exc})",
            ) from None
    for person in setup.people:
        people.append(Person(username=person) if isinstance(person, str) else person)
    world.queues.update(setup.queues)
    world.groups.update(setup.groups)
    if not any(p.username == "admin" for p in people):
        people.insert(0, Person(username="admin", role="admin"))
    return people


def build_world(
    file: ScenarioFile,
    folder: str,
    source: Baton | None = None,
    definition: Orchestration | None = None,
) -> World:
    """Check the setup and build the template database in ``folder``. ``definition``: test
    this one (e.g. a draft not saved yet) instead of the one the file names."""
    missing = _setup_files(file)
    if missing:
        raise DefinitionError([p for m in missing for p in m.problems], file.path)
    definition = definition or tested_definition(file, source)
    world = World(definition)
    people = _people(file, world)
    path = str(Path(folder) / "template.sqlite3")
    with using(Clock(frozen_at=file.now)):
        baton = Baton(path, upgrade=True)
        try:
            _fill(file, world, baton, people)
        except BatonError as exc:
            raise _problem(file, ("setup",), exc.describe()) from None
        except (ValidationError, ValueError, TypeError) as exc:
            raise _problem(file, ("setup",), f"the setup cannot be used: {exc}") from None
        finally:
            baton.close()
    _checkpoint(path)
    world.template = path
    return world


def _fill(file: ScenarioFile, world: World, baton: Baton, people: list[Person]) -> None:
    system = baton.as_user(None)
    for person in people:
        email = person.email or f"{person.username}@example.com"
        system.directory.create_user(
            person.username, display_name=person.display_name, email=email, role=person.role
        )
        world.users[person.username] = email
    for kind, groups in (("queue", world.queues), ("group", world.groups)):
        for name, members in groups.items():
            system.directory.create_group(kind, name)
            for member in members:
                system.directory.add_member(kind, name, member)
    setup = file.setup
    if isinstance(setup.calendars, str):
        system.calendars.define_from_file(file.resolve(setup.calendars))
    elif setup.calendars:
        for item in setup.calendars:
            _calendar(system, item)
    if setup.calendar:
        _calendar(system, {**setup.calendar, "default": True})
    if isinstance(setup.object_types, str):
        types = system.records.define_types_from_file(file.resolve(setup.object_types))
    else:
        types = [
            system.records.define_type(ObjectType.model_validate(t))
            for t in setup.object_types or []
        ]
    for info in types:
        world.object_types[info.name] = {f["name"] for f in info.fields}
    for alias, spec in setup.records.items():
        record = system.records.create(spec.type, dict(spec.values), owner=spec.owner)
        world.records[alias] = record.id
    for other in setup.orchestrations:
        system.definitions.import_file(file.resolve(other), activate=True)
    system.definitions.save(world.definition, activate=True)


def _calendar(system: Baton, item: dict[str, Any]) -> None:
    spec = dict(item)
    system.calendars.define(
        str(spec.pop("name", "scenario")),
        timezone=str(spec.pop("timezone", "UTC")),
        hours=spec.pop("hours", {}),
        holidays=[str(d) for d in spec.pop("holidays", [])],
        hours_per_day=float(spec.pop("hours_per_day", 8.0)),
        default=bool(spec.pop("default", False)),
    )


def _checkpoint(path: str) -> None:
    """Fold the WAL into the file, so that a plain copy of it is the whole database."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()


def fresh_copy(world: World, path: str) -> str:
    shutil.copyfile(world.template, path)
    return path


def remove_database(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(path + suffix).unlink(missing_ok=True)


class Slot:
    """A database file scenarios take turns in: before each scenario the file is replaced by
    a fresh copy of the template, and the same Baton (its engine, its compiled statements
    and its definition cache) carries on over it, which saves most of a scenario's cost.

    A scenario that stores a version of its own (``intervene: migrate`` with a definition)
    gets a database of its own instead: the definition cache knows versions by number."""

    def __init__(self, world: World, folder: str) -> None:
        self.world = world
        self.path = str(Path(folder) / f"slot-{id(self)}.sqlite3")
        fresh_copy(world, self.path)
        self.baton = Baton(self.path)

    def fresh(self) -> Baton:
        self.baton.db.engine.dispose()  # every connection to the old file closed
        staged = self.path + ".new"
        fresh_copy(self.world, staged)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(self.path + suffix).unlink(missing_ok=True)
        os.replace(staged, self.path)
        return self.baton

    def close(self) -> None:
        self.baton.close()
        remove_database(self.path)
