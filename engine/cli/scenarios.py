"""``baton test PATH…``: run orchestration scenarios, each in a scratch database with a clock
of its own; one line per scenario, the details of each failure, exit 1 when any fails."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from engine.cli.output import table

WATCH_EVERY = 0.5  # seconds between looks at the files under --watch


def add_parser(groups: Any, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Register ``baton test`` with the command line."""
    p = groups.add_parser(
        "test",
        help="run orchestration scenarios (time travel, stubs, coverage); exit 1 on a failure",
        description="Run every scenario of the files and folders given, each in a fresh "
        "scratch database with its own clock. See docs/testing.md.",
        parents=list(parents),
    )
    p.set_defaults(handler=run_command)
    p.add_argument("paths", nargs="*", metavar="PATH", help="scenario files or folders")
    p.add_argument("--junit", metavar="FILE", help="also write JUnit XML for CI systems")
    p.add_argument(
        "--coverage", action="store_true", help="show which stages, steps and outcomes ran"
    )
    p.add_argument("--watch", action="store_true", help="run again whenever a file changes")
    p.add_argument("--jobs", type=int, metavar="N", help="processes to use (default: automatic)")
    p.add_argument("--schema", action="store_true", help="print the JSON Schema of scenario files")


def _source_url(args: argparse.Namespace) -> str | None:
    return getattr(args, "db", None) or None


def run_once(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    from engine.scenarios.coverage import coverage_of
    from engine.scenarios.junit import junit_xml
    from engine.scenarios.suite import load_suite, run_suite
    from engine.services.baton import Baton

    began = time.perf_counter()
    url = _source_url(args)
    source = Baton(url) if url else None
    try:
        suite, missing = load_suite(args.paths, source)
    finally:
        if source is not None:
            source.close()
    try:
        for path in missing:
            out(f"ERROR {path}: no such file or folder")
        for problem in suite.problems:
            out(f"ERROR {problem.describe()}")
        if not suite.files and not suite.problems and not missing:
            out(f"no scenario files under {', '.join(args.paths)}")
            return 2
        results = run_suite(suite, jobs=args.jobs, source_url=url)
        cwd = Path.cwd()
        for result in results:
            mark = "PASS" if result.passed else "FAIL"
            out(
                f"{mark}  {_short(result.file, cwd)}:{result.line}  {result.name}  ({result.seconds:.2f} s)"
            )
            if result.failure is not None:
                out(result.failure.describe(_short(result.file, cwd)))
        if args.coverage:
            definitions = {
                suite.worlds[f.path].definition.name: suite.worlds[f.path].definition
                for f in suite.files
            }
            for definition in definitions.values():
                _print_coverage(coverage_of(definition, results), out)
        failed = sum(1 for r in results if not r.passed)
        spent = time.perf_counter() - began
        out(
            f"{len(results) - failed} passed, {failed} failed"
            + (
                f", {len(suite.problems) + len(missing)} files refused"
                if suite.problems or missing
                else ""
            )
            + f" in {spent:.1f} s"
        )
        if args.junit:
            Path(args.junit).write_text(junit_xml(results, suite.problems), encoding="utf-8")
        if suite.problems or missing:
            return 2
        return 1 if failed else 0
    finally:
        suite.close()


def _short(path: str, cwd: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(cwd))
    except ValueError:
        return path


def _print_coverage(coverage: Any, out: Callable[[str], None]) -> None:
    out(
        f"coverage of {coverage.orchestration}: {coverage.reached}/{len(coverage.items)} ({coverage.percent:.0f} %)"
    )
    rows = [
        (item.kind, item.element, item.name, len(item.scenarios) or "NOT REACHED")
        for item in coverage.items
    ]
    if out is print:
        table(["kind", "element", "name", "scenarios"], rows)
    else:
        for row in rows:
            out("  ".join(str(v) for v in row))


def _watched(paths: Iterable[str]) -> dict[str, float]:
    """Modification times of every YAML or JSON file under ``paths`` (and their folders'
    definitions, which a scenario names by a relative path)."""
    seen: dict[str, float] = {}
    for given in paths:
        path = Path(given)
        roots = [path] if path.is_dir() else [path.parent]
        for root in roots:
            for folder, _, names in os.walk(root, onerror=lambda _error: None):
                for name in names:
                    if name.endswith((".yaml", ".yml", ".json")):
                        with contextlib.suppress(OSError):
                            seen[str(Path(folder) / name)] = (Path(folder) / name).stat().st_mtime
    return seen


def watch(
    args: argparse.Namespace,
    *,
    runs: int | None = None,
    pause: Callable[[], None] = lambda: time.sleep(WATCH_EVERY),
) -> int:
    """Run, then run again whenever a file changes (``runs`` bounds it, for tests)."""
    code = run_once(args)
    done = 1
    before = _watched(args.paths)
    while runs is None or done < runs:
        pause()
        now = _watched(args.paths)
        if now != before:
            before = now
            print("\n— files changed, running again —")
            code = run_once(args)
            done += 1
    return code


def run_command(args: argparse.Namespace) -> int:
    if args.schema:
        from engine.scenarios.format import scenario_schema

        json.dump(scenario_schema(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not args.paths:
        print(
            "name the scenario files or folders to run, e.g. baton test resources/", file=sys.stderr
        )
        return 2
    if args.jobs is not None and not 1 <= args.jobs <= 64:
        print(f"--jobs {args.jobs}: use 1 to 64 processes", file=sys.stderr)
        return 2
    if args.watch:
        return watch(args)
    return run_once(args)
