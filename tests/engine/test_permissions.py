"""Every service operation, tried by every role: allowed ones work; refusals say why and change
nothing in the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.definitions.objects import ObjectType
from engine.errors import PermissionDenied
from engine.services.baton import Baton
from engine.store.base import Base
from tests.conftest import RESOURCES, define, people

FLOW = """
format: 1
name: flow
forms: {ok: {fields: [{name: note, type: text}]}}
elements:
  - kind: stage
    name: s
    steps:
      - {kind: interactive, name: mine, form: ok, assignee: {user: erin}}
      - {kind: interactive, name: theirs, form: ok, assignee: {user: alice}}
"""
ROLES = {"admin": "admin", "supervisor": "carol", "user": "erin"}
ALL = {"admin", "supervisor", "user"}
STAFF = {"admin", "supervisor"}
ADMIN = {"admin"}

Op = Callable[[Baton, dict[str, Any]], object]

OPERATIONS: list[tuple[str, set[str], Op]] = [
    (
        "definitions.import",
        ADMIN,
        lambda b, c: b.definitions.import_text(FLOW.replace("flow", "other")),
    ),
    ("definitions.activate", ADMIN, lambda b, c: b.definitions.activate("draft_flow")),
    (
        "definitions.delete_version",
        ADMIN,
        lambda b, c: b.definitions.delete_version("draft_flow", 1),
    ),
    ("definitions.list", ALL, lambda b, c: b.definitions.list()),
    ("definitions.export", ALL, lambda b, c: b.definitions.export("flow")),
    ("records.define_type", ADMIN, lambda b, c: b.records.define_type(ObjectType(name="memo"))),
    ("records.create", ALL, lambda b, c: b.records.create("ticket", {"subject": "x"})),
    ("records.update", ALL, lambda b, c: b.records.update(c["record"], {"subject": "y"})),
    ("records.list", ALL, lambda b, c: b.records.list("ticket")),
    ("runs.start", ALL, lambda b, c: b.runs.start("flow")),
    ("runs.list", STAFF, lambda b, c: b.runs.list()),
    ("runs.show", STAFF, lambda b, c: b.runs.show(c["run"])),
    ("runs.cancel", STAFF, lambda b, c: b.runs.cancel(c["run"], "no longer needed")),
    ("work.list (own)", ALL, lambda b, c: b.work.list()),
    ("work.list (someone else's)", STAFF, lambda b, c: b.work.list(user="alice")),
    ("work.complete (own)", {"user"}, lambda b, c: b.work.complete(c["mine"], {})),
    (
        "work.reassign (someone else's)",
        STAFF,
        lambda b, c: _only(b.work.reassign([c["theirs"]], "user:bob", "rebalancing")),
    ),
    ("events.publish", STAFF, lambda b, c: b.events.publish("paid", "K-1", {})),
    ("directory.create_user", ADMIN, lambda b, c: b.directory.create_user("zoe")),
    ("directory.create_group", ADMIN, lambda b, c: b.directory.create_group("queue", "ops")),
    ("directory.add_member", ADMIN, lambda b, c: b.directory.add_member("queue", "legal", "erin")),
    ("directory.set_role", ADMIN, lambda b, c: b.directory.set_role("bob", "supervisor")),
    ("directory.deactivate", ADMIN, lambda b, c: b.directory.deactivate("bob", "left")),
    (
        "directory.set_password (someone else's)",
        ADMIN,
        lambda b, c: b.directory.set_password("bob", "a long password"),
    ),
    ("directory.users", ALL, lambda b, c: b.directory.users()),
    (
        "calendars.define",
        ADMIN,
        lambda b, c: b.calendars.define(
            "office", timezone="UTC", hours={"mon": [["09:00", "17:00"]]}
        ),
    ),
    (
        "settings.set_smtp",
        ADMIN,
        lambda b, c: b.settings.set_smtp("mail.example.com", sender="b@example.com"),
    ),
    ("mail.list", STAFF, lambda b, c: b.mail.list()),
    ("worker.run_once", ADMIN, lambda b, c: b.worker.run_once()),
]


def _only(outcomes: Any) -> object:
    """A bulk call reports refusals per item: surface the one refusal as the error it is."""
    [outcome] = outcomes
    if not outcome.done:
        raise PermissionDenied(outcome.message)
    return outcome


def counts(baton: Baton) -> dict[str, int]:
    with baton.db.read() as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in Base.metadata.tables.items()
        }


@pytest.fixture
def world(baton: Baton) -> tuple[Baton, dict[str, Any]]:
    people(baton)
    baton.records.define_type(
        ObjectType.model_validate(
            {"name": "ticket", "fields": [{"name": "subject", "type": "text"}]}
        )
    )
    define(baton, FLOW)
    define(baton, FLOW.replace("name: flow", "name: draft_flow"), activate=False)
    run = baton.runs.start("flow")
    items = {w.step: w.id for w in baton.runs.show(run.id).work_items}
    record = baton.records.create("ticket", {"subject": "x"})
    return baton, {
        "run": run.id,
        "mine": items["mine"],
        "theirs": items["theirs"],
        "record": record.id,
    }


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize(
    ("name", "allowed", "operation"), OPERATIONS, ids=[o[0] for o in OPERATIONS]
)
def test_each_operation_for_each_role(
    world: tuple[Baton, dict[str, Any]], role: str, name: str, allowed: set[str], operation: Op
) -> None:
    baton, context = world
    acting = baton.as_user(ROLES[role])
    if role in allowed:
        operation(acting, context)
        return
    before = counts(baton)
    with baton.db.read() as session:
        from engine.store.models import User, WorkItemRow

        users_before = [
            tuple(r) for r in session.execute(select(User.username, User.role, User.active))
        ]
        items_before = [
            tuple(r) for r in session.execute(select(WorkItemRow.id, WorkItemRow.assignee))
        ]
    with pytest.raises(PermissionDenied) as refused:
        operation(acting, context)
    message = refused.value.message
    assert ROLES[role] in message and "cannot" in message, message
    assert counts(baton) == before
    with baton.db.read() as session:
        from engine.store.models import User, WorkItemRow

        assert [
            tuple(r) for r in session.execute(select(User.username, User.role, User.active))
        ] == users_before
        assert [
            tuple(r) for r in session.execute(select(WorkItemRow.id, WorkItemRow.assignee))
        ] == items_before


def test_people_act_as_themselves(world: tuple[Baton, dict[str, Any]]) -> None:
    baton, context = world
    with pytest.raises(
        PermissionDenied, match="carol \\(supervisor\\) cannot complete work as erin"
    ):
        baton.as_user("carol").work.complete(context["mine"], {}, user="erin")


def test_unknown_and_deactivated_callers_are_refused(world: tuple[Baton, dict[str, Any]]) -> None:
    baton, _ = world
    with pytest.raises(PermissionDenied, match="'mallory' is not a Baton user"):
        baton.as_user("mallory").runs.start("flow")
    baton.directory.deactivate("bob", "left")
    with pytest.raises(PermissionDenied, match="'bob' is deactivated"):
        baton.as_user("bob").records.list("ticket")


def test_resources_exist() -> None:
    assert (RESOURCES / "demo" / "directory.yaml").exists()
