"""E-mail through a real SMTP server (aiosmtpd on loopback): content, outages, STARTTLS,
slow servers shared by several senders, senders that die."""

from __future__ import annotations

import asyncio
import datetime as dt
import smtplib
import socket
import ssl
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from engine.runtime.mail import (
    LEASE,
    WAITS_PER_MESSAGE,
    SmtpSettings,
    exchange_timeout,
    send_pending,
)
from engine.runtime.notify import queue_email
from engine.services.baton import Baton
from engine.store.database import Database
from engine.store.models import OutboxRow
from tests.conftest import define, people

FLOW = """
format: 1
name: purchase
label: Purchase Approval
forms: {ok: {fields: [{name: note, type: text}]}}
elements:
  - kind: stage
    name: approval
    steps:
      - {kind: interactive, name: approve, label: Approve the purchase, form: ok, assignee: {user: alice}, due: 4 hours}
"""


class Inbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def part(message: Message, content_type: str) -> str:
    """The decoded text of the message's part of ``content_type``."""
    for piece in message.walk():
        if piece.get_content_type() == content_type:
            payload = piece.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError(f"no {content_type} part")


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int, Controller]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port, controller
    controller.stop()


@pytest.fixture
def b(baton: Baton) -> Baton:
    people(baton)
    define(baton, FLOW)
    return baton


def statuses(baton: Baton) -> list[str]:
    with baton.db.read() as session:
        return [r.status for r in session.scalars(select(OutboxRow).order_by(OutboxRow.id))]


def test_assignment_mail_is_delivered_and_useful(b: Baton, smtp: Any) -> None:
    inbox, port, _ = smtp
    b.settings.set_smtp("127.0.0.1", port=port, security="none", sender="baton@example.com")
    run = b.runs.start("purchase")
    assert b.worker.run_once().messages_sent == 1
    [message] = inbox.messages
    assert message["To"] == "alice@example.com"
    assert message["From"] == "baton@example.com"
    assert message["Subject"] == "[Baton] New work: Approve the purchase"
    assert message["Message-ID"].startswith("<baton-outbox-")
    body = part(message, "text/plain")
    item = b.runs.show(run.id).work_items[0]
    assert "Purchase Approval" in body and f"run {run.id}" in body
    assert f"item {item.id}" in body and "Due:" in body
    # The link opens the item in the app, for the person it was meant for; the HTML part
    # says the same with the link clickable.
    link = f"baton://work/{item.id}?for=alice"
    assert link in body
    assert f'<a href="{link}">' in part(message, "text/html")
    assert statuses(b) == ["sent"]
    b.worker.run_once()
    assert len(inbox.messages) == 1  # never twice


def test_nothing_is_lost_while_the_server_is_down(b: Baton, clock: Any) -> None:
    port = free_port()  # nothing listens here yet: the mail server is down
    b.settings.set_smtp("127.0.0.1", port=port, security="none", sender="baton@example.com")
    b.runs.start("purchase")
    b.runs.start("purchase")
    report = b.worker.run_once()
    assert report.messages_sent == 0
    assert any("cannot reach the mail server" in e for e in report.errors)
    assert statuses(b) == ["pending", "pending"]
    with b.db.read() as session:
        rows = session.scalars(select(OutboxRow)).all()
        assert all(r.attempts == 1 and "cannot reach" in (r.last_error or "") for r in rows)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()  # the server is back
    try:
        assert b.worker.run_once().messages_sent == 0  # each waits for its retry time
        clock.advance(dt.timedelta(minutes=2))
        assert b.worker.run_once().messages_sent == 2
        clock.advance(dt.timedelta(hours=2))
        b.worker.run_once()
        assert len(inbox.messages) == 2  # each exactly once
        assert statuses(b) == ["sent", "sent"]
    finally:
        controller.stop()


def test_without_a_mail_server_messages_wait(b: Baton) -> None:
    b.runs.start("purchase")
    assert b.worker.run_once().messages_sent == 0
    assert statuses(b) == ["pending"]
    assert b.mail.list(status="pending")[0]["recipient"] == "alice@example.com"


def test_settings_never_show_the_password(b: Baton) -> None:
    shown = b.settings.set_smtp(
        "mail.example.com", username="baton", password="s3cret!", sender="baton@example.com"
    )
    assert shown["password"] == "(set)"
    assert "s3cret" not in str(b.settings.smtp())


def test_starttls_with_a_private_certificate(b: Baton, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
    )
    controller.start()
    try:
        b.settings.set_smtp(
            "127.0.0.1",
            port=port,
            security="starttls",
            sender="baton@example.com",
            ca_file=str(cert),
        )
        b.runs.start("purchase")
        assert b.worker.run_once().messages_sent == 1
        assert inbox.messages[0]["Subject"] == "[Baton] New work: Approve the purchase"
    finally:
        controller.stop()


def queue(baton: Baton, count: int) -> None:
    with baton.db.write() as session:
        for n in range(count):
            queue_email(session, f"person{n}@example.com", f"message {n}", "Hello.", None)


def unsent(db: Database) -> int:
    with db.read() as session:
        waiting = OutboxRow.status.in_(("pending", "sending"))
        return session.scalar(select(func.count()).select_from(OutboxRow).where(waiting)) or 0


def received_once(inbox: Inbox, count: int) -> None:
    times = Counter(m["Message-ID"] for m in inbox.messages)
    assert len(times) == count
    assert [mid for mid, n in times.items() if n > 1] == []  # never twice


class SlowInbox(Inbox):
    """A server that takes ``seconds`` of the engine's time to accept each message, and says
    when anything happened (a delivery, a sender's pass) to those waiting for progress."""

    def __init__(self, clock: Any, seconds: float) -> None:
        super().__init__()
        self.clock = clock
        self.seconds = seconds
        self.progress = threading.Condition()
        self.steps = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.002)  # slow for real too, so both senders' exchanges overlap
        self.clock.advance(dt.timedelta(seconds=self.seconds))
        answer = await super().handle_DATA(server, session, envelope)
        self.tick()
        return answer

    def tick(self) -> None:
        with self.progress:
            self.steps += 1
            self.progress.notify_all()


def test_two_senders_and_a_slow_server_deliver_each_message_once(b: Baton, clock: Any) -> None:
    # 90 messages at 4 s each take 6 minutes: longer than any one lease. A sender polls again
    # whenever anything happened, as workers sharing a database do.
    count = 90
    inbox, port = SlowInbox(clock, seconds=4), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    b.settings.set_smtp("127.0.0.1", port=port, security="none", sender="baton@example.com")
    queue(b, count)
    failures: list[BaseException] = []

    def sender() -> None:
        other = Baton(b.db.url, actor="admin")  # its own database connection, as a process
        try:
            for _ in range(10 * count):
                seen = inbox.steps
                send_pending(other.db)
                inbox.tick()
                if not unsent(other.db):
                    return
                with inbox.progress:  # until someone else did something (+1: our own pass)
                    inbox.progress.wait_for(lambda after=seen + 1: inbox.steps > after, timeout=10)
            failures.append(AssertionError("the outbox never emptied"))
        except BaseException as exc:
            failures.append(exc)
        finally:
            other.close()

    threads = [threading.Thread(target=sender, name=f"sender-{n}") for n in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
    finally:
        controller.stop()
    assert failures == []
    received_once(inbox, count)
    assert set(statuses(b)) == {"sent"}


class Killed(BaseException):
    """The sending process dies (nothing in it catches this)."""


def test_a_sender_killed_mid_send_leaves_one_message_due_after_its_lease(
    b: Baton, smtp: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, port, _ = smtp
    b.settings.set_smtp("127.0.0.1", port=port, security="none", sender="baton@example.com")
    queue(b, 3)

    def die(*_: Any, **__: Any) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(smtplib.SMTP, "send_message", die)
        with pytest.raises(Killed):
            send_pending(b.db)  # dies while sending the first message
    assert statuses(b) == ["sending", "pending", "pending"]  # only that one was taken
    assert b.worker.run_once().messages_sent == 2
    clock.advance(LEASE - dt.timedelta(seconds=1))
    assert b.worker.run_once().messages_sent == 0  # its lease still holds it
    clock.advance(dt.timedelta(seconds=2))
    assert b.worker.run_once().messages_sent == 1  # due again once its lease lapsed
    received_once(inbox, 3)
    assert statuses(b) == ["sent", "sent", "sent"]
    with b.db.read() as session:
        assert session.scalars(select(OutboxRow.attempts).order_by(OutboxRow.id)).all() == [2, 1, 1]


def test_a_stale_attempt_cannot_mark_a_message_sent_over_a_newer_one(
    b: Baton, smtp: Any, clock: Any
) -> None:
    from engine.runtime.mail import _claim, _settle

    _, port, _ = smtp
    b.settings.set_smtp("127.0.0.1", port=port, security="none", sender="baton@example.com")
    queue(b, 1)
    message_id = b.mail.list()[0]["id"]
    stale = _claim(b.db, message_id, LEASE)
    assert stale is not None
    clock.advance(LEASE + dt.timedelta(seconds=1))  # its sender stopped responding
    fresh = _claim(b.db, message_id, LEASE)
    assert fresh is not None and fresh.attempts == stale.attempts + 1
    assert not _settle(b.db, stale, None)  # fenced: the newer attempt owns the message
    assert statuses(b) == ["sending"]
    assert _settle(b.db, fresh, "sending failed: the line dropped")
    assert statuses(b) == ["pending"]


def test_one_message_cannot_outlast_its_lease_waiting_on_the_server() -> None:
    patient = SmtpSettings("mail.example.com", timeout=300)
    assert exchange_timeout(patient) * WAITS_PER_MESSAGE <= LEASE.total_seconds()
    assert exchange_timeout(SmtpSettings("mail.example.com", timeout=5)) == 5
