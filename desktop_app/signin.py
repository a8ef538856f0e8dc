"""Signing in with a password (shared databases) and choosing which database to use."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.messages import describe
from engine.services.baton import Baton
from engine.services.dto import UserInfo


class SignInDialog(QDialog):
    """Username and password, checked in the background; ``signed_in(UserInfo)`` on success."""

    signed_in = Signal(object)

    def __init__(self, baton: Baton, where: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.baton = baton
        self.setWindowTitle("Sign in to Baton")
        layout = QVBoxLayout(self)
        intro = QLabel(f"Sign in to {where}")
        intro.setProperty("role", "muted")
        layout.addWidget(intro)
        form = QFormLayout()
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Username", self.username)
        form.addRow("Password", self.password)
        layout.addLayout(form)
        self.problem = QLabel()
        self.problem.setProperty("role", "error")
        self.problem.hide()
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Sign in")
        self.buttons.accepted.connect(self._check)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _check(self) -> None:
        username, password = self.username.text().strip(), self.password.text()
        self.buttons.setEnabled(False)
        directory = self.baton.directory
        tasks.run(lambda: directory.authenticate(username, password), self._done, self._refused)

    def _done(self, user: UserInfo) -> None:
        self.signed_in.emit(user)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.problem.setText(describe(exc))
        self.problem.show()
        self.password.clear()
        self.password.setFocus()
