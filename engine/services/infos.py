"""Rows as the plain data the services return: items and record titles.

Kept apart from the services that change them, so listing work (the Inbox's page, ``baton
work list``) loads no runtime, definitions or pydantic.
"""

from __future__ import annotations

from engine.services.dto import RecordInfo, WorkItemInfo
from engine.store.models import ObjectTypeRow, RecordRow, WorkItemRow
from engine.store.rows import WorkItemRec


def record_title(row: RecordRow, object_type: ObjectTypeRow) -> str:
    if object_type.title_field and row.data.get(object_type.title_field):
        return str(row.data[object_type.title_field])
    return f"{object_type.label} {row.id}"


def record_info(row: RecordRow, object_type: ObjectTypeRow) -> RecordInfo:
    return RecordInfo(
        id=row.id,
        object_type=object_type.name,
        title=record_title(row, object_type),
        data=dict(row.data),
        owner=row.owner,
        created_at=row.created_at,
        updated_at=row.updated_at,
        row_version=row.row_version,
    )


def work_item_info(row: WorkItemRow | WorkItemRec, orchestration: str) -> WorkItemInfo:
    return WorkItemInfo(
        id=row.id,
        run_id=row.run_id,
        orchestration=orchestration,
        stage=row.stage,
        step=row.step,
        title=row.title,
        status=row.status,
        assignee_kind=row.assignee_kind,
        assignee=row.assignee,
        claimed_by=row.claimed_by,
        priority=row.priority,
        due_at=row.due_at,
        created_at=row.created_at,
        completed_at=row.completed_at,
        completed_by=row.completed_by,
        record_id=row.record_id,
        comment=row.comment,
        values=dict(row.values or {}),
        row_version=row.row_version,
        flag=row.flag,
    )
