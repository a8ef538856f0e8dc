"""Signing in with a password (shared databases)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialogButtonBox

from desktop_app import tasks
from desktop_app.console.run_detail import RunDetailWindow
from desktop_app.engine_runner import EmbeddedEngine
from desktop_app.session import AppSession
from desktop_app.shell import MainWindow
from desktop_app.signin import SignInDialog
from engine.services.baton import Baton
from tests.conftest import people
from tests.desktop_app.test_inbox import steps
from tests.desktop_app.widgets import text_room


def test_a_wrong_password_is_refused_and_the_right_one_signs_in(qtbot, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    baton = Baton(str(db_path))
    people(baton)
    baton.directory.set_password("alice", "correct horse")
    dialog = SignInDialog(baton, "the team database")
    qtbot.addWidget(dialog)
    dialog.show()
    signed_in: list[str] = []
    dialog.signed_in.connect(signed_in.append)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.keyClicks(dialog.username, "alice")
    qtbot.keyClicks(dialog.password, "wrong horse")
    ok.click()
    qtbot.waitUntil(lambda: dialog.problem.isVisible(), timeout=10000)
    assert dialog.problem.text() == "wrong username or password"
    assert dialog.password.text() == ""
    qtbot.keyClicks(dialog.password, "correct horse")
    with qtbot.waitSignal(dialog.signed_in, timeout=10000):
        ok.click()
    assert [u.username for u in signed_in] == ["alice"]
    tasks.wait_for_all()
    baton.close()


def _window(qtbot, session: AppSession):  # type: ignore[no-untyped-def]
    settings = QSettings(
        str(Path(os.environ["XDG_CONFIG_HOME"]) / "test.ini"), QSettings.Format.IniFormat
    )
    window = MainWindow(session, settings, EmbeddedEngine(session.baton))
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()  # shortcuts go to the active window
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    return window


def _choose_person(qtbot, window, username: str) -> None:  # type: ignore[no-untyped-def]
    """With the keyboard, as a person would: focus the switcher, arrow down to them."""
    switcher = window.account.users
    qtbot.waitUntil(lambda: switcher.findData(username) >= 0, timeout=10000)
    switcher.setFocus()
    key = (
        Qt.Key.Key_Down if switcher.findData(username) > switcher.currentIndex() else Qt.Key.Key_Up
    )
    while switcher.currentData() != username:
        qtbot.keyClick(switcher, key)


def test_a_single_user_install_switches_people_and_every_panel_follows(qtbot, demo: Baton) -> None:  # type: ignore[no-untyped-def]
    session = AppSession.open(demo, "carol")
    window = _window(qtbot, session)
    assert window.account.users.isVisible() and not window.account.sign_out_button.isVisible()
    runs = window.runs.runs
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.runs
    qtbot.waitUntil(lambda: runs.model.row(0) is not None, timeout=10000)
    cell = runs.view.visualRect(runs.model.index(0, 1)).center()
    qtbot.mouseClick(runs.view.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    assert len(runs.selected_rows()) == 1
    # The switcher names people with their roles.
    qtbot.waitUntil(lambda: window.account.users.count() > 1, timeout=10000)
    texts = [window.account.users.itemText(i) for i in range(window.account.users.count())]
    assert any(t.endswith("(supervisor)") for t in texts), texts

    _choose_person(qtbot, window, "alice")

    assert session.username == "alice" and session.role == "user"
    # A user's screen: the console is gone from the navigation and its shortcuts, and the
    # list that showed every run shows none, with the service's refusal.
    hidden = [
        window.navigation.item(i).text()
        for i in range(window.navigation.count())
        if window.navigation.item(i).isHidden()
    ]
    assert hidden == ["Designer", "Runs", "Work Items", "Dashboards", "Admin"]
    assert window.stack.currentWidget() is window.inbox
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.inbox
    qtbot.waitUntil(lambda: runs.model.rowCount() == 0 and runs.error.text() != "", timeout=10000)
    assert runs.selected_rows() == []
    qtbot.waitUntil(
        lambda: not window.inbox.model.loading and steps(window.inbox) == ["intake_check"],
        timeout=10000,
    )
    # And back: the supervisor's view returns.
    _choose_person(qtbot, window, "carol")
    assert not window.navigation.item(3).isHidden()
    qtbot.waitUntil(lambda: runs.model.rowCount() > 2 and runs.error.text() == "", timeout=10000)
    window.close()


def test_the_switcher_shows_every_name_whole(qtbot, demo: Baton) -> None:  # type: ignore[no-untyped-def]
    # Opened as someone with a shorter name, the box kept about that width: a newcomer read
    # "Carol Chen (supervi" once they had switched to her.
    window = _window(qtbot, AppSession.open(demo, "admin"))
    switcher = window.account.users
    qtbot.waitUntil(lambda: switcher.count() > 1, timeout=10000)
    texts = [switcher.itemText(i) for i in range(switcher.count())]
    longest = max(switcher.fontMetrics().horizontalAdvance(t) for t in texts)
    qtbot.waitUntil(lambda: text_room(switcher) >= longest, timeout=10000)
    _choose_person(qtbot, window, "carol")
    assert switcher.currentText().endswith("(supervisor)")
    assert text_room(switcher) >= longest
    window.close()


def test_run_windows_closed_or_open_are_gone_once_someone_else_is_signed_in(
    qtbot, demo: Baton
) -> None:  # type: ignore[no-untyped-def]
    # A newcomer found a run window closed with Escape still reading its run as the next
    # person, who got the service's refusal ("cannot look at runs") in a box on every change.
    session = AppSession.open(demo, "carol")
    window = _window(qtbot, session)
    runs = window.runs.runs
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: runs.model.row(1) is not None, timeout=10000)
    for row in (0, 1):
        cell = runs.view.visualRect(runs.model.index(row, 1)).center()
        qtbot.mouseClick(runs.view.viewport(), Qt.MouseButton.LeftButton, pos=cell)
        qtbot.mouseDClick(runs.view.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    qtbot.waitUntil(lambda: len(runs.windows) == 2, timeout=10000)
    closed, still_open = runs.windows
    qtbot.waitUntil(lambda: closed.detail is not None, timeout=10000)
    qtbot.keyClick(closed, Qt.Key.Key_Escape)
    assert not closed.isVisible() and still_open.isVisible()
    qtbot.waitUntil(lambda: len(window.findChildren(RunDetailWindow)) == 1, timeout=10000)

    _choose_person(qtbot, window, "alice")

    qtbot.waitUntil(lambda: not window.findChildren(RunDetailWindow), timeout=10000)
    assert runs.windows == []
    window.close()


@pytest.mark.postgres
def test_on_a_shared_database_changing_person_is_signing_in_again(qtbot, postgres_url: str) -> None:  # type: ignore[no-untyped-def]
    baton = Baton(postgres_url, upgrade=True)
    people(baton)
    baton.directory.set_password("admin", "admin secret")
    baton.directory.set_password("alice", "alice secret")
    session = AppSession.open(baton, "admin")
    window = _window(qtbot, session)
    # No switcher to act as anyone: the person signed in, and a way to sign out.
    assert not window.account.users.isVisible()
    assert window.account.who.text() == "admin (admin)" or "(admin)" in window.account.who.text()
    qtbot.mouseClick(window.account.sign_out_button, Qt.MouseButton.LeftButton)
    assert not window.isVisible()  # nothing of the admin's stays on screen
    dialog = window.signin
    assert dialog is not None and dialog.isVisible()
    assert session.username == "admin"  # nobody is anyone until the password is checked
    qtbot.keyClicks(dialog.username, "alice")
    qtbot.keyClicks(dialog.password, "alice secret")
    with qtbot.waitSignal(session.user_changed, timeout=10000):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert session.username == "alice" and window.isVisible()
    assert "(user)" in window.account.who.text()
    assert window.navigation.item(6).isHidden()  # Admin
    window.close()
    tasks.wait_for_all()
    baton.close()


@pytest.mark.postgres
def test_signing_out_and_cancelling_closes_the_window(qtbot, postgres_url: str) -> None:  # type: ignore[no-untyped-def]
    baton = Baton(postgres_url, upgrade=True)
    people(baton)
    session = AppSession.open(baton, "admin")
    window = _window(qtbot, session)
    qtbot.mouseClick(window.account.sign_out_button, Qt.MouseButton.LeftButton)
    dialog = window.signin
    assert dialog is not None
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    assert not window.isVisible()
    assert session.username == "admin"
    tasks.wait_for_all()
    baton.close()
