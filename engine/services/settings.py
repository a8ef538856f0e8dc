"""Install-wide settings: the SMTP server that delivers Baton's e-mail."""

from __future__ import annotations

import smtplib
import ssl
from typing import Any

from engine.errors import BatonError, InvalidInput
from engine.runtime.mail import SECURITY, SmtpSettings, send_test
from engine.services.context import ServiceContext
from engine.services.permissions import ADMINS
from engine.store.base import utcnow
from engine.store.models import SettingRow


def smtp_problems(host: str, *, port: int, security: str, sender: str) -> dict[str, str]:
    """What is wrong with these mail settings, by field (empty: nothing)."""
    problems: dict[str, str] = {}
    if security not in SECURITY:
        problems["security"] = f"'{security}' is not none, starttls or ssl"
    if not host.strip():
        problems["host"] = "say which mail server to use (--host)"
    if not 0 < port < 65536:
        problems["port"] = f"{port} is not a port number"
    if "@" not in sender:
        problems["sender"] = f"'{sender}' is not an e-mail address to send from"
    return problems


class MailFailed(BatonError):
    """The mail server could not be reached, or refused the message: its own words follow."""


class SettingsService:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    def set_smtp(
        self,
        host: str,
        *,
        port: int = 587,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        sender: str = "baton@localhost",
        timeout: float = 30.0,
        ca_file: str | None = None,
        keep_password: bool = False,
    ) -> dict[str, Any]:
        """Set the mail server (admins). Returns the settings as they may be shown.

        ``keep_password`` keeps the stored password when none is given (a form never shows
        it, so saving the form must not erase it)."""
        problems = smtp_problems(host, port=port, security=security, sender=sender)
        if problems:
            raise InvalidInput(next(iter(problems.values())))
        with self.context.write() as session:
            self.context.require(session, ADMINS, "change settings")
            row = session.get(SettingRow, "smtp")
            if keep_password and password is None and row is not None:
                password = row.value.get("password")
            settings = SmtpSettings(
                host.strip(), port, security, username or None, password, sender, timeout, ca_file
            )
            value = {k: getattr(settings, k) for k in settings.__dataclass_fields__}
            if row is None:
                session.add(
                    SettingRow(
                        key="smtp", value=value, updated_at=utcnow(), updated_by=self.context.actor
                    )
                )
            else:
                row.value = value
                row.updated_at = utcnow()
                row.updated_by = self.context.actor
        return settings.public()

    def check_smtp(self, host: str, *, port: int, security: str, sender: str) -> dict[str, str]:
        """The problems ``set_smtp`` would refuse, by field, for a form that checks as typed."""
        return smtp_problems(host, port=port, security=security, sender=sender)

    def smtp(self) -> dict[str, Any] | None:
        with self.context.read() as session:
            self.context.require(session, ADMINS, "read settings")
            row = session.get(SettingRow, "smtp")
            return None if row is None else SmtpSettings.from_data(dict(row.value)).public()

    def send_test_message(self, recipient: str) -> str:
        """Send a test message to ``recipient`` now through the saved SMTP settings (admins).

        Returns what happened; a server that cannot be reached or refuses raises
        ``MailFailed`` with the server's exact error. Nothing is written to the outbox."""
        if "@" not in recipient.strip():
            raise InvalidInput(f"'{recipient}' is not an e-mail address to send the test to")
        with self.context.read() as session:
            self.context.require(session, ADMINS, "send test messages")
            row = session.get(SettingRow, "smtp")
            if row is None:
                raise InvalidInput("no mail server is set yet: save the SMTP settings first")
            settings = SmtpSettings.from_data(dict(row.value))
        try:  # outside the transaction: the server may be slow
            return send_test(settings, recipient.strip())
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailFailed(
                f"the mail server {settings.host}:{settings.port} refused {recipient}: "
                f"{_server_words(exc)}"
            ) from None
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            raise MailFailed(
                f"the test message could not be sent through {settings.host}:{settings.port}: "
                f"{_server_words(exc)}"
            ) from None


def _server_words(exc: BaseException) -> str:
    """The server's exact error: its code and text where it gave them."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
            for code, text in exc.recipients.values()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error
        words = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        return f"{exc.smtp_code} {words}"
    return str(exc) or type(exc).__name__
