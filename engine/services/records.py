"""Records and their object types. Saving a record is where record triggers fire."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions.objects import ObjectType, ObjectTypesFile
from engine.errors import Conflict, InvalidInput, NotFound
from engine.runtime import supervision
from engine.runtime.context import record_context
from engine.services.context import ServiceContext
from engine.services.datafiles import read_yaml_file
from engine.services.dto import Data, ObjectTypeInfo, RecordInfo
from engine.services.infos import record_info, record_title
from engine.services.limits import check_text, json_problems, text_problems
from engine.services.permissions import ADMINS, ANYONE, STAFF
from engine.statuses import RunStatus
from engine.store.base import utcnow
from engine.store.changes import note
from engine.store.ids import next_id
from engine.store.log import write_log
from engine.store.models import ObjectTypeRow, RecordRow
from engine.store.rows import RunRec, Tx, WorkItemRec
from engine.text import did_you_mean
from engine.values import ValueProblem, convert

RESERVED_FIELDS = {"id", "owner", "created_at", "updated_at"}
OPEN_RUN_CHOICES = ("cancel", "keep")
_runs = RunRec.table()
_work = WorkItemRec.table()


@dataclass(frozen=True)
class RecordRemoval(Data):
    """What deleting a record did to the runs that were about it."""

    record_id: int
    title: str
    runs_canceled: list[int]
    runs_kept: list[int]  # open runs that go on without their record
    runs_unlinked: int  # every run that pointed at it, finished ones included


# Called inside the saving transaction: (session, record, previous data or None, actor).
RecordHook = Callable[[Session, RecordRow, dict[str, Any] | None, str | None], object]


def _type_info(row: ObjectTypeRow) -> ObjectTypeInfo:
    return ObjectTypeInfo(row.name, row.label, row.title_field, list(row.fields))


def find_type(session: Session, name: str) -> ObjectTypeRow:
    row = session.scalar(select(ObjectTypeRow).where(ObjectTypeRow.name == name))
    if row is None:
        names = session.scalars(select(ObjectTypeRow.name)).all()
        raise NotFound(f"no object type named '{name}'{did_you_mean(name, names)}")
    return row


def _said(error: Any) -> str:
    """A validation problem in words a person reads (a name's pattern spelled out)."""
    if error.get("type") == "string_pattern_mismatch":
        return (
            f"'{error.get('input')}' is not a name: start with a letter, then use letters, "
            "digits or '_' (up to 63)"
        )
    return str(error["msg"])


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

    def check_type(self, data: dict[str, Any]) -> dict[str, str]:
        """What ``define_type_from_data`` would refuse in ``data``, by place ('name',
        'fields.2.options' …), in the definition checker's words (empty: nothing)."""
        try:
            object_type = ObjectType.model_validate(data)
        except ValidationError as exc:
            return {".".join(map(str, e["loc"])) or "type": _said(e) for e in exc.errors()}
        clash = RESERVED_FIELDS & {f.name for f in object_type.fields}
        if clash:
            return {"fields": f"these field names are reserved: {', '.join(sorted(clash))}"}
        return {}

    def define_type_from_data(self, data: dict[str, Any]) -> ObjectTypeInfo:
        """Create or replace an object type written as plain data (what a form or a file's
        ``object_types:`` entry holds); problems come back by place, nothing is saved."""
        problems = self.check_type(data)
        if problems:
            name = data.get("name") if isinstance(data.get("name"), str) else "the object type"
            raise InvalidInput(f"{name} cannot be saved", fields=problems)
        return self.define_type(ObjectType.model_validate(data))

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
        problems: dict[str, str] = {}  # by field, for forms to show each at its field
        clean: dict[str, Any] = {}
        owner: str | None = None
        owner_given = "owner" in values

        def at(name: str, found: list[str]) -> None:
            # The limits name the place as "field" or "field.key": the first is the field.
            for line in found:
                place, _, text = line.partition(": ")
                problems.setdefault(name, text if place.split(".")[0] == name else line)

        for name, raw in values.items():
            if name == "owner":
                owner = None if raw in (None, "") else str(raw)
                continue
            field = fields.get(name)
            if field is None:
                problems[name] = (
                    f"'{object_type.name}' has no field '{name}'{did_you_mean(name, fields)}"
                )
                continue
            try:
                clean[name] = convert(field.get("type", "text"), raw, field.get("options"))
            except ValueProblem as exc:
                problems[name] = str(exc)
                continue
            at(name, json_problems(clean[name], name))
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
                problems.setdefault(name, "is required")
        at("owner", text_problems(RecordRow, {"owner": owner}))
        if problems:
            raise InvalidInput(f"the {object_type.label} cannot be saved", fields=problems)
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

    def delete(
        self, record_id: int, *, open_runs: str | None = None, reason: str = ""
    ) -> RecordRemoval:
        """Delete a record (admins and supervisors), in one transaction.

        Runs about it that are still open (in progress, suspended or failed) need a choice:
        ``open_runs="cancel"`` cancels each with ``reason`` (their work leaves every inbox);
        ``"keep"`` lets them go on without their record. Without a choice, a record with open
        runs is refused, naming them, and nothing changes. Every run that pointed at the
        record keeps its history and a log entry saying the record was deleted."""
        if open_runs is not None and open_runs not in OPEN_RUN_CHOICES:
            raise InvalidInput(f"'{open_runs}' is not what to do with open runs: cancel or keep")
        if open_runs == "cancel" and not reason.strip():
            raise InvalidInput("say why the record's open runs are canceled (a reason is required)")
        with self.context.write() as session:
            who = self.context.require(session, STAFF, "delete records")
            row = session.get(RecordRow, record_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no record with id {record_id}")
            title = record_title(row, session.get_one(ObjectTypeRow, row.object_type_id))
            tx = Tx.of(session)
            runs = tx.query(
                RunRec,
                select(_runs)
                .where(_runs.c.record_id == record_id)
                .order_by(_runs.c.id)
                .with_for_update(),
            )
            still_open = [
                r.id for r in runs if r.status not in (RunStatus.COMPLETED, RunStatus.CANCELED)
            ]
            if still_open and open_runs is None:
                listed = ", ".join(str(i) for i in still_open[:10]) + (
                    " …" if len(still_open) > 10 else ""
                )
                raise Conflict(
                    f"{title} (record {record_id}) has {len(still_open)} open run(s) ({listed}); "
                    "say whether to cancel them (with a reason) or keep them going without it"
                )
            canceled: list[int] = []
            if open_runs == "cancel":
                because = f"record {record_id} ({title}) was deleted: {reason.strip()}"
                for run_id in still_open:
                    supervision.cancel(session, run_id, who.username, because)
                    canceled.append(run_id)
            for run in tx.query(
                RunRec, select(_runs).where(_runs.c.record_id == record_id).with_for_update()
            ):
                run.record_id = None
                write_log(
                    session,
                    run.id,
                    "record_deleted",
                    actor=who.username,
                    message=f"record {record_id} ({title}) was deleted"
                    + (f": {reason.strip()}" if reason.strip() else ""),
                )
            for item in tx.query(
                WorkItemRec, select(_work).where(_work.c.record_id == record_id).with_for_update()
            ):
                item.record_id = None
            tx.flush()  # the runs and their work let go of the record before it goes
            session.delete(row)
            session.flush()
            note(session, "records")
            kept = [] if open_runs == "cancel" else still_open
            return RecordRemoval(record_id, title, canceled, kept, len(runs))
