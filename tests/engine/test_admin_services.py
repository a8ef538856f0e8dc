"""What the Admin panel asks of the services: people paged and filtered in SQL, groups
renamed and given an address, queues' open work, test e-mail, and failed mail retried."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.services.baton import Baton
from engine.services.directory import PeopleFilter
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
    second = b.directory.people(limit=10, after=("bob", "bob"))
    assert names(second)[0] == "carol"
    assert names(b.directory.people(limit=2, before=("carol", "carol"))) == ["alice", "bob"]
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


def test_deactivating_can_hand_the_work_on_in_the_same_step(b: Baton) -> None:
    define(b, FLOW)
    run = b.runs.start("flow")
    with pytest.raises(InvalidInput, match="cannot reassign work item"):
        b.directory.deactivate("alice", "left", reassign_to="nobody_here")
    assert b.directory.user("alice").active  # a target that cannot take it changes nothing
    done = b.directory.deactivate("alice", "left", reassign_to="queue:legal")
    assert (done.items_flagged, done.items_reassigned) == (0, 1)
    mine = next(w for w in b.runs.show(run.id).work_items if w.step == "mine")
    assert (mine.assignee_kind, mine.assignee, mine.flag) == ("queue", "legal", None)
    log = [e for e in b.runs.show(run.id).log if e.event == "work_item_reassigned"]
    assert log and "alice was deactivated: left" in (log[0].message or "")


def test_a_new_users_values_are_checked_as_typed_with_the_same_words(b: Baton) -> None:
    assert b.directory.check_user("newbie", email="n@x.org", password="long enough") == {}
    problems = b.directory.check_user("alice", email="nope", password="short", role="boss")
    assert problems == {
        "username": "user 'alice' already exists",
        "email": "'nope' is not an e-mail address",
        "password": "a password needs at least 8 characters",
        "role": "'boss' is not a role; use one of admin, supervisor, user",
    }
    assert "is not a username" in b.directory.check_user("-x")["username"]


def test_a_users_edit_is_refused_when_someone_changed_them_meanwhile(b: Baton) -> None:
    seen = b.directory.user("alice")
    b.directory.update_user("alice", display_name="Alice A.")
    with pytest.raises(Conflict, match="changed by someone else after you opened them"):
        b.directory.update_user("alice", email="a@b.org", if_unchanged=seen)
    assert b.directory.user("alice").email == "alice@example.com"
    fresh = b.directory.user("alice")
    done = b.directory.update_user(
        "alice", display_name="Alice", email="", role="supervisor", if_unchanged=fresh
    )
    assert (done.display_name, done.email, done.role) == ("Alice", None, "supervisor")
    with pytest.raises(Conflict, match="cannot take the admin role from yourself"):
        b.directory.update_user("admin", role="user")
    with pytest.raises(InvalidInput, match="not an e-mail address"):
        b.directory.update_user("alice", email="nope")


def test_saving_the_mail_form_keeps_the_password_it_never_shows(b: Baton) -> None:
    b.settings.set_smtp("mail.x.org", username="baton", password="s3cret!!")
    shown = b.settings.set_smtp("mail.x.org", port=25, username="baton", keep_password=True)
    assert shown["password"] == "(set)" and shown["port"] == 25
    assert b.settings.set_smtp("mail.x.org", username="baton")["password"] is None
    assert b.settings.check_smtp("", port=0, security="tls", sender="x") == {
        "security": "'tls' is not none, starttls or ssl",
        "host": "say which mail server to use (--host)",
        "port": "0 is not a port number",
        "sender": "'x' is not an e-mail address to send from",
    }


def test_a_new_groups_values_are_checked_as_typed(b: Baton) -> None:
    assert b.directory.check_group("queue", "billing", email="bill@x.org") == {}
    assert b.directory.check_group("queue", "legal", email="nope") == {
        "name": "queue 'legal' already exists",
        "email": "'nope' is not an e-mail address",
    }
    assert b.directory.check_group("group", "legal") == {}  # a group may share a queue's name
    assert "is not a queue name" in b.directory.check_group("queue", "a b")["name"]
    with pytest.raises(InvalidInput, match="not an e-mail address"):
        b.directory.create_group("queue", "billing", email="nope")


def test_a_calendar_is_previewed_as_the_form_shows_it_before_it_is_saved(b: Baton) -> None:
    monday_10 = dt.datetime(2026, 12, 7, 10, tzinfo=dt.UTC)  # London is on UTC in December
    hours = {"mon": [["09:00", "12:30"], ["13:30", "17:30"]], "tue": [["09:00", "17:00"]]}
    due = b.calendars.preview(
        monday_10, "1 business day", timezone="Europe/London", hours=hours, hours_per_day=7.5
    )
    assert due == dt.datetime(2026, 12, 8, 10, tzinfo=dt.UTC)  # 6.5 h Monday, 1 h Tuesday
    skipped = b.calendars.preview(
        monday_10, "1 business day", timezone="UTC", hours=hours, holidays=("2026-12-08",)
    )
    assert skipped.date() == dt.date(2026, 12, 14)  # Tuesday is a holiday: the next Monday
    for wrong, words in [
        ({"timezone": "Mars/Base"}, "'Mars/Base' is not a known time zone"),
        ({"hours": {"mon": [["09:00"]]}}, "write each interval as"),
        ({"hours": {}}, "has no working hours on any day"),
        ({"hours_per_day": 0}, "a business day must be 0–24 hours long"),
    ]:
        spec: dict[str, Any] = {"timezone": "UTC", "hours": hours, **wrong}
        with pytest.raises(InvalidInput, match=words):
            b.calendars.preview(monday_10, "1 business day", **spec)
    with pytest.raises(InvalidInput, match="'2 busness days' is not a duration"):
        b.calendars.preview(monday_10, "2 busness days", timezone="UTC", hours=hours)
    assert b.calendars.list() == []  # nothing was saved
