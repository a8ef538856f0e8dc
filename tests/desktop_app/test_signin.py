"""Signing in with a password (shared databases)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialogButtonBox

from desktop_app import tasks
from desktop_app.signin import SignInDialog
from engine.services.baton import Baton
from tests.conftest import people


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
    assert signed_in == ["alice"]
    tasks.wait_for_all()
    baton.close()
