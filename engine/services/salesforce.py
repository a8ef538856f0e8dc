"""Import from Salesforce: convert a project's orchestrations and store what validates.

The command line and the desktop app share this one entry point. Object types are stored
first, so record-triggered orchestrations find their object; an object type Baton already
has keeps every field it has (and its label and title), and gains only the fields it lacks,
so importing again never drops what was added in Baton nor changes a field its records
use. A definition is stored only when it converted without problems and validates (or,
with ``drafts``, as a draft with its problems, for the Designer to fix). One bad file never
stops the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.definitions.model import FormField
from engine.definitions.objects import ObjectType
from engine.errors import Conflict, InvalidInput
from engine.salesforce import ImportReport, Outcome, convert
from engine.salesforce.report import FileReport
from engine.services.definitions import DefinitionsService
from engine.services.dto import ObjectTypeInfo
from engine.services.records import RecordsService


class SalesforceService:
    def __init__(self, definitions: DefinitionsService, records: RecordsService) -> None:
        self.definitions = definitions
        self.records = records

    @staticmethod
    def preview(paths: Sequence[str]) -> ImportReport:
        """The report of an import, storing nothing."""
        return convert(list(paths)).report

    def import_paths(
        self, paths: Sequence[str], *, activate: bool = False, drafts: bool = False
    ) -> ImportReport:
        """Convert ``paths`` and store the results; the report says what became of each."""
        converted = convert(list(paths))
        report = converted.report
        existing = {t.name: t for t in self.records.types()} if converted.object_types else {}
        for object_type in converted.object_types:
            file_report = next(
                f for f in report.files if f.kind == "object type" and f.name == object_type.name
            )
            known = existing.get(object_type.name)
            try:
                if known is None:
                    self.records.define_type(object_type)
                    file_report.stored = "object type"
                else:
                    file_report.stored = self._merge(known, object_type, file_report)
            except (InvalidInput, Conflict) as exc:
                file_report.add("object type", Outcome.problem, "", exc.describe())
        for name, (definition, valid) in converted.definitions.items():
            file_report = report.find(name)
            clean = valid and not file_report.problems
            if definition is None or not (clean or drafts):
                continue
            try:
                version = self.definitions.save(definition, activate=activate and clean)
            except (InvalidInput, Conflict) as exc:
                file_report.add("store", Outcome.problem, "", exc.describe())
                continue
            file_report.stored = f"version {version.number} ({version.status})"
            if not clean:
                file_report.stored += " with its problems"
        return report

    def _merge(self, known: ObjectTypeInfo, imported: ObjectType, report: FileReport) -> str:
        """Add to the object type Baton has the fields it lacks; what it has stays as it is,
        and the report says where that differs from Salesforce's. Returns what was stored."""
        have = {f["name"]: f for f in known.fields}
        added = [f for f in imported.fields if f.name not in have]
        for field in imported.fields:
            ours = have.get(field.name)
            differences = [] if ours is None else _differences(ours, field)
            if ours is not None and differences:
                element = f"field {field.name}"
                report.entries[:] = [e for e in report.entries if e.element != element]
                report.add(
                    element,
                    Outcome.approximated,
                    f"field {field.name} ({ours.get('type', 'text')}), as Baton has it",
                    "Baton's object type already has this field and keeps it as it is, so its "
                    "records' values stay valid: " + "; ".join(differences),
                )
        imported_label = imported.label or known.label
        if (known.label, known.title_field) != (imported_label, imported.title_field):
            report.add(
                "label and title",
                Outcome.approximated,
                f"'{known.label}', titled by {known.title_field or 'its id'}, as Baton has it",
                f"Salesforce's are '{imported_label}' and "
                f"{imported.title_field or 'no title field'}",
            )
        if not added:
            return "object type (Baton's, unchanged: it has every field)"
        self.records.define_type(
            ObjectType.model_validate(
                {
                    "name": known.name,
                    "label": known.label,
                    "title_field": known.title_field,
                    "fields": [
                        *known.fields,
                        *(f.model_dump(mode="json", exclude_none=True) for f in added),
                    ],
                }
            )
        )
        names = ", ".join(f.name for f in added)
        return f"object type (Baton's, with {len(added)} field(s) added: {names})"


def _differences(ours: dict[str, Any], theirs: FormField) -> list[str]:
    """How Baton's field differs from Salesforce's, in the report's words."""
    found = []
    kind = ours.get("type", "text")
    if kind != theirs.type:
        found.append(f"its type is {kind}, not {theirs.type}")
    options, their_options = ours.get("options") or [], theirs.options or []
    if options != their_options:
        shown = ", ".join(options) or "none"
        found.append(f"its options are {shown}, not {', '.join(their_options) or 'none'}")
    if bool(ours.get("required")) != theirs.required:
        found.append("it is required" if ours.get("required") else "it is not required")
    return found
