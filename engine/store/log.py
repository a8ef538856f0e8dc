"""Writing the run log. Always called inside the transaction of the change it records."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.store.base import utcnow
from engine.store.models import LogRow


def write_log(
    session: Session,
    run_id: int,
    event: str,
    *,
    actor: str | None = None,
    stage: str | None = None,
    step: str | None = None,
    work_item_id: int | None = None,
    message: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        LogRow(
            run_id=run_id,
            at=utcnow(),
            actor=actor,
            event=event,
            stage=stage,
            step=step,
            work_item_id=work_item_id,
            message=message,
            details=details,
        )
    )
