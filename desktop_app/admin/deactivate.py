"""Deactivating a person: first say what happens to their claims and their work, and offer
to hand their work on in the same step."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.admin.common import label, refusal
from desktop_app.pickers import PeoplePicker
from desktop_app.session import AppSession
from engine.services.directory import Deactivation


class DeactivateDialog(QDialog):
    done_ = Signal(str)  # what was done, for the status bar

    def __init__(self, session: AppSession, username: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.username = username
        self.setObjectName("deactivateDialog")
        self.setWindowTitle(f"Deactivate {username}")
        self.effect = label(f"Looking at {username}'s work…", name="deactivateEffect")
        self.reason = QLineEdit()
        self.reason.setObjectName("deactivateReason")
        self.reason.setPlaceholderText("Why (kept in each run's log)")
        self.target = PeoplePicker(lambda: session.service)
        self.target.setObjectName("deactivateTarget")
        self.target.setPlaceholderText("Leave empty to flag their work for reassignment")
        form = QFormLayout()
        form.addRow("Reason", self.reason)
        form.addRow("Hand their work to", self.target)
        self.problem = label(role="error", name="deactivateProblem")
        self.problem.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.confirm = QPushButton("Deactivate")
        self.confirm.setObjectName("confirmDeactivate")
        self.confirm.setProperty("role", "primary")
        self.buttons.addButton(self.confirm, QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm.clicked.connect(self._confirm)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.effect)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        directory = session.service.directory
        tasks.run(lambda: directory.open_work(username), self._effect, self._refused)

    def _effect(self, work: dict[str, int]) -> None:
        claims, assigned = work["claims"], work["assigned"]
        self.effect.setText(
            f"{self.username} will no longer be able to sign in, do work or be assigned any.\n"
            f"• {claims} claimed item(s) go back to their queue or group.\n"
            f"• {assigned} open item(s) assigned to {self.username} are flagged for "
            "reassignment — or handed to whoever you name below, in the same step."
        )

    def _confirm(self) -> None:
        reason, target = self.reason.text().strip(), self.target.value()
        directory, username = self.session.service.directory, self.username
        self.confirm.setEnabled(False)
        self.problem.hide()
        tasks.run(
            lambda: directory.deactivate(username, reason, reassign_to=target or None),
            self._done,
            self._refused,
        )

    def _done(self, result: Deactivation) -> None:
        handed = (
            f", {result.items_reassigned} item(s) handed on"
            if result.items_reassigned
            else f", {result.items_flagged} item(s) flagged for reassignment"
        )
        self.done_.emit(
            f"Deactivated {result.username}: {result.claims_released} claim(s) released{handed}"
        )
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.confirm.setEnabled(True)
        self.problem.setText(refusal(exc)[0])
        self.problem.show()
