"""The main window as a desktop program: menus with their shortcuts (each bound once), a
window that fits a laptop screen, F5, starting a run, and nothing lost on quitting."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from desktop_app import tasks
from desktop_app.designer.recovery import recovery_file
from desktop_app.engine_runner import EmbeddedEngine
from desktop_app.session import AppSession
from desktop_app.shell import MainWindow
from desktop_app.start_run import StartRunDialog
from engine.services.baton import Baton

WAIT = 10000


def make_window(qtbot: Any, baton: Baton, user: str = "admin") -> MainWindow:
    settings = QSettings(
        str(Path(os.environ["XDG_CONFIG_HOME"]) / "test.ini"), QSettings.Format.IniFormat
    )
    window = MainWindow(AppSession.open(baton, user), settings, EmbeddedEngine(baton))
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    return window


@pytest.fixture
def window(qtbot: Any, demo: Baton) -> Iterator[MainWindow]:
    shown = make_window(qtbot, demo)
    yield shown
    shown._leaving = True  # whatever a test left unsaved: let the window go
    shown.close()
    tasks.wait_for_all()
    QApplication.processEvents()


def show_panel(qtbot: Any, window: MainWindow, number: int) -> None:
    qtbot.keyClick(window, Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentIndex() == number - 1


def make_a_change(qtbot: Any, designer: Any) -> None:
    """A valid edit by keyboard: the legal review moves after the security one."""
    designer.view.setFocus()
    designer.document.select(("review", "legal"))
    qtbot.keyClick(designer.view, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert designer.document.modified


def click_box_button(qtbot: Any, box: QMessageBox, which: QMessageBox.StandardButton) -> None:
    button = box.button(which)
    assert button is not None, f"the question offers {which}"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_every_panel_fits_a_laptop_screen(qtbot: Any, window: MainWindow) -> None:
    for number in range(1, window.navigation.count() + 1):
        show_panel(qtbot, window, number)
        hint = window.minimumSizeHint()
        assert hint.width() <= 1280 and hint.height() <= 700, (
            window.navigation.item(number - 1).text(),
            hint,
        )


def test_the_menus_name_the_commands_and_no_shortcut_is_bound_twice(
    qtbot: Any, window: MainWindow
) -> None:
    assert window.built_designer is None  # built when first shown: the window opens sooner
    show_panel(qtbot, window, 3)  # its own keys are bound from then on
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles == ["File", "Edit", "View", "Run", "Help"]
    file_items = [a.text().replace("&", "") for a in window.menus.file.actions() if a.text()]
    assert file_items == [
        "New orchestration…",
        "Open / Import…",
        "Save draft",
        "Export…",
        "Import from Salesforce…",
        "Switch database…",
        "Quit",
    ]
    assert window.menus.save.shortcut() == QKeySequence("Ctrl+S")
    assert "Ctrl+S" in window.menus.save.toolTip()
    # Every shortcut reaches exactly one command where it can be pressed: window-wide ones
    # are unique, and the Designer's own (active while it has the focus) clash with none.
    window_wide: dict[str, str] = {}
    designer: dict[str, str] = {}
    for action in window.findChildren(QAction):
        keys = sorted({k.toString() for k in action.shortcuts() if not k.isEmpty()})
        context = action.shortcutContext()
        if not keys or context == Qt.ShortcutContext.WidgetShortcut:
            continue  # shown in a menu only: the focused widget handles the keys itself
        table = (
            designer if context == Qt.ShortcutContext.WidgetWithChildrenShortcut else window_wide
        )
        for key in keys:
            assert key not in table, f"{key}: {table.get(key)} and {action.text()}"
            table[key] = action.text()
    clashes = set(window_wide) & set(designer)
    assert not clashes, clashes
    assert "Ctrl+Shift+D" in designer and designer["Ctrl+Shift+D"] == "Add decision"


def test_f5_refreshes_the_panel_shown(qtbot: Any, window: MainWindow, demo: Baton) -> None:
    show_panel(qtbot, window, 4)
    runs = window.runs.runs
    qtbot.waitUntil(lambda: runs.model.total > 0, timeout=WAIT)
    before = runs.model.total
    # A run started elsewhere; F5 shows it without waiting for the change notice.
    runs._pending.setInterval(3_600_000)
    demo.runs.start("employee_hiring", {"candidate_name": "Ann", "position": "Chef"})
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: runs.model.total == before + 1, timeout=WAIT)


def test_start_a_run_from_the_runs_panel_refused_then_started(
    qtbot: Any, window: MainWindow
) -> None:
    show_panel(qtbot, window, 4)
    qtbot.mouseClick(window.runs.runs.start_button, Qt.MouseButton.LeftButton)
    dialog = window.findChild(StartRunDialog, "startRun")
    assert isinstance(dialog, StartRunDialog)
    qtbot.waitUntil(lambda: dialog.orchestrations.count() > 0, timeout=WAIT)
    dialog.orchestrations.setFocus()
    while dialog.orchestrations.currentData() != "customer_onboarding":
        qtbot.keyClick(dialog.orchestrations, Qt.Key.Key_Down)
    assert "customer_name" in dialog.editors and "amount" in dialog.editors
    # The amount typed as words: the engine's own message shows at the field.
    qtbot.keyClicks(dialog.editors["customer_name"].widget, "Initech")
    qtbot.keyClicks(dialog.editors["amount"].widget, "a lot")
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    error = dialog.editors["amount"].error
    qtbot.waitUntil(lambda: error.isVisible(), timeout=WAIT)
    assert "number" in error.text()
    amount = dialog.editors["amount"].widget
    amount.selectAll()  # type: ignore[attr-defined]
    qtbot.keyClicks(amount, "125000")
    with qtbot.waitSignal(dialog.started, timeout=WAIT) as started:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    run = started.args[0]
    # The new run opens in its detail window.
    qtbot.waitUntil(lambda: any(w.run_id == run.id for w in window.runs.runs.windows), timeout=WAIT)
    for detail in list(window.runs.runs.windows):
        detail.close()


def test_quitting_with_unsaved_changes_asks_and_cancel_keeps_them(
    qtbot: Any, window: MainWindow
) -> None:
    show_panel(qtbot, window, 3)
    designer = window.designer
    qtbot.waitUntil(lambda: designer.document.name == "customer_onboarding", timeout=WAIT)
    qtbot.mouseClick(designer.versions.buttons["Edit a copy"], Qt.MouseButton.LeftButton)
    make_a_change(qtbot, designer)
    assert designer.document.modified
    changed = designer.document.data

    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    box = designer.versions.unsaved_box
    assert box is not None and box.isVisible()
    click_box_button(qtbot, box, QMessageBox.StandardButton.Cancel)
    assert window.isVisible() and designer.document.data == changed

    # Choosing another orchestration asks too; Cancel leaves the bar on the open one.
    choice = designer.versions.orchestrations
    index = choice.findText("vendor_onboarding")
    choice.setCurrentIndex(index)
    choice.activated.emit(index)  # what a click in the popup sends
    box = designer.versions.unsaved_box
    assert box is not None
    click_box_button(qtbot, box, QMessageBox.StandardButton.Cancel)
    assert choice.currentText() == "customer_onboarding"
    assert designer.document.data == changed

    # Quit again and let the changes go: the window closes.
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    box = designer.versions.unsaved_box
    assert box is not None
    click_box_button(qtbot, box, QMessageBox.StandardButton.Discard)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT)


def test_unsaved_work_is_kept_on_disk_and_offered_back_after_a_crash(
    qtbot: Any, demo: Baton
) -> None:
    first = make_window(qtbot, demo)
    show_panel(qtbot, first, 3)
    designer = first.designer
    qtbot.waitUntil(lambda: designer.document.name == "customer_onboarding", timeout=WAIT)
    qtbot.mouseClick(designer.versions.buttons["Edit a copy"], Qt.MouseButton.LeftButton)
    make_a_change(qtbot, designer)
    changed = designer.document.data
    kept = recovery_file(demo.db.url, "admin")
    qtbot.waitUntil(kept.exists, timeout=15000)  # written every few seconds
    # The app dies without asking anything: the window goes, the file stays.
    first._leaving = True
    designer.recovery.timer.stop()
    first.hide()
    first.engine.stop()
    first.session.close()
    tasks.wait_for_all()
    assert kept.exists()

    second = make_window(qtbot, demo)
    show_panel(qtbot, second, 3)
    offered = second.designer.recovery
    qtbot.waitUntil(lambda: offered.offer_box is not None, timeout=WAIT)
    restore = offered.offer_box.button(QMessageBox.StandardButton.Ok)  # type: ignore[union-attr]
    assert isinstance(restore, QPushButton) and restore.text() == "Restore"
    qtbot.mouseClick(restore, Qt.MouseButton.LeftButton)
    assert second.designer.document.data == changed
    assert second.designer.document.modified
    # Saved: nothing is offered again.
    second.activateWindow()  # back from the question (the offscreen platform forgets)
    qtbot.waitUntil(second.isActiveWindow, timeout=5000)
    with qtbot.waitSignal(second.designer.document.saved, timeout=WAIT):
        qtbot.keyClick(second, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not kept.exists(), timeout=WAIT)
    assert not second.designer.document.modified
    second._leaving = True
    second.close()
    tasks.wait_for_all()


def test_the_designer_is_built_when_first_asked_for_and_its_menu_commands_show_it(
    qtbot: Any, demo: Baton
) -> None:
    window = make_window(qtbot, demo)
    assert window.built_designer is None and window.stack.currentIndex() == 0
    assert not window.menus.save.isEnabled()  # nothing is open in a Designer not yet built
    # View → Fit, chosen in the Inbox: the Designer is built, shown, and fits its canvas.
    fit = window.menus.designer_actions["fit_action"]
    assert fit.shortcut() == QKeySequence("Ctrl+0") and "Ctrl+0" in fit.toolTip()
    fit.trigger()
    designer = window.built_designer
    assert designer is not None and window.stack.currentWidget() is designer
    qtbot.waitUntil(lambda: designer.document.name == "customer_onboarding", timeout=WAIT)
    qtbot.mouseClick(designer.versions.buttons["Edit a copy"], Qt.MouseButton.LeftButton)
    make_a_change(qtbot, designer)
    assert window.menus.save.isEnabled()  # Save follows the Designer's document once built
    window._leaving = True
    window.close()
    tasks.wait_for_all()


def test_a_window_whose_designer_was_never_shown_closes_without_asking(
    qtbot: Any, demo: Baton
) -> None:
    window = make_window(qtbot, demo)
    show_panel(qtbot, window, 1)
    window.close()
    assert not window.isVisible() and window.built_designer is None
    tasks.wait_for_all()
