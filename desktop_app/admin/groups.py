"""Groups and queues: create, rename (the label), the shared e-mail address, members added
with the people picker and removed; a queue's open work, and a warning when work routed to
it can reach nobody."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.admin.common import Checker, Fields, label, refusal, split
from desktop_app.pickers import PeoplePicker
from desktop_app.session import AppSession
from engine.services.groups import GroupInfo, GroupStatus


def _entry(status: GroupStatus) -> str:
    group = status.group
    line = f"{group.label} — {group.name} · {len(group.members)} member(s)"
    if group.kind == "queue" or status.open_work:
        line += f" · {status.open_work} open"
    return ("⚠ " if status.warning else "") + line


class GroupForm(QWidget):
    """A new group (or queue), or the one chosen, with its members."""

    saved = Signal(str)  # the group's name: the list reloads and keeps it chosen

    def __init__(self, session: AppSession, kind: str) -> None:
        super().__init__()
        self.session = session
        self.kind = kind
        self.status: GroupStatus | None = None
        self.title = label(f"New {kind}", role="title", name=f"{kind}Title")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields = Fields(form)
        self.name = self._line("name", "Name", "used in definitions, e.g. assignee: {queue: legal}")
        self.label_ = self._line("label", "Label", "how people see it")
        self.email = self._line("email", "Shared e-mail", "one address for the whole team")
        self.save = QPushButton("Create")
        self.save.setObjectName(f"save_{kind}")
        self.save.setProperty("role", "primary")
        self.save.clicked.connect(self._save)
        self.problem = label(role="error", name=f"{kind}Problem")
        self.problem.hide()
        self.work = label(role="muted", name=f"{kind}Work")
        self.warning = label(role="error", name=f"{kind}Warning")
        self.warning.hide()
        self.members = QListWidget()
        self.members.setObjectName(f"{kind}Members")
        self.remove = QPushButton("Remove member")
        self.remove.setObjectName(f"remove_{kind}_member")
        self.remove.clicked.connect(self._remove)
        self.picker = PeoplePicker(lambda: session.service, kinds=("user",))
        self.picker.setObjectName(f"{kind}MemberPicker")
        self.picker.entered.connect(self._add)
        self.add = QPushButton("Add member")
        self.add.setObjectName(f"add_{kind}_member")
        self.add.clicked.connect(self._add)
        adding = QHBoxLayout()
        adding.addWidget(self.picker, 1)
        adding.addWidget(self.add)
        self.member_box = QWidget()
        members = QVBoxLayout(self.member_box)
        members.setContentsMargins(0, 0, 0, 0)
        members.addWidget(label("Members", role="heading"))
        members.addWidget(self.members, 1)
        members.addWidget(self.remove, 0, Qt.AlignmentFlag.AlignLeft)
        members.addLayout(adding)
        saving = QHBoxLayout()
        saving.addStretch(1)
        saving.addWidget(self.save)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.work)
        layout.addWidget(self.warning)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addLayout(saving)
        layout.addWidget(self.member_box, 1)
        self.checker = Checker(self._check, self.fields.show)
        self.name.textEdited.connect(self.checker)
        self.email.textEdited.connect(self.checker)
        self.show_group(None)

    def _line(self, name: str, title: str, hint: str) -> QLineEdit:
        line = QLineEdit()
        line.setObjectName(f"{self.kind}_{name}")
        line.setPlaceholderText(hint)
        self.fields.add(name, title, line)
        return line

    def show_group(self, status: GroupStatus | None, *, keep_lines: bool = False) -> None:
        """``keep_lines``: the same group again, fresher (its work, its members): what the
        person is typing stays."""
        self.status = status
        if not keep_lines:
            self.problem.hide()
            self.fields.show({})
        self.name.setReadOnly(status is not None)
        self.save.setText("Create" if status is None else "Save")
        self.member_box.setVisible(status is not None)
        if status is None:
            self.title.setText(f"New {self.kind}")
            for line in (self.name, self.label_, self.email):
                line.clear()
            self.work.setText(f"Create the {self.kind}, then add its members.")
            self.warning.hide()
            return
        group = status.group
        self.title.setText(group.label)
        if not keep_lines:
            self.name.setText(group.name)
            self.label_.setText(group.label)
            self.email.setText(group.email or "")
        self.work.setText(
            f"{status.open_work} open work item(s) assigned to this {self.kind} · "
            f"{len(status.active_members)} of {len(group.members)} member(s) active"
        )
        self.warning.setText(status.warning or "")
        self.warning.setVisible(bool(status.warning))
        self.members.clear()
        active = set(status.active_members)
        for member in group.members:
            item = QListWidgetItem(member if member in active else f"{member} (deactivated)")
            item.setData(Qt.ItemDataRole.UserRole, member)
            self.members.addItem(item)

    def _check(self) -> dict[str, str]:
        new = self.status is None
        return self.session.service.directory.check_group(
            self.kind,
            self.name.text().strip() if new else None,
            email=self.email.text().strip() or None,
        )

    def _run(self, fn: Any, done: Any) -> None:
        self.problem.hide()
        for button in (self.save, self.add, self.remove):
            button.setEnabled(False)

        def finished(result: Any) -> None:
            self._enable()
            done(result)

        def refused(exc: BaseException) -> None:
            self._enable()
            sentence, fields = refusal(exc)
            if fields:
                self.fields.show(fields)
            self.problem.setText(sentence)
            self.problem.show()

        tasks.run(fn, finished, refused)

    def _enable(self) -> None:
        for button in (self.save, self.add, self.remove):
            button.setEnabled(True)

    def _save(self) -> None:
        directory, kind = self.session.service.directory, self.kind
        name, title, email = (
            self.name.text().strip(),
            self.label_.text().strip(),
            self.email.text().strip(),
        )
        if self.status is None:
            self._run(
                lambda: directory.create_group(
                    kind, name, label=title or None, email=email or None
                ),
                self._saved,
            )
        else:
            self._run(
                lambda: directory.update_group(kind, name, label=title, email=email),
                self._saved,
            )

    def _saved(self, group: GroupInfo) -> None:
        self.saved.emit(group.name)

    def _add(self) -> None:
        if self.status is None or not self.picker.value():
            return
        directory, kind, name = self.session.service.directory, self.kind, self.status.group.name
        username = self.picker.value()

        def added(group: GroupInfo) -> None:
            self.picker.clear()
            self._saved(group)

        self._run(lambda: directory.add_member(kind, name, username), added)

    def _remove(self) -> None:
        item = self.members.currentItem()
        if self.status is None or item is None:
            return
        directory, kind, name = self.session.service.directory, self.kind, self.status.group.name
        username = str(item.data(Qt.ItemDataRole.UserRole))
        self._run(lambda: directory.remove_member(kind, name, username), self._saved)


class GroupsSection(QWidget):
    """Every group (or queue) in a list, with the chosen one's form beside it."""

    status = Signal(str)

    def __init__(self, session: AppSession, kind: str) -> None:
        super().__init__()
        self.session = session
        self.kind = kind
        self.title = "Queues" if kind == "queue" else "Groups"
        self.statuses: list[GroupStatus] = []
        self.chosen: str | None = None
        self.generation = 0
        self.list = QListWidget()
        self.list.setObjectName(f"{kind}List")
        self.list.currentItemChanged.connect(self._chosen)
        self.new = QPushButton(f"New {kind}")
        self.new.setObjectName(f"new_{kind}")
        self.new.clicked.connect(self._new)
        self.problem = label(role="error")
        self.problem.hide()
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.new, 0, Qt.AlignmentFlag.AlignLeft)
        column.addWidget(self.list, 1)
        column.addWidget(self.problem)
        self.form = GroupForm(session, kind)
        self.form.saved.connect(self._saved)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split(left, self.form))

    def reload(self) -> None:
        directory, kind = self.session.service.directory, self.kind
        self.generation += 1
        generation = self.generation
        tasks.run(
            lambda: directory.group_status(kind),
            lambda statuses: self._fill(generation, statuses),
            self._failed,
        )

    def clear(self) -> None:
        """Someone else signed in: nothing of the previous person's view stays."""
        self.generation += 1
        self.chosen = None
        self.statuses = []
        self.list.clear()
        self.form.picker.clear()
        self.form.show_group(None)

    def _failed(self, exc: BaseException) -> None:
        self.problem.setText(refusal(exc)[0])
        self.problem.show()

    def _fill(self, generation: int, statuses: list[GroupStatus]) -> None:
        if generation != self.generation:
            return
        self.problem.hide()
        self.statuses = statuses
        self.list.blockSignals(True)
        self.list.clear()
        current = None
        for status in statuses:
            item = QListWidgetItem(_entry(status))
            item.setData(Qt.ItemDataRole.UserRole, status.group.name)
            if status.warning:
                item.setToolTip(status.warning)
            self.list.addItem(item)
            if status.group.name == self.chosen:
                current = item
        if current is not None:
            self.list.setCurrentItem(current)
        self.list.blockSignals(False)
        chosen = next((s for s in statuses if s.group.name == self.chosen), None)
        if chosen is not None:
            same = self.form.status is not None and self.form.status.group.name == chosen.group.name
            self.form.show_group(chosen, keep_lines=same)
        elif self.form.status is not None:
            self.form.show_group(None)  # it is gone

    def _chosen(self, item: QListWidgetItem | None, _previous: Any) -> None:
        if item is None:
            return
        self.chosen = str(item.data(Qt.ItemDataRole.UserRole))
        status = next((s for s in self.statuses if s.group.name == self.chosen), None)
        self.form.show_group(status)

    def _new(self) -> None:
        self.chosen = None
        self.list.clearSelection()
        self.form.show_group(None)
        self.form.name.setFocus(Qt.FocusReason.OtherFocusReason)

    def _saved(self, name: str) -> None:
        self.chosen = name
        self.form.status = None  # show it afresh, as saved
        self.status.emit(f"Saved {self.kind} {name}")
        self.reload()
