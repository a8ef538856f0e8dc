"""Records and their object types. Saving a record is where record triggers fire."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions.objects import ObjectType, ObjectTypesFile
from engine.runtime.context import record_context
from engine.services.context import ServiceContext
from engine.services.datafiles import read_yaml_file
from engine.services.dto import ObjectTypeInfo, RecordInfo
from engine.services.errors import Conflict, InvalidInput, NotFound
from engine.services.limits import check_text, json_problems, text_problems
from engine.services.permissions import ADMINS, ANYONE
from engine.store.base import utcnow
from engine.store.changes import note
from engine.store.ids import next_id
from engine.store.models import ObjectTypeRow, RecordRow
from engine.text import did_you_mean
from engine.values import ValueProblem, convert

RESERVED_FIELDS = {"id", "owner", "created_at", "updated_at"}

# Called inside the saving transaction: (session, record, previous data or None, actor).
RecordHook = Callable[[Session, RecordRow, dict[str, Any] | None, str | None], object]


def _type_info(row: ObjectTypeRow) -> ObjectTypeInfo:
    return ObjectTypeInfo(row.name, row.label, row.title_field, list(row.fields))


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


def find_type(session: Session, name: str) -> ObjectTypeRow:
    row = session.scalar(select(ObjectTypeRow).where(ObjectTypeRow.name == name))
    if row is None:
        names = session.scalars(select(ObjectTypeRow.name)).all()
        raise NotFound(f"no object type named '{name}'{did_you_mean(name, names)}")
    return row


class RecordsService:
    def __init__(self, context: ServiceContext, on_saved: RecordHook | None = None) -> None:
        self.context = context
        self.on_saved = on_saved

    # ------------------------------------------------------------ object types

    def define_types_from_file(self, path: str) -> list[ObjectTypeInfo]:
        data = read_yaml_file(path)
        try:
            parsed = ObjectTypesFile.model_validate(data)
        except ValidationError as exc:
            details = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
            raise InvalidInput(f"{path} does not describe object types", details) from None
        return [self.define_type(t) for t in parsed.object_types]

    def define_type(self, object_type: ObjectType) -> ObjectTypeInfo:
        """Create or replace an object type."""
        clash = RESERVED_FIELDS & {f.name for f in object_type.fields}
        if clash:
            raise InvalidInput(
                f"object type '{object_type.name}' uses reserved field names: {sorted(clash)}"
            )
        fields = [f.model_dump(mode="json", exclude_none=True) for f in object_type.fields]
        what = f"object type '{object_type.name}'"
        check_text(
            ObjectTypeRow,
            {
                "name": object_type.name,
                "label": object_type.label,
                "title_field": object_type.title_field,
            },
            what,
        )
        problems = json_problems(fields, "fields")
        if problems:
            raise InvalidInput(f"{what} cannot be saved", problems)
        with self.context.write() as session:
            self.context.require(session, ADMINS, "define object types")
            row = session.scalar(
                select(ObjectTypeRow).where(ObjectTypeRow.name == object_type.name)
            )
            if row is None:
                row = ObjectTypeRow(name=object_type.name, created_at=utcnow())
                session.add(row)
            row.label = object_type.label or object_type.name.replace("_", " ").title()
            row.title_field = object_type.title_field
            row.fields = fields
            session.flush()
            return _type_info(row)

    def types(self) -> list[ObjectTypeInfo]:
        with self.context.read() as session:
            self.context.require(session, ANYONE, "list object types")
            rows = session.scalars(select(ObjectTypeRow).order_by(ObjectTypeRow.name))
            return [_type_info(r) for r in rows]

    # ------------------------------------------------------------ records

    @staticmethod
    def _clean(
        object_type: ObjectTypeRow, values: dict[str, Any], *, creating: bool
    ) -> tuple[dict[str, Any], str | None, bool]:
        """Typed values; the owner if given; whether an owner was given."""
        fields = {f["name"]: f for f in object_type.fields}
        problems: list[str] = []
        clean: dict[str, Any] = {}
        owner: str | None = None
        owner_given = "owner" in values
        for name, raw in values.items():
            if name == "owner":
                owner = None if raw in (None, "") else str(raw)
                continue
            field = fields.get(name)
            if field is None:
                problems.append(
                    f"{name}: '{object_type.name}' has no field '{name}'{did_you_mean(name, fields)}"
                )
                continue
            try:
                clean[name] = convert(field.get("type", "text"), raw, field.get("options"))
            except ValueProblem as exc:
                problems.append(f"{name}: {exc}")
                continue
            problems += json_problems(clean[name], name)
        if creating:
            for name, field in fields.items():
                if name not in clean and field.get("default") is not None:
                    clean[name] = field["default"]
        for name, field in fields.items():
            if (
                field.get("required")
                and (creating or name in clean)
                and clean.get(name) in (None, "")
            ):
                problems.append(f"{name}: is required")
        problems += text_problems(RecordRow, {"owner": owner})
        if problems:
            raise InvalidInput(f"the {object_type.label} cannot be saved", problems)
        return clean, owner, owner_given

    def create(
        self, object_type: str, values: dict[str, Any], *, owner: str | None = None
    ) -> RecordInfo:
        with self.context.write() as session:
            self.context.require(session, ANYONE, "create records")
            type_row = find_type(session, object_type)
            data, given_owner, owner_given = self._clean(type_row, values, creating=True)
            now = utcnow()
            row = RecordRow(
                id=next_id(session, RecordRow),
                object_type_id=type_row.id,
                data=data,
                owner=given_owner if owner_given else (owner or self.context.actor),
                created_at=now,
                created_by=self.context.actor,
                updated_at=now,
                updated_by=self.context.actor,
                row_version=1,
            )
            session.add(row)
            note(session, "records")
            if self.on_saved:
                self.on_saved(session, row, None, self.context.actor)
            return record_info(row, type_row)

    def update(
        self, record_id: int, values: dict[str, Any], *, expected_version: int | None = None
    ) -> RecordInfo:
        with self.context.write() as session:
            self.context.require(session, ANYONE, "change records")
            row = session.get(RecordRow, record_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no record with id {record_id}")
            if expected_version is not None and row.row_version != expected_version:
                raise Conflict(
                    f"record {record_id} was changed by {row.updated_by or 'someone'} at "
                    f"{row.updated_at:%Y-%m-%d %H:%M} UTC after you opened it; reopen it and "
                    "make your change again"
                )
            type_row = session.get_one(ObjectTypeRow, row.object_type_id)
            data, owner, owner_given = self._clean(type_row, values, creating=False)
            previous = record_context(row)
            row.data = {**row.data, **data}
            if owner_given:
                row.owner = owner
            row.updated_at = utcnow()
            row.updated_by = self.context.actor
            row.row_version += 1
            session.flush()
            note(session, "records")
            if self.on_saved:
                self.on_saved(session, row, previous, self.context.actor)
            return record_info(row, type_row)

    def get(self, record_id: int) -> RecordInfo:
        with self.context.read() as session:
            self.context.require(session, ANYONE, "read records")
            row = session.get(RecordRow, record_id)
            if row is None:
                raise NotFound(f"no record with id {record_id}")
            return record_info(row, session.get_one(ObjectTypeRow, row.object_type_id))

    def list(self, object_type: str, *, limit: int = 100, offset: int = 0) -> list[RecordInfo]:
        if limit < 0 or offset < 0:  # SQLite would take a negative limit as "no limit"
            raise InvalidInput("a limit and an offset cannot be negative")
        with self.context.read() as session:
            self.context.require(session, ANYONE, "list records")
            type_row = find_type(session, object_type)
            rows = session.scalars(
                select(RecordRow)
                .where(RecordRow.object_type_id == type_row.id)
                .order_by(RecordRow.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return [record_info(r, type_row) for r in rows]
