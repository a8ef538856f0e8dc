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
        """Add to the object type Baton has the fields it lacks; what it has stays as it is.
        Returns what was stored, for the report."""
        have = {f["name"]: f for f in known.fields}
        added = [f for f in imported.fields if f.name not in have]
        for field in imported.fields:
            ours = have.get(field.name)
            if ours is not None and ours.get("type", "text") != field.type:
                report.add(
                    f"field {field.name}",
                    Outcome.approximated,
                    f"field {field.name} ({ours.get('type', 'text')}), as Baton has it",
                    f"Baton's object type already has it as {ours.get('type', 'text')}, "
                    f"not {field.type}: kept, so its records' values stay valid",
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
