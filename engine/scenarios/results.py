"""What running a scenario gives: passed or failed, where, what happened, and what it reached."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from engine.services.dto import LogEntry


@dataclass(frozen=True)
class Failure:
    line: int
    expectation: str  # the step as the file says it
    happened: list[str]  # what was found instead
    history: list[str]  # the run's log up to the failure

    def describe(self, path: str) -> str:
        lines = [f"{path}:{self.line}: {self.expectation}"]
        lines += [f"    {h}" for h in self.happened]
        if self.history:
            lines.append("  history:")
            lines += [f"    {h}" for h in self.history]
        return "\n".join(lines)


@dataclass(frozen=True)
class ScenarioResult:
    file: str
    name: str
    line: int
    orchestration: str
    passed: bool
    seconds: float
    failure: Failure | None = None
    path: list[str] = field(default_factory=list)  # elements the run entered, in order
    reached: frozenset[str] = frozenset()  # coverage keys (see engine.scenarios.coverage)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def history_lines(entries: list[LogEntry], zone: dt.tzinfo) -> list[str]:
    out = []
    for entry in entries:
        where = ".".join(p for p in (entry.stage, entry.step) if p)
        text = f"{entry.at.astimezone(zone):%Y-%m-%d %H:%M} {entry.event}"
        if where:
            text += f" {where}"
        if entry.actor:
            text += f" by {entry.actor}"
        if entry.message:
            text += f": {entry.message}"
        out.append(text)
    return out
