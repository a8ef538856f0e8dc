"""Delivering the outbox over SMTP.

Messages are written to the outbox in the same transaction as the change that causes them,
so none is lost if the program stops. The sender takes due messages one at a time: each is
claimed under a short lease of its own right before it is sent, and marked sent in its own
transaction the moment the server accepts it. So a slow server never lets a lease lapse under
a message still being sent, and a sender that dies leaves at most the one message it was
sending, due again as soon as that lease runs out. The attempt number fences the claim: a
sender whose lease lapsed and was taken over cannot record its result over the new attempt.

While the server is unreachable nothing is lost: messages wait and are tried again with a
growing delay. A message is sent twice only if the process dies in the instant between the
server's acceptance and that commit; its Message-ID (from the outbox id) lets mail systems
drop such a duplicate.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import random
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from sqlalchemy import bindparam, or_, select

from engine.store.base import utcnow
from engine.store.database import Database
from engine.store.models import SettingRow
from engine.store.prepared import Prepared
from engine.store.rows import OutboxRec, Tx

# One message's lease: long enough for one SMTP exchange, each of whose waits on the server
# is bounded by the connection timeout (see ``exchange_timeout``).
LEASE = dt.timedelta(seconds=60)
# Sending one message waits on the server this many times at most (MAIL, RCPT, DATA, the
# end of the data, and a reset after a refusal); together they must fit in the lease.
WAITS_PER_MESSAGE = 5
MAX_BACKOFF = dt.timedelta(hours=1)
PERMANENT_AFTER = 10  # a message the server keeps refusing outright is given up after this
SECURITY = ("none", "starttls", "ssl")
PASS_LIMIT = 100  # messages looked at in one pass; the next pass takes the rest

_outbox = OutboxRec.table()
DUE = Prepared(
    select(_outbox.c.id)
    .where(
        or_(_outbox.c.status == "pending", _outbox.c.status == "sending"),
        _outbox.c.next_attempt_at <= bindparam("now"),
    )
    .order_by(_outbox.c.next_attempt_at, _outbox.c.id)
    .limit(PASS_LIMIT)
)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: str = "starttls"
    username: str | None = None
    password: str | None = None
    sender: str = "baton@localhost"
    timeout: float = 30.0
    ca_file: str | None = None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> SmtpSettings:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def public(self) -> dict[str, Any]:
        """The settings as they may be shown: never the password."""
        shown = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "password"}
        shown["password"] = "(set)" if self.password else None
        return shown


@dataclass
class MailReport:
    sent: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)


def smtp_settings(db: Database) -> SmtpSettings | None:
    with db.read() as session:
        row = session.get(SettingRow, "smtp")
        return None if row is None else SmtpSettings.from_data(dict(row.value))


def exchange_timeout(settings: SmtpSettings, lease: dt.timedelta = LEASE) -> float:
    """How long one wait on the server may take: the configured timeout, but never so long
    that sending one message could outlast its lease (and be taken over while it is sent)."""
    return min(settings.timeout, lease.total_seconds() / WAITS_PER_MESSAGE)


def _backoff(attempts: int) -> dt.timedelta:
    seconds = min(30 * 2 ** max(attempts - 1, 0), MAX_BACKOFF.total_seconds())
    return dt.timedelta(seconds=seconds * random.uniform(0.8, 1.0))


def _connect(settings: SmtpSettings, timeout: float) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=settings.ca_file)
    server: smtplib.SMTP
    if settings.security == "ssl":
        server = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        if settings.security == "starttls":
            server.starttls(context=context)
    if settings.username:
        server.login(settings.username, settings.password or "")
    return server


def _hang_up(server: smtplib.SMTP) -> None:
    try:
        server.quit()
    except (OSError, smtplib.SMTPException):
        server.close()


def _message(row: OutboxRec, settings: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    domain = settings.sender.rpartition("@")[2] or "baton.local"
    message["Message-ID"] = f"<baton-outbox-{row.id}@{domain}>"
    message.set_content(row.body)
    message.add_alternative(html_of(row.body), subtype="html")
    return message


_LINK = re.compile(r"\b(?:baton|https?)://[^\s<>\"')]+")


def html_of(text: str) -> str:
    """The plain text as a small HTML part: the same words, its links clickable."""
    parts, last = [], 0
    for found in _LINK.finditer(text):
        parts.append(html.escape(text[last : found.start()]))
        link = html.escape(found.group(0), quote=True)
        parts.append(f'<a href="{link}">{link}</a>')
        last = found.end()
    parts.append(html.escape(text[last:]))
    body = "".join(parts).replace("\n", "<br>\n")
    return (
        '<!DOCTYPE html><html><body style="font-family: sans-serif; font-size: 14px;">'
        f"{body}</body></html>"
    )


def _is_due(row: OutboxRec, now: dt.datetime) -> bool:
    return row.status in ("pending", "sending") and row.next_attempt_at <= now


def _due_ids(db: Database) -> list[int]:
    with db.read() as session:
        return [r["id"] for r in DUE.rows(Tx.of(session).connection, {"now": utcnow()})]


def _claim(db: Database, message_id: int, lease: dt.timedelta) -> OutboxRec | None:
    """Lease one message for one attempt, if it is still due and nobody else holds it."""
    with db.write() as session:
        now = utcnow()
        found = Tx.of(session).lock_many(OutboxRec, [message_id], skip_locked=True)
        if not found or not _is_due(found[0], now):
            return None
        row = found[0]
        row.status = "sending"
        row.attempts += 1
        row.next_attempt_at = now + lease  # due again, for someone else, if this one dies
        return dataclasses.replace(row)  # a copy, safe after the commit


def _defer(db: Database, ids: list[int], reason: str) -> int:
    """Count an attempt on every message of ``ids`` still due, and let each wait its backoff
    (the server could not be reached, so none was tried one by one)."""
    with db.write() as session:
        now = utcnow()
        rows = Tx.of(session).lock_many(OutboxRec, ids, skip_locked=True)
        due = [r for r in rows if _is_due(r, now)]
        for row in due:
            row.attempts += 1
            row.status = "pending"
            row.last_error = reason[:1000]
            row.next_attempt_at = now + _backoff(row.attempts)
        return len(due)


def _settle(db: Database, claim: OutboxRec, error: str | None, *, permanent: bool = False) -> bool:
    """Record how the attempt ``claim`` ended; False if its lease lapsed and another attempt
    took the message over (that attempt records its own result)."""
    with db.write() as session:
        current = Tx.of(session).get(OutboxRec, claim.id, lock=True)
        if current is None or current.status != "sending" or current.attempts != claim.attempts:
            return False
        if error is None:
            current.status = "sent"
            current.sent_at = utcnow()
            current.last_error = None
        else:
            given_up = permanent and current.attempts >= PERMANENT_AFTER
            current.status = "failed" if given_up else "pending"
            current.last_error = error[:1000]
            current.next_attempt_at = utcnow() + _backoff(current.attempts)
        return True


def send_pending(db: Database, *, lease: dt.timedelta = LEASE) -> MailReport:
    """Send what is due in the outbox, one leased message at a time over one connection;
    keep what cannot be sent for a later try."""
    report = MailReport()
    settings = smtp_settings(db)
    if settings is None:
        return report  # nothing configured: messages wait in the outbox
    ids = _due_ids(db)
    timeout = exchange_timeout(settings, lease)
    server: smtplib.SMTP | None = None
    try:
        for position, message_id in enumerate(ids):
            if server is None:  # connected before the claim: the lease covers the send only
                try:
                    server = _connect(settings, timeout)
                except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
                    reason = f"cannot reach the mail server {settings.host}:{settings.port}: {exc}"
                    report.deferred += _defer(db, ids[position:], reason)
                    report.errors.append(reason)
                    return report
            row = _claim(db, message_id, lease)
            if row is None:
                continue  # another sender has it, or it was sent meanwhile
            try:
                server.send_message(_message(row, settings))
            except smtplib.SMTPRecipientsRefused as exc:
                _settle(db, row, f"the server refused {row.recipient}: {exc}", permanent=True)
                report.deferred += 1
                continue
            except (OSError, smtplib.SMTPServerDisconnected) as exc:
                _settle(db, row, f"sending failed: {exc}")
                report.deferred += 1
                server.close()  # the connection is in no known state: a fresh one for the next
                server = None
                continue
            except smtplib.SMTPException as exc:
                _settle(db, row, f"sending failed: {exc}")
                report.deferred += 1
                continue
            if _settle(db, row, None):
                report.sent += 1
    finally:
        if server is not None:
            _hang_up(server)
    return report


def send_test(settings: SmtpSettings, recipient: str) -> str:
    """Send one test message now, outside the outbox; the server's own words on failure.

    Returns what the server answered on acceptance. Raises ``OSError`` or an
    ``smtplib.SMTPException`` (the caller says which server and why)."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = recipient
    message["Subject"] = "[Baton] Test message"
    message["Date"] = format_datetime(utcnow())
    message.set_content(
        f"This is a test message from Baton, sent through {settings.host}:{settings.port}.\n"
        "If you can read it, Baton's e-mail reaches people."
    )
    server = _connect(settings, settings.timeout)
    try:
        refused = server.send_message(message)
    finally:
        _hang_up(server)
    if refused:  # some recipients refused, the rest accepted: only one recipient here
        raise smtplib.SMTPRecipientsRefused(refused)
    return f"the server {settings.host}:{settings.port} accepted the message to {recipient}"
