"""Who is signed in, on the toolbar: a quick switcher on a single-user install, sign-out on a
team database.

On a shared PostgreSQL database every person has a password, so changing who is signed in is
signing in again; a free switcher there would let anyone act as anyone, admins included. A
single-user SQLite install keeps the switcher, so its owner can try the app as each person.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop_app import tasks
from desktop_app.session import AppSession, describe_user
from engine.services.dto import UserInfo


class AccountBar(QWidget):
    """'Signed in as …' with the switcher or a Sign out button; ``sign_out`` when pressed."""

    sign_out = Signal()

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Signed in as"))
        self.users = QComboBox()
        self.users.setObjectName("userSwitcher")
        self.users.setToolTip("Act as another person of this install (single-user database)")
        # As wide as its longest name, whenever the list is filled (by default a combo box
        # takes the width of what it held when first shown: one name, then cut the others).
        self.users.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.who = QLabel()
        self.who.setObjectName("signedInAs")
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.setObjectName("signOut")
        self.sign_out_button.setToolTip("Sign out; the next person signs in with their password")
        self.sign_out_button.clicked.connect(self.sign_out)
        layout.addWidget(self.users)
        layout.addWidget(self.who)
        layout.addWidget(self.sign_out_button)
        self.people: list[UserInfo] = []
        shared = session.shared
        self.users.setVisible(not shared)
        self.who.setVisible(shared)
        self.sign_out_button.setVisible(shared)
        self._show_current()
        # Only a person's choice switches: ``activated`` is not sent when the list is refilled.
        self.users.activated.connect(self._chosen)
        session.user_changed.connect(lambda _: self._show_current())
        if not shared:
            directory = session.service.directory
            tasks.run(lambda: [u for u in directory.users() if u.active], self._people)

    def _show_current(self) -> None:
        self.who.setText(describe_user(self.session.user))
        current = self.users.findData(self.session.username)
        if current < 0:
            self.users.blockSignals(True)
            self.users.clear()
            self.users.addItem(describe_user(self.session.user), self.session.username)
            current = 0
            self.users.blockSignals(False)
        self.users.setCurrentIndex(current)

    def _people(self, people: list[UserInfo]) -> None:
        self.people = people
        self.users.blockSignals(True)
        self.users.clear()
        for user in people:
            self.users.addItem(describe_user(user), user.username)
        self.users.blockSignals(False)
        self._show_current()

    def _chosen(self, index: int) -> None:
        username = self.users.itemData(index)
        user = next((u for u in self.people if u.username == username), None)
        if user is not None and user.username != self.session.username:
            self.session.switch_user(user)
