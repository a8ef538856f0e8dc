"""Status values, exactly as SPEC.md names them."""

from __future__ import annotations

from typing import Final


class RunStatus:
    IN_PROGRESS: Final = "InProgress"
    SUSPENDED: Final = "Suspended"
    COMPLETED: Final = "Completed"
    CANCELED: Final = "Canceled"
    ERROR: Final = "Error"
    ALL: Final = (IN_PROGRESS, SUSPENDED, COMPLETED, CANCELED, ERROR)
    FINISHED: Final = (COMPLETED, CANCELED, ERROR)


class StageStatus:
    IN_PROGRESS: Final = "InProgress"
    COMPLETED: Final = "Completed"
    SUSPENDED: Final = "Suspended"
    DISCONTINUED: Final = "Discontinued"
    CANCELED: Final = "Canceled"
    ERROR: Final = "Error"


class StepStatus:
    NOT_STARTED: Final = "NotStarted"
    IN_PROGRESS: Final = "InProgress"
    COMPLETED: Final = "Completed"
    SKIPPED: Final = "Skipped"
    DISCONTINUED: Final = "Discontinued"
    CANCELED: Final = "Canceled"
    ERROR: Final = "Error"
    OPEN: Final = (NOT_STARTED, IN_PROGRESS)
    # What a supervisor's skip can act on (a retry, on the failed ones among them).
    SKIPPABLE: Final = (NOT_STARTED, IN_PROGRESS, ERROR)
    # A step in one of these no longer holds its stage open.
    DONE: Final = (COMPLETED, SKIPPED, DISCONTINUED, CANCELED, ERROR)


class WorkStatus:
    ASSIGNED: Final = "Assigned"
    CLAIMED: Final = "Claimed"
    COMPLETED: Final = "Completed"
    CANCELED: Final = "Canceled"
    OPEN: Final = (ASSIGNED, CLAIMED)


PRIORITIES: Final = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
PRIORITY_NAMES: Final = {v: k for k, v in PRIORITIES.items()}
