"""The designer's history overlay: each step's average time and failure rate over the run
history, coloured so bottlenecks show where they are (red: fails often; amber: slowest)."""

from __future__ import annotations

from collections.abc import Sequence

from engine.services.dashboards import StepHealth

FAILING = 0.05  # a step failing more often than this is red
DAYS = 90


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def overlay(
    health: Sequence[StepHealth],
) -> dict[tuple[str | None, str | None], tuple[str, str | None]]:
    """Canvas statuses: (stage, step) → (colour as a status, what the card says)."""
    ran = [h for h in health if h.runs]
    slowest = sorted((h.average_seconds or 0.0 for h in ran), reverse=True)
    cut = slowest[max(0, len(slowest) // 4 - 1)] if slowest else 0.0  # the slowest quarter
    result: dict[tuple[str | None, str | None], tuple[str, str | None]] = {}
    for h in health:
        if not h.runs:
            result[(h.stage, h.step)] = ("Skipped", f"no runs in {DAYS} days")
            continue
        average = h.average_seconds or 0.0
        text = (
            f"{_duration(average)} avg · {h.failure_rate:.1%} failed\n"
            f"over {h.runs:,} runs in the last {DAYS} days"
        )
        if h.failure_rate > FAILING:
            colour = "Error"
        elif average >= cut > 0:
            colour = "Suspended"
        else:
            colour = "Completed"
        result[(h.stage, h.step)] = (colour, text)
    return result
