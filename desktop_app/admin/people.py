"""People: the directory paged from SQL with a filter, and one person's form — create, edit,
set a password, deactivate (saying what happens to their work), reactivate."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.admin.common import Checker, Fields, label, refusal, split
from desktop_app.admin.deactivate import DeactivateDialog
from desktop_app.console.paged_model import ROW_ROLE, Column, PagedModel
from desktop_app.session import AppSession
from engine.services.console import Page
from engine.services.directory import PeopleFilter
from engine.services.dto import UserInfo
from engine.services.permissions import ROLES

ANY = "Any"
STATES = {"Any": None, "Active": True, "Deactivated": False}
COLUMNS = (
    Column("Username", lambda u: u.username),
    Column("Name", lambda u: u.display_name),
    Column("E-mail", lambda u: u.email or ""),
    Column("Role", lambda u: u.role),
    Column("Active", lambda u: "yes" if u.active else "deactivated"),
    Column("Groups and queues", lambda u: ", ".join([*u.queues, *u.groups])),
)


class PeopleList(QWidget):
    """The filter, the paged table and its count."""

    chosen = Signal(object)  # UserInfo

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.text = QLineEdit()
        self.text.setObjectName("peopleFilter")
        self.text.setPlaceholderText("Filter by name, username or e-mail")
        self.text.setClearButtonEnabled(True)
        self.role = QComboBox()
        self.role.setObjectName("peopleRole")
        self.role.addItems([ANY, *ROLES])
        self.state = QComboBox()
        self.state.setObjectName("peopleState")
        self.state.addItems(list(STATES))
        self.new = QPushButton("New person")
        self.new.setObjectName("newPerson")
        bar = QHBoxLayout()
        bar.addWidget(self.text, 1)
        bar.addWidget(self.role)
        bar.addWidget(self.state)
        bar.addWidget(self.new)
        self.model = PagedModel(COLUMNS, lambda: 0, lambda how: [], None, key=lambda u: u.username)
        self.table = QTableView()
        self.table.setObjectName("peopleTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.clicked.connect(self._clicked)
        self.table.activated.connect(self._clicked)
        self.count = label(role="muted", name="peopleCount")
        self.problem = label(role="error")
        self.problem.hide()
        self.model.counted.connect(self._counted)
        self.model.failed.connect(self._failed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.problem)
        self.text.textChanged.connect(lambda _: self.refilter())
        self.role.currentIndexChanged.connect(lambda _: self.refilter())
        self.state.currentIndexChanged.connect(lambda _: self.refilter())

    def where(self) -> PeopleFilter:
        role = self.role.currentText()
        return PeopleFilter(
            text=self.text.text().strip(),
            role=None if role == ANY else role,
            active=STATES[self.state.currentText()],
        )

    def refilter(self) -> None:
        """A new filter (or a new person signed in): count and read from the start."""
        service, where = self.session.service, self.where()

        def fetch(how: Page) -> list[UserInfo]:
            return service.directory.people(
                where,
                limit=how.limit,
                offset=how.offset,
                after=how.after,
                before=how.before,
                from_end=how.from_end,
            )

        self.model.configure(
            lambda: service.directory.count_people(where),
            fetch,
            lambda u: (u.username, u.username),
        )

    def reload(self) -> None:
        """Read again what is on screen (after a change)."""
        self.model.reload()

    def _counted(self, total: int) -> None:
        self.problem.hide()
        self.count.setText(f"{total} {'person' if total == 1 else 'people'}")

    def _failed(self, exc: BaseException) -> None:
        self.problem.setText(refusal(exc)[0])
        self.problem.show()

    def _clicked(self, index: QModelIndex) -> None:
        user = index.data(ROW_ROLE)
        if user is not None:
            self.chosen.emit(user)


class PersonForm(QWidget):
    """A new person, or the one chosen: every change goes through the directory service."""

    saved = Signal(object)  # UserInfo
    status = Signal(str)

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.user: UserInfo | None = None
        self.title = label("New person", role="title", name="personTitle")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields = Fields(form)
        self.username = self._line("username", "Username")
        self.name = self._line("name", "Name")
        self.email = self._line("email", "E-mail")
        self.role = QComboBox()
        self.role.setObjectName("personRole")
        self.role.addItems(list(ROLES))
        self.role.setCurrentText("user")
        self.fields.add("role", "Role", self.role)
        self.password = self._line("password", "Password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.state = label(role="muted", name="personState")
        self.save = QPushButton("Create")
        self.save.setObjectName("savePerson")
        self.save.setProperty("role", "primary")
        self.save.clicked.connect(self._save)
        self.set_password = QPushButton("Set password")
        self.set_password.setObjectName("setPassword")
        self.set_password.clicked.connect(self._set_password)
        self.deactivate = QPushButton("Deactivate…")
        self.deactivate.setObjectName("deactivatePerson")
        self.deactivate.clicked.connect(self._deactivate)
        self.reactivate = QPushButton("Reactivate")
        self.reactivate.setObjectName("reactivatePerson")
        self.reactivate.clicked.connect(self._reactivate)
        buttons = QHBoxLayout()
        for button in (self.deactivate, self.reactivate, self.set_password):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.save)
        self.problem = label(role="error", name="personProblem")
        self.problem.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.state)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.dialog: DeactivateDialog | None = None
        self.checker = Checker(self._check, self.fields.show)
        for line in (self.username, self.email, self.password):
            line.textEdited.connect(self.checker)
        self.show_user(None)

    def _line(self, name: str, title: str) -> QLineEdit:
        line = QLineEdit()
        line.setObjectName(f"person_{name}")
        self.fields.add(name, title, line)
        return line

    # ------------------------------------------------------------ showing

    def show_user(self, user: UserInfo | None) -> None:
        """``None``: an empty form for a new person."""
        self.user = user
        self.problem.hide()
        self.fields.show({})
        new = user is None
        self.username.setReadOnly(not new)
        self.password.clear()
        self.save.setText("Create" if new else "Save")
        self.set_password.setVisible(not new)
        if user is None:
            self.title.setText("New person")
            for line in (self.username, self.name, self.email):
                line.clear()
            self.role.setCurrentText("user")
            self.password.setPlaceholderText(
                "Required on a shared database" if self.session.shared else "Optional"
            )
            self.deactivate.hide()
            self.reactivate.hide()
            self.state.setText("Fill in the form and press Create.")
            return
        self.title.setText(user.display_name or user.username)
        self.username.setText(user.username)
        self.name.setText(user.display_name)
        self.email.setText(user.email or "")
        self.role.setCurrentText(user.role)
        self.password.setPlaceholderText("A new password, then Set password")
        self.deactivate.setVisible(user.active)
        self.reactivate.setVisible(not user.active)
        teams = [*(f"queue {q}" for q in user.queues), *(f"group {g}" for g in user.groups)]
        self.state.setText(
            ("Active" if user.active else "Deactivated: can do nothing and is assigned nothing")
            + (f" · member of {', '.join(teams)}" if teams else "")
        )

    # ------------------------------------------------------------ checking as typed

    def _check(self) -> dict[str, str]:
        """Runs in the background: the directory's own rules and words."""
        service = self.session.service
        new = self.user is None
        password = self.password.text()
        problems = service.directory.check_user(
            self.username.text().strip() if new else None,
            email=self.email.text().strip() or None,
            password=password if password else None,
        )
        return dict(problems)

    def _values_problems(self) -> dict[str, str]:
        if self.user is None and self.session.shared and not self.password.text():
            return {"password": "a shared database needs a password for everyone who signs in"}
        return {}

    # ------------------------------------------------------------ changes

    def _run(self, fn: Any, done: Any) -> None:
        self.problem.hide()
        self.save.setEnabled(False)

        def finished(result: Any) -> None:
            self.save.setEnabled(True)
            done(result)

        tasks.run(fn, finished, self._refused)

    def _refused(self, exc: BaseException) -> None:
        self.save.setEnabled(True)
        sentence, fields = refusal(exc)
        if fields:
            self.fields.show(fields)
        self.problem.setText(sentence)
        self.problem.show()

    def _save(self) -> None:
        local = self._values_problems()
        if local:
            self.fields.show(local)
            self.problem.setText(next(iter(local.values())))
            self.problem.show()
            return
        directory = self.session.service.directory
        name, email, role = (
            self.name.text().strip(),
            self.email.text().strip(),
            self.role.currentText(),
        )
        if self.user is None:
            username, password = self.username.text().strip(), self.password.text() or None
            self._run(
                lambda: directory.create_user(
                    username,
                    display_name=name or None,
                    email=email or None,
                    role=role,
                    password=password,
                ),
                lambda user: self._done(user, f"Created {user.username}"),
            )
            return
        seen = self.user
        self._run(
            lambda: directory.update_user(
                seen.username, display_name=name, email=email, role=role, if_unchanged=seen
            ),
            lambda user: self._done(user, f"Saved {user.username}"),
        )

    def _done(self, user: UserInfo, message: str) -> None:
        self.show_user(user)
        self.saved.emit(user)
        self.status.emit(message)

    def _set_password(self) -> None:
        if self.user is None:
            return
        username, password = self.user.username, self.password.text()
        directory = self.session.service.directory

        def done(_: object) -> None:
            self.password.clear()
            self.fields.show({})
            self.status.emit(f"Set a new password for {username}")

        self._run(lambda: directory.set_password(username, password), done)

    def _reactivate(self) -> None:
        if self.user is None:
            return
        username, directory = self.user.username, self.session.service.directory
        self._run(
            lambda: directory.activate(username),
            lambda user: self._done(user, f"Reactivated {username}"),
        )

    def _deactivate(self) -> None:
        if self.user is None:
            return
        self.dialog = DeactivateDialog(self.session, self.user.username, self)
        self.dialog.done_.connect(self._deactivated)
        self.dialog.open()

    def _deactivated(self, message: str) -> None:
        username = self.user.username if self.user else ""
        directory = self.session.service.directory
        self.status.emit(message)
        tasks.run(lambda: directory.user(username), lambda user: self._done(user, message))


class PeopleSection(QWidget):
    title = "People"
    status = Signal(str)

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.list = PeopleList(session)
        self.form = PersonForm(session)
        self.list.chosen.connect(self.form.show_user)
        self.list.new.clicked.connect(lambda: self._new())
        self.form.saved.connect(lambda _: self.list.reload())
        self.form.status.connect(self.status.emit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split(self.list, self.form, (700, 460)))

    def _new(self) -> None:
        self.list.table.clearSelection()
        self.form.show_user(None)
        self.form.username.setFocus(Qt.FocusReason.OtherFocusReason)

    def reload(self) -> None:
        self.list.refilter()

    def clear(self) -> None:
        """Someone else signed in: nothing of the previous person's view stays."""
        self.list.table.clearSelection()
        self.list.text.clear()
        self.form.show_user(None)
