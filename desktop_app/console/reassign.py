"""Reassigning work: to whom (a picker of people, groups and queues; a typed name still
works) and why, in one small dialog used wherever work is reassigned — the Inbox, a run's
detail, Needs attention and Work Items."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from desktop_app.pickers import PeoplePicker
from desktop_app.session import AppSession


class ReassignDialog(QDialog):
    """Calls ``chosen(target, reason)`` when both are given and OK is pressed."""

    def __init__(
        self,
        session: AppSession,
        what: str,
        chosen: Callable[[str, str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reassignDialog")
        self.setWindowTitle("Reassign")
        self.chosen = chosen
        form = QFormLayout(self)
        intro = QLabel(f"Reassign {what} to a person, a queue or a group.")
        intro.setWordWrap(True)
        form.addRow(intro)
        self.target = PeoplePicker(lambda: session.service)
        self.target.setObjectName("reassignTarget")
        self.target.setAccessibleName("Reassign to")
        form.addRow("To *", self.target)
        self.reason = QLineEdit()
        self.reason.setObjectName("reassignReason")
        self.reason.setPlaceholderText("Why (kept in each run's history)")
        self.reason.setAccessibleName("Reason")
        form.addRow("Why *", self.reason)
        self.problem = QLabel()
        self.problem.setProperty("role", "error")
        self.problem.hide()
        form.addRow(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Reassign")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.target.entered.connect(lambda _: self.reason.setFocus())
        self.target.setFocus()
        self.resize(460, self.sizeHint().height())

    def _accept(self) -> None:
        target, reason = self.target.value(), self.reason.text().strip()
        missing = [n for n, v in (("whom to give it to", target), ("why", reason)) if not v]
        if missing:
            self.problem.setText("Say " + " and ".join(missing))
            self.problem.show()
            return
        self.accept()
        self.chosen(target, reason)


def ask_reassign(
    parent: QWidget, session: AppSession, what: str, chosen: Callable[[str, str], None]
) -> ReassignDialog:
    dialog = ReassignDialog(session, what, chosen, parent)
    dialog.open()
    return dialog
