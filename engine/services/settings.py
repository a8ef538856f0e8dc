"""Install-wide settings: the SMTP server that delivers Baton's e-mail."""

from __future__ import annotations

from typing import Any

from engine.runtime.mail import SECURITY, SmtpSettings
from engine.services.context import ServiceContext
from engine.services.errors import InvalidInput
from engine.services.permissions import ADMINS
from engine.store.base import utcnow
from engine.store.models import SettingRow


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
    ) -> dict[str, Any]:
        """Set the mail server (admins). Returns the settings as they may be shown."""
        if security not in SECURITY:
            raise InvalidInput(f"'{security}' is not none, starttls or ssl")
        if not host.strip():
            raise InvalidInput("say which mail server to use (--host)")
        if not 0 < port < 65536:
            raise InvalidInput(f"{port} is not a port number")
        if "@" not in sender:
            raise InvalidInput(f"'{sender}' is not an e-mail address to send from")
        settings = SmtpSettings(
            host.strip(), port, security, username, password, sender, timeout, ca_file
        )
        with self.context.write() as session:
            self.context.require(session, ADMINS, "change settings")
            row = session.get(SettingRow, "smtp")
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

    def smtp(self) -> dict[str, Any] | None:
        with self.context.read() as session:
            self.context.require(session, ADMINS, "read settings")
            row = session.get(SettingRow, "smtp")
            return None if row is None else SmtpSettings.from_data(dict(row.value)).public()
