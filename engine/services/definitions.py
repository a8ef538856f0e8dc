"""Definitions: validate, import as drafts, activate, export, list, and delete versions."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.definitions import (
    DefinitionError,
    Orchestration,
    json_schema,
    load_data,
    load_file,
    load_text,
    to_data,
    to_json,
    to_yaml,
)
from engine.definitions.diff import Change, diff
from engine.errors import Conflict, InvalidInput, NotFound
from engine.services.context import ServiceContext
from engine.services.dto import OrchestrationInfo, VersionInfo
from engine.services.permissions import ADMINS, ANYONE
from engine.store.base import utcnow
from engine.store.models import OrchestrationRow, RunRow, VersionRow
from engine.text import did_you_mean

DRAFT, ACTIVE, OBSOLETE = "draft", "active", "obsolete"


def definition_error(exc: DefinitionError) -> InvalidInput:
    count = len(exc.problems)
    where = f" in {exc.source}" if exc.source else ""
    noun = "problem" if count == 1 else "problems"
    return InvalidInput(
        f"the definition{where} has {count} {noun}",
        [p.describe() for p in exc.problems],
    )


def checksum(orchestration: Orchestration) -> str:
    text = json.dumps(to_data(orchestration), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _version_info(row: VersionRow, name: str, runs: int = 0) -> VersionInfo:
    return VersionInfo(
        orchestration=name,
        number=row.number,
        status=row.status,
        created_at=row.created_at,
        created_by=row.created_by,
        activated_at=row.activated_at,
        activated_by=row.activated_by,
        checksum=row.checksum,
        runs=runs,
    )


def find_orchestration(session: Session, name: str) -> OrchestrationRow:
    row = session.scalar(select(OrchestrationRow).where(OrchestrationRow.name == name))
    if row is None:
        names = session.scalars(select(OrchestrationRow.name)).all()
        raise NotFound(f"no orchestration named '{name}'{did_you_mean(name, names)}")
    return row


def find_version(session: Session, name: str, number: int | None = None) -> VersionRow:
    """Version ``number`` of ``name``; without a number, the latest."""
    orchestration = find_orchestration(session, name)
    query = select(VersionRow).where(VersionRow.orchestration_id == orchestration.id)
    if number is None:
        row = session.scalar(query.order_by(VersionRow.number.desc()).limit(1))
    else:
        row = session.scalar(query.where(VersionRow.number == number))
    if row is None:
        raise NotFound(f"orchestration '{name}' has no version {number}")
    return row


class DefinitionsService:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    # ------------------------------------------------------------ no database needed

    @staticmethod
    def validate_file(path: str) -> Orchestration:
        """Load and validate a file; raises InvalidInput listing every problem."""
        try:
            return load_file(path)
        except DefinitionError as exc:
            raise definition_error(exc) from None

    @staticmethod
    def validate_text(
        text: str, *, kind: str | None = None, source: str | None = None
    ) -> Orchestration:
        try:
            return load_text(text, kind=kind, source=source)
        except DefinitionError as exc:
            raise definition_error(exc) from None

    @staticmethod
    def schema() -> dict[str, Any]:
        return json_schema()

    # ------------------------------------------------------------ versions in the store

    def import_file(self, path: str, *, activate: bool = False) -> VersionInfo:
        return self.save(self.validate_file(path), activate=activate)

    def import_text(
        self, text: str, *, kind: str | None = None, activate: bool = False
    ) -> VersionInfo:
        return self.save(self.validate_text(text, kind=kind), activate=activate)

    def save(
        self, orchestration: Orchestration, *, activate: bool = False, replace_draft: bool = False
    ) -> VersionInfo:
        """Store ``orchestration`` as a new draft version (or reuse an identical latest one).
        With ``replace_draft``, a latest version that is still a draft without runs is
        changed in place (a designer saving its work); active and obsolete versions never
        change."""
        digest = checksum(orchestration)
        with self.context.write() as session:
            self.context.require(session, ADMINS, "import or change orchestrations")
            row = session.scalar(
                select(OrchestrationRow).where(OrchestrationRow.name == orchestration.name)
            )
            if row is None:
                row = OrchestrationRow(
                    name=orchestration.name,
                    label=orchestration.display_label(),
                    type=orchestration.type.value,
                    created_at=utcnow(),
                    created_by=self.context.actor,
                )
                session.add(row)
                session.flush()
            latest = session.scalar(
                select(VersionRow)
                .where(VersionRow.orchestration_id == row.id)
                .order_by(VersionRow.number.desc())
                .limit(1)
            )
            if latest is not None and latest.checksum == digest:
                version = latest
            elif replace_draft and latest is not None and self._open_draft(session, latest):
                version = latest
                version.definition = to_data(orchestration)
                version.checksum = digest
                version.trigger_object = (
                    orchestration.trigger.object if orchestration.trigger else None
                )
                version.created_at = utcnow()
                version.created_by = self.context.actor
            else:
                version = VersionRow(
                    orchestration_id=row.id,
                    number=(latest.number + 1) if latest else 1,
                    status=DRAFT,
                    definition=to_data(orchestration),
                    checksum=digest,
                    trigger_object=orchestration.trigger.object if orchestration.trigger else None,
                    created_at=utcnow(),
                    created_by=self.context.actor,
                )
                session.add(version)
                session.flush()
            row.label = orchestration.display_label()
            row.type = orchestration.type.value
            if activate and version.status != ACTIVE:
                self._activate(session, row, version)
            return _version_info(version, row.name)

    @staticmethod
    def _open_draft(session: Session, version: VersionRow) -> bool:
        if version.status != DRAFT:
            return False
        runs = session.scalar(select(func.count()).where(RunRow.version_id == version.id))
        return not runs

    def activate(self, name: str, number: int | None = None) -> VersionInfo:
        with self.context.write() as session:
            self.context.require(session, ADMINS, "activate orchestration versions")
            version = find_version(session, name, number)
            orchestration = session.get_one(OrchestrationRow, version.orchestration_id)
            if version.status == ACTIVE:
                return _version_info(version, name)
            try:
                load_data(version.definition)
            except DefinitionError as exc:
                raise definition_error(exc) from None
            self._activate(session, orchestration, version)
            return _version_info(version, name)

    def _activate(
        self, session: Session, orchestration: OrchestrationRow, version: VersionRow
    ) -> None:
        for current in session.scalars(
            select(VersionRow).where(
                VersionRow.orchestration_id == orchestration.id, VersionRow.status == ACTIVE
            )
        ):
            current.status = OBSOLETE
        session.flush()
        version.status = ACTIVE
        version.activated_at = utcnow()
        version.activated_by = self.context.actor

    def get(self, name: str, number: int | None = None) -> tuple[VersionInfo, Orchestration]:
        with self.context.read() as session:
            self.context.require(session, ANYONE, "read orchestrations")
            version = find_version(session, name, number)
            definition = load_data(version.definition)
            return _version_info(version, name), definition

    def diff(self, name: str, old: int, new: int) -> list[Change]:
        """What changed from version ``old`` to version ``new`` of ``name``."""
        _, before = self.get(name, old)
        _, after = self.get(name, new)
        return diff(before, after)

    def export(self, name: str, number: int | None = None, *, fmt: str = "yaml") -> str:
        _, definition = self.get(name, number)
        return to_json(definition) if fmt == "json" else to_yaml(definition)

    def list(self) -> list[OrchestrationInfo]:
        with self.context.read() as session:
            self.context.require(session, ANYONE, "list orchestrations")
            run_counts = dict(
                session.execute(
                    select(RunRow.version_id, func.count()).group_by(RunRow.version_id)
                ).all()
            )
            result = []
            for row in session.scalars(select(OrchestrationRow).order_by(OrchestrationRow.name)):
                versions = session.scalars(
                    select(VersionRow)
                    .where(VersionRow.orchestration_id == row.id)
                    .order_by(VersionRow.number)
                ).all()
                infos = [_version_info(v, row.name, run_counts.get(v.id, 0)) for v in versions]
                active = next((v.number for v in versions if v.status == ACTIVE), None)
                result.append(
                    OrchestrationInfo(
                        name=row.name,
                        label=row.label,
                        type=row.type,
                        active_version=active,
                        latest_version=versions[-1].number if versions else 0,
                        versions=infos,
                    )
                )
            return result

    def delete_version(self, name: str, number: int) -> None:
        with self.context.write() as session:
            self.context.require(session, ADMINS, "delete orchestration versions")
            version = find_version(session, name, number)
            runs = session.scalar(select(func.count()).where(RunRow.version_id == version.id))
            if runs:
                raise Conflict(
                    f"version {number} of '{name}' has {runs} run(s) and is kept for them; "
                    "it cannot be deleted"
                )
            if version.status == ACTIVE:
                raise Conflict(
                    f"version {number} of '{name}' is active; activate another version first"
                )
            session.delete(version)
