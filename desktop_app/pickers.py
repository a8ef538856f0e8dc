"""The picker of people, groups and queues: wherever a name is typed (an assignee, a
reassignment target, an error recipient, a new member of a queue).

People are searched in SQL as the person types (a directory may hold thousands), groups and
queues are few and loaded once. Each suggestion shows a name, its username and its role;
choosing one fills in what the services take (``alice``, ``queue:legal``, ``group:security``).
A name typed without choosing is taken as typed, so the service decides and its message says
what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QCompleter, QLineEdit, QWidget

from desktop_app import tasks
from engine.errors import PermissionDenied
from engine.services.baton import Baton
from engine.services.directory import PeopleFilter

KINDS = ("user", "group", "queue")
SUGGESTIONS = 30  # people shown for what is typed; typing more narrows them
VALUE_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class Choice:
    """One suggestion: ``value`` is what the services take, ``text`` what the person sees."""

    kind: str
    name: str
    text: str

    @property
    def value(self) -> str:
        return self.name if self.kind == "user" else f"{self.kind}:{self.name}"


def find_choices(service: Baton, typed: str, kinds: Sequence[str]) -> list[Choice]:
    """Suggestions for ``typed`` (runs in the background: it reads the directory)."""
    text = typed.strip()
    if ":" in text:  # 'queue:le' searches queues only
        prefix, _, rest = text.partition(":")
        if prefix in KINDS and prefix in kinds:
            kinds, text = (prefix,), rest
    needle = text.lower()
    choices: list[Choice] = []
    if "user" in kinds:
        for user in service.directory.people(
            PeopleFilter(text=text, active=True), limit=SUGGESTIONS
        ):
            name = user.display_name or user.username
            choices.append(Choice("user", user.username, f"{name} — {user.username} ({user.role})"))
    for kind in ("queue", "group"):
        if kind not in kinds:
            continue
        for group in service.directory.groups(kind):
            if needle in group.name.lower() or needle in group.label.lower():
                members = len(group.members)
                choices.append(
                    Choice(
                        kind,
                        group.name,
                        f"{group.label} — {kind}:{group.name} ({kind}, {members} members)",
                    )
                )
    return _with_open_work(service, choices)


def _with_open_work(service: Baton, choices: list[Choice]) -> list[Choice]:
    """Each suggestion with the open work it holds, for those who may see it (staff)."""
    try:
        counts = service.work.open_counts([c.value for c in choices])
    except PermissionDenied:
        return choices
    return [Choice(c.kind, c.name, f"{c.text} · {counts.get(c.value, 0)} open") for c in choices]


class PeoplePicker(QLineEdit):
    """A line to type a name in, with searchable suggestions of people, groups and queues."""

    picked = Signal(str)  # the value of a suggestion the person chose
    entered = Signal(str)  # Enter pressed on a name (not the Enter that chose a suggestion)

    def __init__(
        self,
        service_of: Callable[[], Baton],
        kinds: Sequence[str] = KINDS,
        parent: QWidget | None = None,
    ) -> None:
        """``service_of`` gives the service to ask (the session's, read at each search, so a
        new sign-in is obeyed), e.g. ``lambda: session.service``."""
        super().__init__(parent)
        self._service_of = service_of
        self.kinds = tuple(kinds)
        self.setPlaceholderText(_placeholder(self.kinds))
        self.setClearButtonEnabled(True)
        self.suggestions = QStandardItemModel(self)
        self.completer_ = QCompleter(self.suggestions, self)
        self.completer_.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer_.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer_.setWidget(self)
        self.completer_.activated.connect(self._chosen)
        self.values: dict[str, str] = {}  # a suggestion's text → its value
        self.searches = tasks.Latest()  # only the latest search's answer counts
        self.textEdited.connect(self._search)
        self.returnPressed.connect(self._entered)

    def value(self) -> str:
        """What the services take: a chosen suggestion fills it in, else it is as typed."""
        return self.text().strip()

    def _entered(self) -> None:
        # The completer lets the line see the Enter that chooses a suggestion first, while
        # its popup is still open: that one only chooses. An Enter with no suggestion
        # highlighted takes the name as typed.
        popup = self.completer_.popup()
        choosing = popup is not None and popup.isVisible() and popup.currentIndex().isValid()
        if not choosing and self.value():
            self.entered.emit(self.value())

    def _search(self, typed: str) -> None:
        if not typed.strip():
            self.searches.drop()  # a search still out must not suggest after the clearing
            self.suggestions.clear()
            popup = self.completer_.popup()
            if popup is not None:
                popup.hide()
            return
        kinds, service = self.kinds, self._service_of()
        self.searches.run(
            lambda: find_choices(service, typed, kinds),
            self._show,
            lambda exc: None,  # a failed search suggests nothing; the typed name still counts
        )

    def _show(self, choices: list[Choice]) -> None:
        self.suggestions.clear()
        self.values = {c.text: c.value for c in choices}
        for choice in choices:
            item = QStandardItem(choice.text)
            item.setData(choice.value, VALUE_ROLE)
            item.setEditable(False)
            self.suggestions.appendRow(item)
        if choices and self.hasFocus():
            self.completer_.complete()
            popup = self.completer_.popup()
            if popup is not None:  # nothing highlighted until the person moves to one
                popup.setCurrentIndex(QModelIndex())

    def _chosen(self, text: str) -> None:
        value = self.values.get(text)
        if value is not None:
            self.setText(value)
            self.picked.emit(value)


def _placeholder(kinds: Sequence[str]) -> str:
    words = {"user": "a person", "group": "a group", "queue": "a queue"}
    return "Type a name: " + ", ".join(words[k] for k in kinds if k in words)
