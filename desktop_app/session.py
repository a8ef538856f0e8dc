"""Who is signed in, and the engine's change notes turned into a Qt signal on the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from engine.services.baton import Baton
from engine.services.dto import UserInfo

STAFF_ROLES = frozenset({"admin", "supervisor"})


class AppSession(QObject):
    """The open database and the signed-in person. ``service`` acts as that person.

    Every panel listens to ``user_changed`` and reloads for the new person: nothing of the
    previous person's view, nor the rights that went with it, stays on screen.
    """

    # A Change (engine.services.notices): the frozenset of kinds ("runs", "work", "records" …)
    # one commit changed, with the ids of its rows and the origin of the call that made it.
    changed = Signal(object)
    user_changed = Signal(str)

    def __init__(self, baton: Baton, user: UserInfo) -> None:
        super().__init__()
        self.baton = baton
        self.user = user
        self.service = baton.as_user(user.username)
        # Engine callbacks come on the 'baton-changes' thread; emitting a signal from there
        # queues it to the GUI thread, where the panels listen.
        self._unsubscribe = baton.subscribe(self.changed.emit)

    @classmethod
    def open(cls, baton: Baton, username: str) -> AppSession:
        """Signed in as ``username``, looked up now: for tests and background threads only."""
        return cls(baton, baton.directory.user(username))

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def is_staff(self) -> bool:
        return self.user.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.user.role == "admin"

    @property
    def shared(self) -> bool:
        """A team database: changing who is signed in means signing in again, with a password.

        Only a single-user SQLite install lets its owner switch between people freely (to try
        the app as each of them).
        """
        return not self.baton.db.is_sqlite

    def switch_user(self, user: UserInfo) -> None:
        self.user = user
        self.service = self.baton.as_user(user.username)
        self.user_changed.emit(user.username)

    def close(self) -> None:
        self._unsubscribe()


def describe_user(user: UserInfo) -> str:
    """'Alice Adams (user)': how a person is named in the switcher and the sign-in line."""
    name = user.display_name or user.username
    return f"{name} ({user.role})"
