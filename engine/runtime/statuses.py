"""Moved to ``engine.statuses`` (shared by every layer and the app); kept for old imports."""

from engine.statuses import (
    PRIORITIES,
    PRIORITY_NAMES,
    RunStatus,
    StageStatus,
    StepStatus,
    WorkStatus,
)

__all__ = ["PRIORITIES", "PRIORITY_NAMES", "RunStatus", "StageStatus", "StepStatus", "WorkStatus"]
