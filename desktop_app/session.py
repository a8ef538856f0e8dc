"""Who is signed in, and the engine's change notes turned into a Qt signal on the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from engine.services.baton import Baton


class AppSession(QObject):
    """The open database and the signed-in person. ``service`` acts as that person."""

    changed = Signal(object)  # frozenset of kinds: "runs", "work", "records" …
    user_changed = Signal(str)

    def __init__(self, baton: Baton, username: str) -> None:
        super().__init__()
        self.baton = baton
        self.username = username
        self.service = baton.as_user(username)
        # Engine callbacks come on the 'baton-changes' thread; emitting a signal from there
        # queues it to the GUI thread, where the panels listen.
        self._unsubscribe = baton.subscribe(self.changed.emit)

    def switch_user(self, username: str) -> None:
        self.username = username
        self.service = self.baton.as_user(username)
        self.user_changed.emit(username)

    def close(self) -> None:
        self._unsubscribe()
