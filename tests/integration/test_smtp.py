"""E-mail through a real SMTP server (aiosmtpd on loopback): content, outages, STARTTLS."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import subprocess
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine.services.baton import Baton
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
    body = message.get_payload(decode=True).decode()
    item = b.runs.show(run.id).work_items[0]
    assert "Purchase Approval" in body and f"run {run.id}" in body
    assert f"item {item.id}" in body and "Due:" in body
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
