"""JUnit XML, the report CI systems read: one ``testsuite`` per scenario file, one
``testcase`` per scenario, a ``failure`` with the message and the details when it failed.

Only the attributes of the common JUnit schema (xunit2, as Jenkins, GitLab and others read
it) are written, so a strict validator accepts the report: where a scenario stands is in its
failure's message and text, not in attributes of its own."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Sequence
from xml.etree import ElementTree as ET

from engine.definitions.problems import DefinitionError
from engine.scenarios.results import ScenarioResult


def junit_xml(results: Sequence[ScenarioResult], problems: Sequence[DefinitionError] = ()) -> str:
    """The report as text. A file that could not be read is a suite with one errored case."""
    root = ET.Element("testsuites", name="baton test")
    by_file: dict[str, list[ScenarioResult]] = {}
    for result in results:
        by_file.setdefault(result.file, []).append(result)
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None).isoformat()
    host = socket.gethostname()
    total = failures = errors = 0
    seconds = 0.0
    for file, cases in by_file.items():
        failed = [c for c in cases if not c.passed]
        spent = sum(c.seconds for c in cases)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=file,
            tests=str(len(cases)),
            failures=str(len(failed)),
            errors="0",
            skipped="0",
            time=f"{spent:.3f}",
            timestamp=stamp,
            hostname=host,
        )
        for case in cases:
            element = ET.SubElement(
                suite,
                "testcase",
                name=case.name,
                classname=case.orchestration,
                time=f"{case.seconds:.3f}",
            )
            if case.failure is not None:
                failure = ET.SubElement(
                    element,
                    "failure",
                    message=f"line {case.failure.line}: {case.failure.expectation}",
                    type="ScenarioFailed",
                )
                failure.text = case.failure.describe(case.file)
        total += len(cases)
        failures += len(failed)
        seconds += spent
    for problem in problems:
        suite = ET.SubElement(
            root,
            "testsuite",
            name=problem.source or "scenario file",
            tests="1",
            failures="0",
            errors="1",
            skipped="0",
            time="0",
            timestamp=stamp,
            hostname=host,
        )
        unread = ET.SubElement(
            suite, "testcase", name="the file is read", classname="scenario_file", time="0"
        )
        error = ET.SubElement(
            unread,
            "error",
            message=problem.problems[0].describe() if problem.problems else "unreadable",
            type="ScenarioFileError",
        )
        error.text = problem.describe()
        total += 1
        errors += 1
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
