"""What the Admin panel asks of the services: people paged and filtered in SQL, groups
renamed and given an address, queues' open work, test e-mail, and failed mail retried."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine.services.baton import Baton
from engine.services.directory import PeopleFilter
from engine.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.services.settings import MailFailed
from engine.store.models import OutboxRow
from engine.store.rows import OutboxRec, Tx
from tests.conftest import define, people

FLOW = """
format: 1
name: flow
forms: {ok: {fields: [{name: note, type: text}]}}
elements:
  - kind: stage
    name: s
    steps:
      - {kind: interactive, name: queued, form: ok, assignee: {queue: legal}}
      - {kind: interactive, name: mine, form: ok, assignee: {user: alice}}
"""


@pytest.fixture
def b(baton: Baton) -> Baton:
    people(baton)
    return baton


def names(users: list[Any]) -> list[str]:
    return [u.username for u in users]


def test_people_are_paged_and_filtered_in_sql(b: Baton) -> None:
    for number in range(25):
        b.directory.create_user(f"temp_{number:02}", display_name=f"Temp Worker {number}")
    b.directory.create_user("zed", display_name="50%_off Zed")
    assert b.directory.count_people() == 32
    first = b.directory.people(limit=10)
    assert names(first) == sorted(names(b.directory.users()))[:10]
    second = b.directory.people(limit=10, after=("bob", b.directory.person_cursor("bob")[1]))
    assert names(second)[0] == "carol"
    assert names(b.directory.people(limit=3, from_end=True)) == ["temp_23", "temp_24", "zed"]
    # the text matches username, name and e-mail; LIKE's wildcards are plain characters
    assert names(b.directory.people(PeopleFilter(text="WORKER 1"), limit=50))[:2] == [
        "temp_01",
        "temp_10",
    ]
    assert names(b.directory.people(PeopleFilter(text="%_"), limit=50)) == ["zed"]
    assert names(b.directory.people(PeopleFilter(text="carol@example"))) == ["carol"]
    assert b.directory.count_people(PeopleFilter(role="supervisor")) == 1
    b.directory.deactivate("erin", "left")
    assert names(b.directory.people(PeopleFilter(active=False))) == ["erin"]
    assert b.directory.people(PeopleFilter(text="erin"))[0].groups == ["security"]
    with pytest.raises(InvalidInput, match="'boss' is not a role"):
        b.directory.count_people(PeopleFilter(role="boss"))


def test_a_group_is_renamed_and_given_an_address_by_admins_only(b: Baton) -> None:
    group = b.directory.update_group("queue", "legal", label="Legal team", email="legal@x.com")
    assert (group.name, group.label, group.email) == ("legal", "Legal team", "legal@x.com")
    assert b.directory.update_group("queue", "legal", email="").email is None
    with pytest.raises(InvalidInput, match="not an e-mail address"):
        b.directory.update_group("queue", "legal", email="nope")
    with pytest.raises(InvalidInput, match="needs a label"):
        b.directory.update_group("queue", "legal", label="  ")
    with pytest.raises(NotFound, match="no queue named 'legl'"):
        b.directory.update_group("queue", "legl", label="x")
    with pytest.raises(PermissionDenied, match="needs the admin role"):
        b.as_user("carol").directory.update_group("queue", "legal", label="Mine")
    assert b.directory.groups("queue")[0].label == "Legal team"


def test_a_queue_with_work_and_no_active_member_is_warned_about(b: Baton) -> None:
    define(b, FLOW)
    b.runs.start("flow")
    b.runs.start("flow")
    [legal] = b.directory.group_status("queue")
    assert (legal.open_work, legal.active_members, legal.warning) == (2, ["bob", "dave"], None)
    assert b.directory.open_work("alice") == {"claims": 0, "assigned": 2}
    b.directory.deactivate("bob", "left")
    b.directory.deactivate("dave", "left")
    [legal] = b.directory.group_status("queue")
    assert legal.group.members == ["bob", "dave"] and legal.active_members == []
    assert legal.warning and "2 open work item(s)" in legal.warning
    assert "no active members" in legal.warning
    [security] = b.directory.group_status("group")
    assert security.open_work == 0 and security.warning is None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Refusing:
    def __init__(self) -> None:
        self.received: list[str] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Refusing, int]]:
    handler = Refusing()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def test_a_test_message_is_sent_or_the_servers_words_are_given(b: Baton, smtp: Any) -> None:
    handler, port = smtp
    with pytest.raises(InvalidInput, match="no mail server is set yet"):
        b.settings.send_test_message("alice@example.com")
    b.settings.set_smtp("127.0.0.1", port=port, security="none", sender="baton@example.com")
    said = b.settings.send_test_message("alice@example.com")
    assert "accepted" in said and handler.received == ["alice@example.com"]
    with pytest.raises(MailFailed, match=r"refused nobody@example.com: 550 5\.1\.1 No such"):
        b.settings.send_test_message("nobody@example.com")
    with pytest.raises(InvalidInput, match="not an e-mail address"):
        b.settings.send_test_message("alice")
    with pytest.raises(PermissionDenied):
        b.as_user("carol").settings.send_test_message("alice@example.com")
    b.settings.set_smtp("127.0.0.1", port=_free_port(), security="none", timeout=2)
    with pytest.raises(MailFailed, match=r"could not be sent through 127\.0\.0\.1"):
        b.settings.send_test_message("alice@example.com")
    with b.db.read() as session:
        assert session.scalars(select(OutboxRow)).all() == []  # nothing queued by a test


def test_a_failed_message_is_retried_and_only_a_failed_one(b: Baton) -> None:
    define(b, FLOW)
    b.runs.start("flow")
    assert b.mail.count() == 3 and b.mail.count(status="failed") == 0
    first, second = (m["id"] for m in b.mail.list(limit=2))
    assert [m["id"] for m in b.mail.list(limit=1, offset=1)] == [second]
    with b.db.write() as session:
        row = Tx.of(session).get_one(OutboxRec, first)
        row.status, row.attempts, row.last_error = "failed", 10, "550 no"
    with pytest.raises(Conflict, match=f"message {second} is pending, not failed"):
        b.mail.retry(second)
    with pytest.raises(PermissionDenied):
        b.as_user("alice").mail.retry(first)
    b.mail.retry(first)
    [message] = [m for m in b.mail.list() if m["id"] == first]
    assert (message["status"], message["attempts"]) == ("pending", 0)
    with pytest.raises(NotFound):
        b.mail.retry(99999)
