"""Finding the metadata in what the admin named: files, a flows/ folder, or a project.

MDAPI projects keep ``flows/NAME.flow`` and ``objects/NAME.object``; SFDX projects keep
``…/flows/NAME.flow-meta.xml`` and ``…/objects/NAME/fields/FIELD.field-meta.xml``. Every
flow found is indexed by its API name, so an orchestration's steps find the screen and
autolaunched flows they run beside it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from engine.salesforce.report import FileReport, Outcome
from engine.salesforce.xml import BadXml, Node, parse_file

MAX_FILES = 20_000
_VERSION = re.compile(r"^(?P<name>.+?)-(?P<version>\d+)$")
ORCHESTRATIONS = ("Orchestrator", "ApprovalWorkflow")


@dataclass
class FlowFile:
    name: str
    path: str
    root: Node
    version: int = 0

    @property
    def process_type(self) -> str:
        return self.root.value("processType") or ""


@dataclass
class ObjectFiles:
    name: str
    path: str  # the .object file, or the object's folder in SFDX
    root: Node | None = None  # CustomObject
    fields: list[tuple[str, Node]] = field(default_factory=list)  # (file, CustomField)


@dataclass
class Project:
    flows: dict[str, FlowFile] = field(default_factory=dict)
    objects: dict[str, ObjectFiles] = field(default_factory=dict)
    named: list[str] = field(default_factory=list)  # flows the admin asked for, by name
    named_files: set[str] = field(default_factory=set)  # files named one by one
    bad: list[FileReport] = field(default_factory=list)


def _flow_name(path: str) -> tuple[str, int]:
    base = os.path.basename(path)
    for suffix in (".flow-meta.xml", ".flow"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    match = _VERSION.match(base)
    if match:
        return match.group("name"), int(match.group("version"))
    return base, 0


def _kind(path: str) -> str | None:
    base = os.path.basename(path)
    if base.endswith((".flow", ".flow-meta.xml")):
        return "flow"
    if base.endswith((".object", ".object-meta.xml")):
        return "object"
    if base.endswith(".field-meta.xml"):
        return "field"
    return None


def _walk(folder: str, found: list[str]) -> None:
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "node_modules")
        for name in sorted(files):
            path = os.path.join(current, name)
            if _kind(path):
                found.append(path)
                if len(found) > MAX_FILES:
                    return


def discover(paths: list[str]) -> Project:
    """Read every metadata file under ``paths``; unreadable files become reports."""
    project = Project()
    files: list[str] = []
    named: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            before = len(files)
            _walk(path, files)
            named += [p for p in files[before:] if _kind(p) == "flow"]
        elif os.path.exists(path):
            if _kind(path) is None:
                report = FileReport(path, "unreadable")
                report.add(
                    "file",
                    Outcome.problem,
                    "",
                    "not a Salesforce flow or object file "
                    "(.flow, .flow-meta.xml, .object, .field-meta.xml)",
                )
                project.bad.append(report)
                continue
            files.append(path)
            named.append(path)
            project.named_files.add(path)
            # The flows beside it are the project its steps' flows come from.
            folder = os.path.dirname(os.path.abspath(path))
            siblings: list[str] = []
            _walk(
                os.path.dirname(folder) if os.path.basename(folder) == "flows" else folder, siblings
            )
            files += [s for s in siblings if os.path.abspath(s) != os.path.abspath(path)]
        else:
            report = FileReport(path, "unreadable")
            report.add("file", Outcome.problem, "", "no such file or folder")
            project.bad.append(report)
    if len(files) > MAX_FILES:
        report = FileReport(paths[0], "unreadable")
        report.add("project", Outcome.problem, "", f"more than {MAX_FILES:,} metadata files")
        project.bad.append(report)
        return project
    seen: set[str] = set()
    named_abs = {os.path.abspath(p) for p in named}
    for path in files:
        key = os.path.abspath(path)
        if key in seen:
            continue
        seen.add(key)
        kind = _kind(path)
        try:
            root = parse_file(path)
        except BadXml as exc:
            report = FileReport(path, "unreadable")
            report.add("file", Outcome.problem, "", exc.message, exc.line)
            if kind != "flow" or key in named_abs:
                project.bad.append(report)
            continue
        if kind == "flow":
            _add_flow(project, path, root, key in named_abs)
        else:
            _add_object(project, path, root, kind or "")
    return project


def _add_flow(project: Project, path: str, root: Node, named: bool) -> None:
    if root.tag != "Flow":
        report = FileReport(path, "unreadable")
        report.add(
            f"<{root.tag}>",
            Outcome.problem,
            "",
            "the file is XML but not a Salesforce Flow (its root element is not <Flow>)",
            root.line,
        )
        project.bad.append(report)
        return
    name, version = _flow_name(path)
    current = project.flows.get(name)
    if current is None or version > current.version:
        project.flows[name] = FlowFile(name, path, root, version)
    if named and name not in project.named:
        project.named.append(name)


def _add_object(project: Project, path: str, root: Node, kind: str) -> None:
    if kind == "field":
        if root.tag != "CustomField":
            return
        folder = os.path.dirname(os.path.dirname(path))  # objects/NAME/fields/X → objects/NAME
        name = os.path.basename(folder)
        entry = project.objects.setdefault(name, ObjectFiles(name, folder))
        entry.fields.append((path, root))
        return
    if root.tag != "CustomObject":
        report = FileReport(path, "unreadable")
        report.add(f"<{root.tag}>", Outcome.problem, "", "not a Salesforce CustomObject", root.line)
        project.bad.append(report)
        return
    base = os.path.basename(path)
    name = base.removesuffix(".object-meta.xml").removesuffix(".object")
    entry = project.objects.setdefault(name, ObjectFiles(name, path))
    entry.root = root
    if kind == "object" and base.endswith(".object"):
        entry.path = path
    entry.fields.extend((path, f) for f in root.all("fields"))
