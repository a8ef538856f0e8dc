"""The Inbox's own filters — when work is due, whose it is — and the person's saved filters.

Saved filters ('due this week', 'my queues only', …) belong to the person like the console's
saved views, but are kept on this computer, per database and person (``kept``), with the
Inbox's column widths: the console's views live in the database for supervisors and admins
only, and hold the console's typed filters, while every user has an Inbox. A saved 'this week'
means the week it is when the filter is chosen, not the week it was saved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QInputDialog, QPushButton, QWidget

from desktop_app.panels.kept import KeptFile, kept_file, read_kept

DUE = {"any": "Due any time", "overdue": "Overdue", "today": "Due today", "week": "Due this week"}
ASSIGNED = {
    "any": "All my work",
    "user": "Assigned to me",
    "group": "My groups only",
    "queue": "My queues only",
}


def due_before(due: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """The moment work must be due before to match ``due`` (local days and weeks)."""
    moment = (now or dt.datetime.now(dt.UTC)).astimezone()
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if due == "overdue":
        return moment
    if due == "today":
        return midnight + dt.timedelta(days=1)
    if due == "week":  # until Monday 00:00, overdue work included
        return midnight + dt.timedelta(days=7 - midnight.weekday())
    return None


class InboxPrefs:
    """One person's Inbox settings on one database: column widths and saved filters."""

    _stores: dict[Any, InboxPrefs] = {}

    def __init__(self, database_url: str, username: str) -> None:
        self.file = KeptFile(kept_file("inbox", database_url, username))
        self.memory: dict[str, Any] | None = None  # None: not read yet

    @classmethod
    def of(cls, database_url: str, username: str) -> InboxPrefs:
        key = kept_file("inbox", database_url, username)
        if key not in cls._stores:
            cls._stores[key] = cls(database_url, username)
        return cls._stores[key]

    def reader(self) -> dict[str, Any] | None:
        """Off the GUI thread: the file, or None when it was read already."""
        return None if self.memory is not None else read_kept(self.file.path)

    def merge(self, read: dict[str, Any] | None) -> None:
        if self.memory is None:
            self.memory = {**(read or {})}

    @property
    def columns(self) -> dict[int, int]:
        kept = (self.memory or {}).get("columns") or {}
        return {int(k): int(v) for k, v in kept.items() if str(k).isdigit() and int(v) > 0}

    @columns.setter
    def columns(self, widths: dict[int, int]) -> None:
        self._set("columns", {str(k): v for k, v in widths.items()})

    @property
    def filters(self) -> dict[str, dict[str, Any]]:
        kept = (self.memory or {}).get("filters") or {}
        return {name: f for name, f in kept.items() if isinstance(f, dict)}

    def save_filter(self, name: str, state: dict[str, Any]) -> None:
        self._set("filters", {**self.filters, name: state})

    def delete_filter(self, name: str) -> None:
        self._set("filters", {k: v for k, v in self.filters.items() if k != name})

    def _set(self, key: str, value: Any) -> None:
        if self.memory is None:
            self.memory = {}
        if self.memory.get(key) == value:
            return
        self.memory[key] = value
        self.file.write(self.memory)


class InboxFilters(QWidget):
    """When it is due, whose it is, and the saved filters; ``changed`` when one changes."""

    changed = Signal()
    chosen = Signal(dict)  # a saved filter's state, to apply
    CURRENT = "(current filter)"

    def __init__(self, state: Callable[[], dict[str, Any]]) -> None:
        super().__init__()
        self.state = state  # the whole Inbox filter now (text and claims included), to save
        self.prefs: InboxPrefs | None = None
        self.due = QComboBox()
        self.due.setObjectName("inboxDue")
        self.due.setAccessibleName("When the work is due")
        for key, text in DUE.items():
            self.due.addItem(text, key)
        self.assigned = QComboBox()
        self.assigned.setObjectName("inboxAssigned")
        self.assigned.setAccessibleName("Whose work")
        for key, text in ASSIGNED.items():
            self.assigned.addItem(text, key)
        self.saved = QComboBox()
        self.saved.setObjectName("inboxSavedFilters")
        self.saved.setAccessibleName("Saved filters")
        self.saved.setMinimumContentsLength(12)
        self.save = QPushButton("Save filter…")
        self.save.setObjectName("inboxSaveFilter")
        self.delete = QPushButton("Delete filter")
        self.delete.setObjectName("inboxDeleteFilter")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.due, self.assigned, self.saved, self.save, self.delete):
            row.addWidget(widget)
        row.addStretch(1)
        self.due.currentIndexChanged.connect(lambda _: self.changed.emit())
        self.assigned.currentIndexChanged.connect(lambda _: self.changed.emit())
        self.saved.activated.connect(self._chosen)
        self.save.clicked.connect(lambda: self.ask_to_save())
        self.delete.clicked.connect(self._delete)
        self.show_saved(None)

    def query(self) -> dict[str, Any]:
        """The service's filters for these choices (``work.list`` keywords)."""
        assigned = self.assigned.currentData()
        return {
            "due_before": due_before(self.due.currentData()),
            "assignee_kind": None if assigned == "any" else assigned,
        }

    def choices(self) -> dict[str, str]:
        return {"due": self.due.currentData(), "assigned": self.assigned.currentData()}

    def set_choices(self, due: str | None, assigned: str | None) -> None:
        """Put saved choices back (one ``changed`` for both)."""
        self.blockSignals(True)
        self.due.setCurrentIndex(max(0, self.due.findData(due or "any")))
        self.assigned.setCurrentIndex(max(0, self.assigned.findData(assigned or "any")))
        self.blockSignals(False)

    def use(self, prefs: InboxPrefs | None) -> None:
        """Whose saved filters to offer (when the file was read, or someone else signed in)."""
        self.prefs = prefs
        self.show_saved(None)

    def show_saved(self, select: str | None) -> None:
        self.saved.clear()
        self.saved.addItem(self.CURRENT)
        names = sorted(self.prefs.filters) if self.prefs is not None else []
        self.saved.addItems(names)
        if select in names:
            self.saved.setCurrentText(select)
        self.delete.setEnabled(bool(names))
        self.save.setEnabled(self.prefs is not None)

    def _chosen(self, index: int) -> None:
        name = self.saved.itemText(index)
        if self.prefs is not None and name in self.prefs.filters:
            self.chosen.emit(self.prefs.filters[name])

    def ask_to_save(self, name: str | None = None) -> None:
        """Save the current filter under a name (asked for unless given)."""
        if self.prefs is None:
            return
        if name is None:
            name, ok = QInputDialog.getText(self, "Save filter", "Name of this filter:")
            if not ok:
                return
        name = name.strip()
        if not name or name == self.CURRENT:
            return
        self.prefs.save_filter(name, self.state())
        self.show_saved(name)

    def _delete(self) -> None:
        name = self.saved.currentText()
        if self.prefs is not None and name in self.prefs.filters:
            self.prefs.delete_filter(name)
            self.show_saved(None)
