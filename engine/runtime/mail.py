"""Delivering the outbox over SMTP.

Messages are written to the outbox in the same transaction as the change that causes them,
so none is lost if the program stops. The sender claims due messages under a short lease,
sends them, and marks each one sent in its own transaction the moment the server accepts it.
While the server is unreachable nothing is lost: messages wait and are tried again with a
growing delay. A message is sent twice only if the process dies in the instant between the
server's acceptance and that commit; its Message-ID (from the outbox id) lets mail systems
drop such a duplicate.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
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

LEASE = dt.timedelta(minutes=5)
MAX_BACKOFF = dt.timedelta(hours=1)
PERMANENT_AFTER = 10  # a message the server keeps refusing outright is given up after this
SECURITY = ("none", "starttls", "ssl")

_outbox = OutboxRec.table()
DUE = Prepared(
    select(_outbox.c.id)
    .where(
        or_(_outbox.c.status == "pending", _outbox.c.status == "sending"),
        _outbox.c.next_attempt_at <= bindparam("now"),
    )
    .order_by(_outbox.c.next_attempt_at, _outbox.c.id)
    .limit(100)
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


def _backoff(attempts: int) -> dt.timedelta:
    seconds = min(30 * 2 ** max(attempts - 1, 0), MAX_BACKOFF.total_seconds())
    return dt.timedelta(seconds=seconds * random.uniform(0.8, 1.0))


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=settings.ca_file)
    server: smtplib.SMTP
    if settings.security == "ssl":
        server = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        server = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        if settings.security == "starttls":
            server.starttls(context=context)
    if settings.username:
        server.login(settings.username, settings.password or "")
    return server


def _message(row: OutboxRec, settings: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    domain = settings.sender.rpartition("@")[2] or "baton.local"
    message["Message-ID"] = f"<baton-outbox-{row.id}@{domain}>"
    message.set_content(row.body)
    return message


def _claim(db: Database) -> list[OutboxRec]:
    with db.write() as session:
        tx = Tx.of(session)
        now = utcnow()
        ids = [r["id"] for r in DUE.rows(tx.connection, {"now": now})]
        rows = [
            r
            for r in tx.lock_many(OutboxRec, ids, skip_locked=True)
            if r.status in ("pending", "sending") and r.next_attempt_at <= now
        ]
        for row in rows:
            row.status = "sending"
            row.attempts += 1
            row.next_attempt_at = now + LEASE
        return [dataclasses.replace(r) for r in rows]  # copies, safe after the commit


def _settle(db: Database, row: OutboxRec, error: str | None, *, permanent: bool = False) -> None:
    with db.write() as session:
        current = Tx.of(session).get(OutboxRec, row.id, lock=True)
        if current is None or current.status == "sent":
            return
        if error is None:
            current.status = "sent"
            current.sent_at = utcnow()
            current.last_error = None
        else:
            given_up = permanent and current.attempts >= PERMANENT_AFTER
            current.status = "failed" if given_up else "pending"
            current.last_error = error[:1000]
            current.next_attempt_at = utcnow() + _backoff(current.attempts)


def send_pending(db: Database) -> MailReport:
    """Send what is due in the outbox; keep what cannot be sent for a later try."""
    report = MailReport()
    settings = smtp_settings(db)
    if settings is None:
        return report  # nothing configured: messages wait in the outbox
    rows = _claim(db)
    if not rows:
        return report
    try:
        server = _connect(settings)
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        reason = f"cannot reach the mail server {settings.host}:{settings.port}: {exc}"
        for row in rows:
            _settle(db, row, reason)
        report.deferred += len(rows)
        report.errors.append(reason)
        return report
    try:
        for row in rows:
            try:
                server.send_message(_message(row, settings))
            except smtplib.SMTPRecipientsRefused as exc:
                _settle(db, row, f"the server refused {row.recipient}: {exc}", permanent=True)
                report.deferred += 1
                continue
            except (TimeoutError, OSError, smtplib.SMTPException) as exc:
                _settle(db, row, f"sending failed: {exc}")
                report.deferred += 1
                continue
            _settle(db, row, None)
            report.sent += 1
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            server.close()
    return report
