"""Mail: the SMTP settings, a test message whose result (or the server's exact error) is
shown, and the outbox — pending, sent and failed messages, paged — with a retry for the
failed ones."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.admin.common import Checker, Fields, label, refusal, split
from desktop_app.console.paged_model import ROW_ROLE, Column, PagedModel
from desktop_app.session import AppSession
from engine.services.console import Page

SECURITY = ("starttls", "ssl", "none")
STATUSES = ("any", "pending", "sending", "sent", "failed")
OUTBOX_COLUMNS = (
    Column("Id", lambda m: str(m["id"])),
    Column("Status", lambda m: m["status"]),
    Column("To", lambda m: m["recipient"]),
    Column("Subject", lambda m: m["subject"]),
    Column("Attempts", lambda m: str(m["attempts"])),
    Column("Created", lambda m: f"{m['created_at'].astimezone():%d %b %H:%M}"),
    Column(
        "Last error",
        lambda m: m["last_error"] or "",
        tip=lambda m: m["last_error"],
        colour=lambda m: "#c0392b" if m["status"] == "failed" else None,
    ),
)


class SmtpForm(QWidget):
    status = Signal(str)

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields = Fields(form)
        self.host = self._line("host", "Server", "mail.example.com")
        self.port = QSpinBox()
        self.port.setObjectName("smtp_port")
        self.port.setRange(0, 65535)
        self.port.setValue(587)
        self.fields.add("port", "Port", self.port)
        self.security = QComboBox()
        self.security.setObjectName("smtp_security")
        self.security.addItems(list(SECURITY))
        self.fields.add("security", "Security", self.security)
        self.username = self._line("username", "Username", "if the server wants a sign-in")
        self.password = self._line("password", "Password", "")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.send_from = self._line("sender", "Send from", "baton@example.com")
        self.timeout = QDoubleSpinBox()
        self.timeout.setObjectName("smtp_timeout")
        self.timeout.setRange(1, 600)
        self.timeout.setValue(30)
        self.timeout.setSuffix(" s")
        self.fields.add("timeout", "Timeout", self.timeout)
        self.ca_file = self._line("ca_file", "CA file", "a private CA's certificate (PEM), if any")
        self.save = QPushButton("Save mail settings")
        self.save.setObjectName("saveSmtp")
        self.save.setProperty("role", "primary")
        self.save.clicked.connect(self._save)
        self.problem = label(role="error", name="smtpProblem")
        self.problem.hide()
        self.recipient = QLineEdit()
        self.recipient.setObjectName("testRecipient")
        self.recipient.setPlaceholderText("send a test message to…")
        self.test = QPushButton("Send a test message")
        self.test.setObjectName("sendTest")
        self.test.clicked.connect(self._test)
        self.result = label(name="testResult")
        self.result.hide()
        saving = QHBoxLayout()
        saving.addStretch(1)
        saving.addWidget(self.save)
        testing = QHBoxLayout()
        testing.addWidget(self.recipient, 1)
        testing.addWidget(self.test)
        layout = QVBoxLayout(self)
        layout.addWidget(label("Mail server (SMTP)", role="heading"))
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addLayout(saving)
        layout.addLayout(testing)
        layout.addWidget(self.result)
        layout.addStretch(1)
        self.checker = Checker(self._check, self.fields.show)
        self.host.textEdited.connect(self.checker)
        self.send_from.textEdited.connect(self.checker)
        self.port.valueChanged.connect(self.checker)

    def _line(self, name: str, title: str, hint: str) -> QLineEdit:
        line = QLineEdit()
        line.setObjectName(f"smtp_{name}")
        line.setPlaceholderText(hint)
        self.fields.add(name, title, line)
        return line

    def reload(self) -> None:
        tasks.run(self.session.service.settings.smtp, self._show, self._refused)

    def _show(self, smtp: dict[str, Any] | None) -> None:
        if smtp is None:
            self.password.setPlaceholderText("none set")
            return
        self.host.setText(smtp["host"])
        self.port.setValue(int(smtp["port"]))
        self.security.setCurrentText(smtp["security"])
        self.username.setText(smtp["username"] or "")
        self.password.clear()
        self.password.setPlaceholderText(
            "(set — leave empty to keep it)" if smtp["password"] else "none set"
        )
        self.send_from.setText(smtp["sender"])
        self.timeout.setValue(float(smtp["timeout"]))
        self.ca_file.setText(smtp["ca_file"] or "")

    def _values(self) -> dict[str, Any]:
        return {
            "port": self.port.value(),
            "security": self.security.currentText(),
            "sender": self.send_from.text().strip(),
        }

    def _check(self) -> dict[str, str]:
        return self.session.service.settings.check_smtp(self.host.text(), **self._values())

    def _save(self) -> None:
        settings, host, values = self.session.service.settings, self.host.text(), self._values()
        extra: dict[str, Any] = {
            "username": self.username.text().strip() or None,
            "password": self.password.text() or None,
            "timeout": self.timeout.value(),
            "ca_file": self.ca_file.text().strip() or None,
        }
        self.save.setEnabled(False)
        self.problem.hide()

        def done(shown: dict[str, Any]) -> None:
            self.save.setEnabled(True)
            self.fields.show({})
            self._show(shown)
            self.status.emit(f"Saved the mail settings ({shown['host']}:{shown['port']})")

        tasks.run(
            lambda: settings.set_smtp(host, keep_password=True, **values, **extra),
            done,
            self._refused,
        )

    def _refused(self, exc: BaseException) -> None:
        self.save.setEnabled(True)
        self.problem.setText(refusal(exc)[0])
        self.problem.show()

    def _test(self) -> None:
        settings, recipient = self.session.service.settings, self.recipient.text().strip()
        self.test.setEnabled(False)
        self.result.setProperty("role", "muted")
        self.result.setText(f"Sending a test message to {recipient}…")
        self.result.show()
        tasks.run(
            lambda: settings.send_test_message(recipient),
            lambda said: self._tested(f"Sent: {said}.", "muted"),
            lambda exc: self._tested(refusal(exc)[0], "error"),
        )

    def _tested(self, text: str, role: str) -> None:
        self.test.setEnabled(True)
        self.result.setProperty("role", role)
        self.result.setText(text)
        self.result.style().unpolish(self.result)
        self.result.style().polish(self.result)


class OutboxView(QWidget):
    status = Signal(str)

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.filter = QComboBox()
        self.filter.setObjectName("outboxStatus")
        self.filter.addItems(list(STATUSES))
        self.filter.currentIndexChanged.connect(lambda _: self.refilter())
        self.retry = QPushButton("Retry")
        self.retry.setObjectName("retryMessage")
        self.retry.setEnabled(False)
        self.retry.clicked.connect(self._retry)
        self.model = PagedModel(
            OUTBOX_COLUMNS, lambda: 0, lambda how: [], None, key=lambda m: m["id"]
        )
        self.table = QTableView()
        self.table.setObjectName("outboxTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.clicked.connect(self._clicked)
        self.count = label(role="muted", name="outboxCount")
        self.problem = label(role="error", name="outboxProblem")
        self.problem.hide()
        self.model.counted.connect(self._counted)
        self.model.failed.connect(self._refused)
        bar = QHBoxLayout()
        bar.addWidget(label("Outbox", role="heading"))
        bar.addStretch(1)
        bar.addWidget(label("Show"))
        bar.addWidget(self.filter)
        bar.addWidget(self.retry)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.problem)
        self.chosen: dict[str, Any] | None = None

    def refilter(self) -> None:
        mail = self.session.service.mail
        status = None if self.filter.currentText() == "any" else self.filter.currentText()
        model = self.model

        def fetch(how: Page) -> list[dict[str, Any]]:
            start = how.offset
            if how.from_end:  # the model counts from the far end: turn it into an offset
                start = max(model.total - how.offset - how.limit, 0)
            return mail.list(status=status, limit=how.limit, offset=start)

        self.chosen = None
        self.retry.setEnabled(False)
        self.model.configure(lambda: mail.count(status=status), fetch, None)

    def reload(self) -> None:
        self.model.reload()

    def _counted(self, total: int) -> None:
        self.problem.hide()
        self.count.setText(f"{total} message(s)")

    def _clicked(self, index: QModelIndex) -> None:
        self.chosen = index.data(ROW_ROLE)
        self.retry.setEnabled(bool(self.chosen) and self.chosen["status"] == "failed")

    def _retry(self) -> None:
        if not self.chosen:
            return
        mail, message_id = self.session.service.mail, int(self.chosen["id"])
        self.retry.setEnabled(False)

        def done(_: object) -> None:
            self.status.emit(f"Message {message_id} will be sent again")
            self.chosen = None
            self.model.reload()

        tasks.run(lambda: mail.retry(message_id), done, self._refused)

    def _refused(self, exc: BaseException) -> None:
        self.problem.setText(refusal(exc)[0])
        self.problem.show()


class MailSection(QWidget):
    title = "Mail"
    status = Signal(str)

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.smtp = SmtpForm(session)
        self.outbox = OutboxView(session)
        self.smtp.status.connect(self.status.emit)
        self.outbox.status.connect(self.status.emit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split(self.outbox, self.smtp, (700, 460)))

    def reload(self) -> None:
        self.smtp.reload()
        self.outbox.refilter()

    def follow(self) -> None:
        """The outbox changed: the list is read again, not the form being filled in."""
        self.outbox.refilter()

    def clear(self) -> None:
        """Someone else signed in: nothing of the previous person's view stays."""
        for line in (
            self.smtp.host,
            self.smtp.username,
            self.smtp.password,
            self.smtp.send_from,
            self.smtp.ca_file,
            self.smtp.recipient,
        ):
            line.clear()
        self.smtp.result.hide()
        self.smtp.problem.hide()
        self.outbox.chosen = None
        self.outbox.model.configure(lambda: 0, lambda how: [], None)
