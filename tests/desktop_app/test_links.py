"""baton:// links: an e-mail's link opens that work in the running app, as the person it was
meant for; a bad link is one clear sentence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from desktop_app import tasks
from desktop_app.engine_runner import EmbeddedEngine
from desktop_app.links import BadLink, Link, LinkServer
from desktop_app.session import AppSession
from desktop_app.shell import MainWindow
from engine.services.baton import Baton

BATON = str(Path(sys.executable).parent / "baton")


def test_links_are_read_or_refused_clearly() -> None:
    assert Link.parse("baton://work/12?for=alice") == Link("work", 12, "alice")
    assert Link.parse("baton://runs/4") == Link("runs", 4, None)
    for bad in ("http://work/1", "baton://work/x", "baton://orders/3", "baton://work/" + "9" * 30):
        with pytest.raises(BadLink):
            Link.parse(bad)


def test_a_bad_link_on_the_command_line_is_one_sentence() -> None:
    result = subprocess.run(
        [BATON, "baton://work/twelve"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "names no work item or run" in result.stderr and "Traceback" not in result.stderr


def test_a_link_given_to_the_running_app_opens_that_item_as_its_person(
    qtbot: Any, demo: Baton, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BATON_LINK_SERVER", f"baton-test-{os.getpid()}-{tmp_path.name}")
    settings = QSettings(str(tmp_path / "test.ini"), QSettings.Format.IniFormat)
    window = MainWindow(AppSession.open(demo, "carol"), settings, EmbeddedEngine(demo))
    qtbot.addWidget(window)
    window.show()
    server = LinkServer(window)
    server.received.connect(window.open_link)
    alices = [w for w in demo.work.list(user="alice") if w.step == "intake_check"]
    item = alices[0]
    # Another `baton` process, as the desktop starts it for a clicked link: it hands the
    # link over and ends.
    handed = subprocess.run(
        [BATON, f"baton://work/{item.id}?for=alice"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert handed.returncode == 0, handed.stderr
    qtbot.waitUntil(lambda: window.session.username == "alice", timeout=10000)
    assert window.stack.currentWidget() is window.inbox
    pane = window.inbox.pane
    qtbot.waitUntil(
        lambda: pane.details is not None and pane.details.item.id == item.id, timeout=10000
    )
    qtbot.waitUntil(lambda: window.inbox.selected_item() is not None, timeout=10000)
    assert window.inbox.selected_item().id == item.id
    server.close()
    window._leaving = True
    window.close()
    tasks.wait_for_all()


def test_the_baton_command_keeps_db_for_a_command_line_command(tmp_path: Path) -> None:
    """`baton --db FILE COMMAND …` runs the command on FILE (only `baton --db FILE` alone, or
    with a link, opens the app on it)."""
    db = tmp_path / "team.sqlite3"
    for args in (
        ["--db", str(db), "db", "upgrade"],
        ["--db", str(db), "--as", "x", "db", "status"],
    ):
        result = subprocess.run([BATON, *args], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert str(db) in result.stdout
