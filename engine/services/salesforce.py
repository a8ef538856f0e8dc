"""Import from Salesforce: convert a project's orchestrations and store what validates.

The command line and the desktop app share this one entry point. Object types are stored
first, so record-triggered orchestrations find their object; a definition is stored only
when it converted without problems and validates (or, with ``drafts``, as a draft with its
problems, for the Designer to fix). One bad file never stops the others.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.errors import Conflict, InvalidInput
from engine.salesforce import ImportReport, Outcome, convert
from engine.services.definitions import DefinitionsService
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
        for object_type in converted.object_types:
            file_report = next(
                f for f in report.files if f.kind == "object type" and f.name == object_type.name
            )
            try:
                self.records.define_type(object_type)
                file_report.stored = "object type"
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
