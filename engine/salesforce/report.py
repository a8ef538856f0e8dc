"""The import report: every Salesforce element and what it became in Baton.

Each entry says whether the element was carried over exactly, approximated (and how), or
not carried over (and why), with the source file and line, so an admin can check the
import element by element instead of trusting it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    exact = "carried over"
    approximated = "approximated"
    not_carried = "not carried over"
    problem = "problem"


@dataclass(frozen=True)
class Entry:
    element: str  # the Salesforce element, e.g. "stage Credit_Check" or "condition 2"
    outcome: Outcome
    became: str  # what it became in Baton, e.g. "stage credit_check" or an expression
    note: str = ""  # how it was approximated, or why it was not carried over
    file: str = ""
    line: int | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass
class FileReport:
    """One file: an orchestration, an object, or a file that could not be imported."""

    file: str
    kind: str  # "orchestration", "object type", "skipped", "unreadable"
    name: str = ""
    entries: list[Entry] = field(default_factory=list)
    stored: str = ""  # e.g. "version 1 (draft)"; empty when nothing was stored
    findings: list[str] = field(default_factory=list)  # design review, after conversion
    definition: dict[str, Any] | None = None

    def add(
        self,
        element: str,
        outcome: Outcome,
        became: str,
        note: str = "",
        line: int | None = None,
        file: str | None = None,
    ) -> None:
        self.entries.append(Entry(element, outcome, became, note, file or self.file, line))

    @property
    def problems(self) -> list[Entry]:
        return [e for e in self.entries if e.outcome is Outcome.problem]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for e in self.entries if e.outcome is outcome)


@dataclass
class ImportReport:
    files: list[FileReport] = field(default_factory=list)

    def orchestrations(self) -> list[FileReport]:
        return [f for f in self.files if f.kind == "orchestration"]

    def find(self, name: str) -> FileReport:
        return next(f for f in self.files if f.name == name)

    @property
    def ok(self) -> bool:
        return all(not f.problems for f in self.files)

    def to_data(self) -> dict[str, Any]:
        out = []
        for report in self.files:
            data = asdict(report)
            data["entries"] = [{**asdict(e), "outcome": e.outcome.value} for e in report.entries]
            out.append(data)
        return {"files": out}

    def to_json(self) -> str:
        return json.dumps(self.to_data(), indent=2, ensure_ascii=False)

    def to_markdown(self) -> str:
        lines = ["# Import from Salesforce", ""]
        for report in self.files:
            title = f"{report.kind}: {report.name}" if report.name else report.kind
            lines += [f"## {title}", "", f"Source: `{report.file}`"]
            if report.stored:
                lines.append(f"Stored: {report.stored}")
            counts = ", ".join(f"{report.count(o)} {o.value}" for o in Outcome if report.count(o))
            if counts:
                lines.append(f"Elements: {counts}")
            lines.append("")
            if report.entries:
                lines += [
                    "| Salesforce element | outcome | became | how / why | where |",
                    "|---|---|---|---|---|",
                ]
                for e in report.entries:
                    cells = [e.element, e.outcome.value, e.became, e.note, e.where]
                    lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
                lines.append("")
            if report.findings:
                lines.append("Design review:")
                lines += [f"- {f}" for f in report.findings]
                lines.append("")
        return "\n".join(lines)

    def to_text(self) -> str:
        """The report as printed on a terminal: one line per element."""
        lines = []
        for report in self.files:
            title = f"{report.kind} {report.name}".strip()
            stored = f" — stored as {report.stored}" if report.stored else " — not stored"
            if report.kind in ("skipped",):
                stored = ""
            lines.append(f"{report.file}: {title}{stored}")
            for e in report.entries:
                note = f" ({e.note})" if e.note else ""
                became = f" → {e.became}" if e.became else ""
                lines.append(f"  {e.where}: {e.element}: {e.outcome.value}{became}{note}")
            for finding in report.findings:
                lines.append(f"  review: {finding}")
        return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") if text else ""
