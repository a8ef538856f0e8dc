"""Start-up: the main window opens without Records, the console, the dashboards' charts or
Admin, nor the definition models they use; each is built the first time it is shown, and
``--smoke`` says when the window was painted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from desktop_app import tasks
from desktop_app.admin.panel import AdminPanel
from desktop_app.console.dashboards import DashboardsPanel
from desktop_app.console.runs_panel import RunsPanel
from desktop_app.console.work_panel import WorkItemsPanel
from desktop_app.engine_runner import EmbeddedEngine
from desktop_app.panels.records import RecordsPanel
from desktop_app.session import AppSession
from desktop_app.shell import MainWindow
from engine.services.baton import Baton

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(qtbot: Any, demo: Baton) -> Iterator[MainWindow]:
    settings = QSettings(
        str(Path(os.environ["XDG_CONFIG_HOME"]) / "startup.ini"), QSettings.Format.IniFormat
    )
    shown = MainWindow(AppSession.open(demo, "admin"), settings, EmbeddedEngine(demo))
    qtbot.addWidget(shown)
    shown.show()
    yield shown
    shown._leaving = True
    shown.close()
    tasks.wait_for_all()
    QApplication.processEvents()


def _loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_shell_imports_no_chart_library_and_no_console() -> None:
    loaded = _loaded_after("import desktop_app.app")
    assert "pyqtgraph" not in loaded
    for module in (
        "desktop_app.panels.records",
        "desktop_app.console.dashboards",
        "desktop_app.console.runs_panel",
        "desktop_app.console.work_panel",
        "desktop_app.admin.panel",
        "pydantic",
    ):
        assert module not in loaded


def test_opening_a_database_loads_no_definition_models(demo: Baton) -> None:
    """Whether the demo is still to be loaded is one read: the start used to list every
    orchestration with its versions, counting the runs of each (a scan of all runs), and
    imported the definition models to do it (about a tenth of a second)."""
    loaded = _loaded_after(
        "from desktop_app.app import open_database\n"
        f"baton, owner, pending = open_database({str(demo.db.file)!r})\n"
        "assert not pending and owner.username == 'admin'"
    )
    assert "pydantic" not in loaded and "engine.definitions" not in loaded


def test_each_heavy_panel_is_built_when_first_shown(qtbot: Any, window: MainWindow) -> None:
    kinds = {2: RecordsPanel, 4: RunsPanel, 5: WorkItemsPanel, 6: DashboardsPanel, 7: AdminPanel}
    for number, kind in kinds.items():
        assert not isinstance(window.stack.widget(number - 1), kind)
    for number, kind in kinds.items():
        qtbot.keyClick(window, Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.ControlModifier)
        shown = window.stack.currentWidget()
        assert isinstance(shown, kind) and window.stack.currentIndex() == number - 1
    assert window.stack.count() == 7
    # The names other parts use reach the panels themselves, built once.
    assert window.runs is window.stack.widget(3) and window.admin is window.stack.widget(6)


def test_a_panel_asked_for_before_it_is_shown_is_built_in_its_place(window: MainWindow) -> None:
    panel = window.work_items  # e.g. a dashboard's link to the work list
    assert isinstance(panel, WorkItemsPanel)
    assert window.stack.indexOf(panel) == 4 and window.stack.currentIndex() == 0
    assert window.work_items is panel


def test_smoke_says_when_the_window_was_painted(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    out = subprocess.run(
        [sys.executable, "-m", "desktop_app.launcher", "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    painted = [line for line in out.stdout.splitlines() if "painted" in line]
    assert painted and float(painted[0].split("painted ")[1].split(" s")[0]) > 0


def test_first_launch_opens_with_the_demos_people_and_loads_the_rest_after(
    tmp_path: Path,
) -> None:
    from desktop_app.app import open_database
    from engine.clients.demo import load_demo, load_demo_people

    baton, owner, demo_pending = open_database(str(tmp_path / "first.sqlite3"))
    try:
        assert demo_pending and owner.username == "admin"
        assert baton.definitions.list() == []  # the slow part waits for the window
        people = len(baton.directory.users())
        load_demo_people(baton)  # again: nothing twice
        assert len(baton.directory.users()) == people
        load_demo(baton)
        assert any(o.name == "customer_onboarding" for o in baton.definitions.list())
    finally:
        baton.close()
    reopened, _, demo_pending = open_database(str(tmp_path / "first.sqlite3"))
    reopened.close()
    assert not demo_pending
