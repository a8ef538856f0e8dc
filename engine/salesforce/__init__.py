"""Importing Salesforce orchestrations (Flow metadata) as Baton definitions.

``convert(paths)`` reads files, a ``flows/`` folder or a whole MDAPI or SFDX project and
returns, without touching any database, the object types and definitions it made and a
report of every element; ``engine.services.salesforce`` stores them.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from engine.definitions import DefinitionError, Orchestration
from engine.definitions.loading import validate_raw
from engine.definitions.objects import ObjectType
from engine.definitions.problems import format_path
from engine.definitions.reader import RawDefinition
from engine.definitions.review import review
from engine.salesforce.objects import convert_object
from engine.salesforce.orchestrations import convert_orchestration
from engine.salesforce.project import ORCHESTRATIONS, discover
from engine.salesforce.report import FileReport, ImportReport, Outcome

__all__ = ["Converted", "ImportReport", "Outcome", "convert"]

log = logging.getLogger(__name__)


@dataclass
class Converted:
    report: ImportReport
    object_types: list[ObjectType] = field(default_factory=list)
    # name → (the definition when its shape is valid, whether it fully validates)
    definitions: dict[str, tuple[Orchestration | None, bool]] = field(default_factory=dict)


def _element_of(data: dict[str, Any], path: tuple[str | int, ...]) -> str:
    """'stage credit_check, step legal' for a validation problem's path."""
    words = []
    node: Any = data
    part: Any
    for part in path:
        node = node[part] if isinstance(node, dict | list) and _has(node, part) else None
        if (
            isinstance(node, dict)
            and isinstance(node.get("name"), str)
            and ("kind" in node or "when" in node)
        ):
            words.append(f"{node.get('kind', 'outcome')} {node['name']}")
    return ", ".join(words)


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, list):
        return isinstance(part, int) and 0 <= part < len(node)
    return part in node


def check(report: FileReport) -> tuple[Orchestration | None, bool]:
    """Validate the converted definition; every problem becomes a report entry."""
    data = report.definition
    if data is None:
        return None, False
    plain = json.loads(json.dumps(data))
    shaped: Orchestration | None = None
    try:
        shaped = Orchestration.model_validate(plain)
    except ValidationError:
        shaped = None
    valid = False
    try:
        validate_raw(RawDefinition(plain))
        valid = True
    except DefinitionError as exc:
        for problem in exc.problems:
            where = _element_of(plain, problem.path) or format_path(problem.path)
            report.add(
                f"Baton validation: {where}",
                Outcome.problem,
                format_path(problem.path),
                problem.message,
            )
    if shaped is not None:
        for finding in review(shaped):
            report.findings.append(f"{finding.severity.value}: {finding.message} — {finding.fix}")
    return shaped, valid


def convert(paths: list[str]) -> Converted:
    """Everything ``paths`` hold, converted; never raises for bad input."""
    project = discover(paths)
    result = Converted(ImportReport(list(project.bad)))
    for files in project.objects.values():
        data, report = convert_object(files)
        result.report.files.append(report)
        if data is not None:
            try:
                result.object_types.append(ObjectType.model_validate(data))
            except ValidationError as exc:
                for error in exc.errors():
                    report.add("object type", Outcome.problem, "", str(error["msg"]))
    used: set[str] = set()
    for flow in project.flows.values():
        for node in flow.root.walk():
            if node.tag in ("actionName", "entryActionName", "exitActionName", "flowName"):
                used.add(node.text.strip())
    for name in project.named:
        flow = project.flows[name]
        explicit = flow.path in project.named_files
        if flow.process_type not in ORCHESTRATIONS:
            if explicit or name not in used:
                skipped = FileReport(flow.path, "skipped", name)
                outcome = Outcome.problem if explicit else Outcome.not_carried
                skipped.add(
                    f"processType {flow.process_type or '(none)'}",
                    outcome,
                    "",
                    "not an orchestration, and no orchestration here runs it",
                    flow.root.line,
                )
                result.report.files.append(skipped)
            continue
        try:
            report = convert_orchestration(flow, project)
            converted = check(report)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
            # A shape of metadata this importer did not foresee: that file is reported, the
            # others still import.
            log.exception("converting %s failed", flow.path)
            report = FileReport(flow.path, "orchestration", name)
            report.add(
                "file",
                Outcome.problem,
                "",
                f"Baton could not convert this flow "
                f"({type(exc).__name__}: {exc}); please report it",
                flow.root.line,
            )
            converted = (None, False)
        result.report.files.append(report)
        result.definitions[report.name] = converted
    _relative(result.report, paths)
    if not project.named and not project.bad and not project.objects:
        empty = FileReport(", ".join(paths), "skipped")
        empty.add("files", Outcome.problem, "", "no Salesforce flow or object files found")
        result.report.files.append(empty)
    return result


def _relative(report: ImportReport, paths: list[str]) -> None:
    """Files named relative to the folder the admin gave, so the report stays readable."""
    folders = [p if os.path.isdir(p) else os.path.dirname(os.path.abspath(p)) for p in paths]
    folders = [os.path.dirname(f) if os.path.basename(f) == "flows" else f for f in folders]
    try:
        base = os.path.commonpath([os.path.abspath(f or ".") for f in folders])
    except ValueError:  # different drives
        return

    def show(path: str) -> str:
        if not path or (not os.path.isabs(path) and not os.path.exists(path)):
            return path
        relative = os.path.relpath(os.path.abspath(path), base)
        return path if relative.startswith("..") else relative

    for file_report in report.files:
        file_report.file = show(file_report.file)
        file_report.entries = [replace(e, file=show(e.file)) for e in file_report.entries]
