"""The Admin panel: one tab per section. Each section loads when it is first shown (and again
when someone else signs in), so opening the app reads nothing an admin does not look at."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from desktop_app.admin.calendars import CalendarsSection
from desktop_app.admin.groups import GroupsSection
from desktop_app.admin.mail import MailSection
from desktop_app.admin.object_types import ObjectTypesSection
from desktop_app.admin.people import PeopleSection
from desktop_app.session import AppSession

# Which change notices make a section read again what it shows.
RELOAD_ON = {
    "People": {"work", "directory"},
    "Queues": {"work", "directory"},
    "Groups": {"work", "directory"},
    "Calendars": {"directory"},
    "Mail": {"outbox"},  # not the directory: its reload would overwrite a half-typed setting
}
# Notices within this gather into one reading: the engine working through a backlog sends
# several a second, and a section read again on each never stopped reading.
FOLLOW_MS = 1000


class AdminPanel(QWidget):
    title = "Admin"
    status = Signal(str)

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.people = PeopleSection(session)
        self.queues = GroupsSection(session, "queue")
        self.groups = GroupsSection(session, "group")
        self.calendars = CalendarsSection(session)
        self.mail = MailSection(session)
        self.object_types = ObjectTypesSection(session)
        self.sections: list[Any] = [
            self.people,
            self.queues,
            self.groups,
            self.calendars,
            self.mail,
            self.object_types,
        ]
        self.tabs = QTabWidget()
        self.tabs.setObjectName("adminTabs")
        self.tabs.setDocumentMode(True)
        for section in self.sections:
            self.tabs.addTab(section, section.title)
            section.status.connect(self.status.emit)
        self.loaded: set[int] = set()
        self.tabs.currentChanged.connect(lambda _: self._load_current())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        session.user_changed.connect(lambda _: self._user_changed())
        self._kinds: set[str] = set()
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(FOLLOW_MS)
        self._pending.timeout.connect(self._follow)
        session.changed.connect(self._changed)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._load_current()

    def _load_current(self) -> None:
        index = self.tabs.currentIndex()
        if index in self.loaded or not self.session.is_admin or not self.isVisible():
            return
        self.loaded.add(index)
        self.sections[index].reload()

    def refresh(self) -> None:
        """F5: the section shown reads everything again; the others do when next shown."""
        self.loaded.clear()
        self._load_current()

    def _user_changed(self) -> None:
        """Nothing of the previous person's view stays: every section loads afresh."""
        self.loaded.clear()
        for section in self.sections:
            section.clear()
        self._load_current()

    def _changed(self, kinds: frozenset[str]) -> None:
        self._kinds |= kinds
        if not self._pending.isActive():
            self._pending.start()

    def _follow(self) -> None:
        """What others changed, read again by the sections it concerns: the one shown now
        (through its ``follow``, which keeps what is being typed), the others when shown."""
        kinds, self._kinds = frozenset(self._kinds), set()
        for index, section in enumerate(self.sections):
            if index in self.loaded and RELOAD_ON.get(section.title, set()) & kinds:
                if index == self.tabs.currentIndex() and self.isVisible():
                    getattr(section, "follow", section.reload)()
                else:
                    self.loaded.discard(index)  # read again when next shown
