"""Scenario files and folders run as a suite: every file checked first (shape and names, every
problem at once), then its scenarios run, in several processes when there are enough of them
to pay for starting the processes."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from engine.definitions import Orchestration, load_file
from engine.definitions.problems import DefinitionError, Problem
from engine.scenarios.coverage import Coverage, coverage_of
from engine.scenarios.format import ScenarioFile, load_scenario_file
from engine.scenarios.references import check_references
from engine.scenarios.results import ScenarioResult
from engine.scenarios.runner import run_scenarios
from engine.scenarios.setup import World, build_world
from engine.services.baton import Baton

# Below this many scenarios one process is quicker than starting others.
PARALLEL_FROM = 24
SUFFIXES = (".yaml", ".yml")


@dataclass
class Suite:
    """Checked scenario files, ready to run; ``problems`` holds the files that were refused."""

    files: list[ScenarioFile] = field(default_factory=list)
    problems: list[DefinitionError] = field(default_factory=list)
    worlds: dict[str, World] = field(default_factory=dict)  # by file path
    definition: Orchestration | None = None  # tested instead of the files' own
    folder: tempfile.TemporaryDirectory[str] = field(
        default_factory=lambda: tempfile.TemporaryDirectory(prefix="baton-test-")
    )

    @property
    def count(self) -> int:
        return sum(len(f.scenarios) for f in self.files)

    def close(self) -> None:
        self.folder.cleanup()


def is_scenario_file(path: Path) -> bool:
    """A YAML file whose top level names an orchestration and lists scenarios."""
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:20000]
    except OSError:
        return False
    return "\nscenarios:" in f"\n{head}" and "\norchestration:" in f"\n{head}"


def find_files(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """Scenario files among ``paths`` (folders searched in depth), and paths that are missing."""
    found: list[str] = []
    missing: list[str] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found += [str(p) for p in _yaml_files(path) if is_scenario_file(p)]
        elif path.is_file():
            found.append(str(path))
        else:
            missing.append(given)
    return list(dict.fromkeys(found)), missing


def _yaml_files(folder: Path) -> list[Path]:
    """YAML files under ``folder``, in order; folders that vanish or cannot be read while
    they are walked (another program's temporary files) are passed over."""
    out: list[Path] = []
    for root, folders, names in os.walk(folder, onerror=lambda _error: None):
        folders.sort()
        out += [Path(root) / n for n in sorted(names) if n.endswith(SUFFIXES)]
    return [p for p in out if p.is_file()]


def tests_of(file: ScenarioFile, name: str) -> bool:
    """Whether the file tests the orchestration called ``name``."""
    if not file.names_a_file:
        return file.orchestration == name
    try:
        return bool(load_file(file.resolve(file.orchestration)).name == name)
    except DefinitionError:
        return Path(file.orchestration).stem == name


def load_suite(
    paths: Sequence[str],
    source: Baton | None = None,
    *,
    definition: Orchestration | None = None,
) -> tuple[Suite, list[str]]:
    """Read and check every scenario file under ``paths``; the missing paths are returned.

    With ``definition``, only the files testing its orchestration are kept, and they test
    ``definition`` itself (the Designer's draft) rather than the file they name."""
    found, missing = find_files(paths)
    suite = Suite(definition=definition)
    for number, path in enumerate(found):
        folder = Path(suite.folder.name) / f"file-{number}"
        folder.mkdir()
        try:
            file = load_scenario_file(path)
            if definition is not None and not tests_of(file, definition.name):
                continue
            world = build_world(file, str(folder), source, definition)
            check_references(file, world)
        except DefinitionError as exc:
            if exc.source is None:
                exc = DefinitionError(exc.problems, path)
            suite.problems.append(exc)
            continue
        suite.files.append(file)
        suite.worlds[file.path] = world
    return suite, missing


def _run_file(path: str, names: list[str] | None, source_url: str | None) -> list[ScenarioResult]:
    """Run scenarios of one file in this process (a worker process's entry point)."""
    file = load_scenario_file(path)
    source = Baton(source_url) if source_url else None
    try:
        with tempfile.TemporaryDirectory(prefix="baton-test-") as folder:
            world = build_world(file, folder, source)
            return run_scenarios(file, world, names)
    finally:
        if source is not None:
            source.close()


def run_suite(
    suite: Suite, *, jobs: int | None = None, source_url: str | None = None
) -> list[ScenarioResult]:
    """Every scenario of the suite; results in file order, scenarios in file order."""
    if jobs is None:
        jobs = min(os.cpu_count() or 1, 4) if suite.count >= PARALLEL_FROM else 1
    if suite.definition is not None:
        jobs = 1  # the draft lives in this process only
    chunks: list[tuple[str, list[str]]] = []
    for file in suite.files:
        names = [s.name for s in file.scenarios]
        size = max(1, -(-len(names) // jobs))
        chunks += [(file.path, names[i : i + size]) for i in range(0, len(names), size)]
    if jobs <= 1 or len(chunks) <= 1:
        return [
            result
            for file in suite.files
            for result in run_scenarios(file, suite.worlds[file.path])
        ]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_run_file, path, names, source_url) for path, names in chunks]
        return [r for future in futures for r in future.result()]


@dataclass(frozen=True)
class Report:
    """What the Designer's Tests tab shows: each scenario's result (with the path its run
    took), coverage per element, and the files that could not be used."""

    results: list[ScenarioResult]
    coverage: Coverage
    problems: list[DefinitionError]


def run_against(
    definition: Orchestration, paths: Sequence[str], *, source: Baton | None = None
) -> Report:
    """Run the scenarios under ``paths`` that test ``definition``'s orchestration, against
    ``definition`` itself, in this process (call it off the GUI thread)."""
    suite, missing = load_suite(paths, source, definition=definition)
    try:
        results = run_suite(suite, jobs=1)
    finally:
        suite.close()
    problems = [*suite.problems]
    problems += [DefinitionError([Problem((), "no such file or folder")], m) for m in missing]
    return Report(results, coverage_of(definition, results), problems)


__all__ = ["Report", "Suite", "World", "find_files", "load_suite", "run_against", "run_suite"]
