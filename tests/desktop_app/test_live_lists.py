"""Lists stay put while the world changes: a notice updates rows in place, the selection and
the scroll position survive it, a window skips the echo of its own change, and stale answers
are dropped in one place (``tasks.Latest``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QLineEdit

from desktop_app import tasks
from desktop_app.console.runs_panel import RunsPanel
from desktop_app.panels.inbox import InboxPanel
from desktop_app.session import AppSession
from engine.clients.history import generate_history
from engine.services.baton import Baton

WAIT = 15000


@pytest.fixture
def history(demo: Baton) -> Baton:
    generate_history(demo, 300, days=30, seed=5)
    return demo


@pytest.fixture
def elsewhere(db_path: Path, demo: Baton) -> Iterator[Baton]:
    """Another Baton on the same database file: another desktop, a worker, the CLI."""
    other = Baton(str(db_path), actor="carol")
    yield other
    other.close()


def _click(qtbot, view, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:  # type: ignore[no-untyped-def]
    rect = view.visualRect(view.model().index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def _selected_ids(runs: Any) -> set[int]:
    return {r.id for r in runs.selected_rows()}


def test_a_supervisors_three_selected_runs_and_scroll_survive_changes_elsewhere(  # type: ignore[no-untyped-def]
    qtbot, qtmodeltester, history: Baton, elsewhere: Baton
) -> None:
    session = AppSession.open(history, "carol")
    panel = RunsPanel(session)
    qtbot.addWidget(panel)
    panel.destroyed.connect(session.close)
    panel.resize(1200, 700)
    panel.show()
    runs, view = panel.runs, panel.runs.view
    qtbot.waitUntil(lambda: runs.model.total > 0 and runs.model.row(0) is not None, timeout=WAIT)
    qtmodeltester.check(runs.model)  # and every signal from now on is checked too
    # The supervisor scrolls down a few pages, then picks three runs with the mouse.
    _click(qtbot, view, 0)
    for _ in range(3):
        qtbot.keyClick(view, Qt.Key.Key_PageDown)
    scrolled = view.verticalScrollBar().value()
    assert scrolled > 0
    top = view.rowAt(5)
    qtbot.waitUntil(lambda: runs.model.row(top + 5) is not None, timeout=WAIT)
    _click(qtbot, view, top + 1)
    _click(qtbot, view, top + 3, Qt.KeyboardModifier.ControlModifier)
    _click(qtbot, view, top + 4, Qt.KeyboardModifier.ControlModifier)
    chosen = _selected_ids(runs)
    assert len(chosen) == 3
    resets: list[int] = []
    runs.model.modelAboutToBeReset.connect(lambda: resets.append(1))
    total = runs.model.total

    # Another desktop starts a run: it comes first (newest), every row moves down one.
    started = elsewhere.runs.start("customer_onboarding", {"customer_name": "New Co", "amount": 5})
    qtbot.waitUntil(
        lambda: runs.model.total == total + 1 and getattr(runs.model.row(0), "id", 0) == started.id,
        timeout=WAIT,
    )
    assert view.verticalScrollBar().value() == scrolled
    assert _selected_ids(runs) == chosen
    assert len(view.selectionModel().selectedRows()) == 3
    assert "3 selected" in runs.count.text()

    # … and cancels it: no row comes or goes, the row changes in place.
    elsewhere.runs.cancel(started.id, "started by mistake")
    qtbot.waitUntil(lambda: getattr(runs.model.row(0), "status", "") == "Canceled", timeout=WAIT)
    assert _selected_ids(runs) == chosen
    assert view.verticalScrollBar().value() == scrolled
    assert resets == []


def _open_inbox(qtbot, demo: Baton, user: str) -> InboxPanel:  # type: ignore[no-untyped-def]
    session = AppSession.open(demo, user)
    panel = InboxPanel(session)
    qtbot.addWidget(panel)
    panel.destroyed.connect(session.close)
    panel.resize(1200, 700)
    panel.show()
    qtbot.waitUntil(lambda: not panel.model.loading and bool(panel.model.items), timeout=WAIT)
    return panel


def _loads(panel: InboxPanel) -> list[int]:
    """Counts the Inbox's loads of its list from now on."""
    calls: list[int] = []
    loader = panel.model.loader

    def counting(*args: Any) -> Any:
        calls.append(1)
        return loader(*args)

    panel.model.loader = counting
    return calls


def test_the_inbox_reloads_once_after_a_completion_not_again_on_its_echo(  # type: ignore[no-untyped-def]
    qtbot, demo: Baton
) -> None:
    panel = _open_inbox(qtbot, demo, "alice")
    row = next(r for r, i in enumerate(panel.model.items) if i.step == "intake_check")
    _click(qtbot, panel.table, row)
    qtbot.waitUntil(lambda: panel.pane.form is not None, timeout=WAIT)
    form = panel.pane.form
    assert form is not None
    done_id = panel.pane.item_id
    checkbox, line = form.editors["contract_signed"].widget, form.editors["billing_email"].widget
    assert isinstance(checkbox, QCheckBox) and isinstance(line, QLineEdit)
    checkbox.setChecked(True)
    qtbot.keyClicks(line, "accounts@globex.example")
    loads = _loads(panel)
    echoes: list[Any] = []
    panel.session.changed.connect(  # after the panel's own slot: it has seen the echo first
        lambda change: echoes.append(change) if done_id in change.ids.get("work", ()) else None
    )
    qtbot.mouseClick(form.buttons[None], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: bool(
            echoes
            and loads
            and not panel.model.loading
            and done_id not in {i.id for i in panel.model.items}
        ),
        timeout=WAIT,
    )
    assert tasks.wait_for_all(WAIT)
    QApplication.processEvents()
    assert not panel.model.loading
    assert len(loads) == 1, "the Inbox reloaded on the echo of its own completion"
    assert echoes[0].origin == panel.origin  # the notice of the completion: its echo


def test_work_arriving_changes_the_inbox_in_place_and_keeps_the_selection(  # type: ignore[no-untyped-def]
    qtbot, qtmodeltester, demo: Baton, elsewhere: Baton
) -> None:
    panel = _open_inbox(qtbot, demo, "alice")
    qtmodeltester.check(panel.model)
    last = len(panel.model.items) - 1
    _click(qtbot, panel.table, last)
    qtbot.waitUntil(lambda: panel.pane.details is not None, timeout=WAIT)
    chosen = panel.selected_item().id
    resets: list[int] = []
    panel.model.modelAboutToBeReset.connect(lambda: resets.append(1))
    before = len(panel.model.items)
    demo.runs.start("customer_onboarding", {"customer_name": "Late Co", "amount": 100})
    qtbot.waitUntil(lambda: len(panel.model.items) == before + 1, timeout=WAIT)
    assert panel.selected_item().id == chosen
    assert [i.row() for i in panel.table.selectionModel().selectedRows()] == [
        next(r for r, i in enumerate(panel.model.items) if i.id == chosen)
    ]
    assert resets == []


def test_a_stale_answer_is_dropped_by_the_shared_helper(qtbot) -> None:  # type: ignore[no-untyped-def]
    latest = tasks.Latest()
    heard: list[Any] = []
    slow = threading.Event()

    def first() -> str:
        assert slow.wait(WAIT / 1000)
        return "first, slow"

    def failing() -> str:
        assert slow.wait(WAIT / 1000)
        raise ValueError("a stale failure")

    latest.run(first, heard.append, heard.append)
    latest.join(failing, heard.append, heard.append)  # a page of the same listing
    latest.run(lambda: "second, quick", heard.append, heard.append)
    assert not latest.settled  # what shows is not of the latest call yet
    qtbot.waitUntil(lambda: heard == ["second, quick"], timeout=WAIT)
    assert latest.settled
    slow.set()
    assert tasks.wait_for_all(WAIT)
    QApplication.processEvents()
    assert heard == ["second, quick"]  # the earlier answers came later, and were dropped


def test_the_runs_list_refreshes_in_place_without_a_selection_too(  # type: ignore[no-untyped-def]
    qtbot, history: Baton
) -> None:
    """A refresh with nothing selected changes the rows and the count, and nothing else."""
    session = AppSession.open(history, "carol")
    panel = RunsPanel(session)
    qtbot.addWidget(panel)
    panel.destroyed.connect(session.close)
    runs = panel.runs
    qtbot.waitUntil(lambda: runs.model.total > 0 and runs.model.row(0) is not None, timeout=WAIT)
    total = runs.model.total
    started = history.runs.start("customer_onboarding", {"customer_name": "X", "amount": 1})
    qtbot.waitUntil(
        lambda: runs.model.total == total + 1 and getattr(runs.model.row(0), "id", 0) == started.id,
        timeout=WAIT,
    )
    assert f"{total + 1:,} runs" in runs.count.text()
    runs.view.selectionModel().select(
        runs.model.index(0, 0),
        QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
    )
    assert _selected_ids(runs) == {started.id}


def test_a_run_window_reads_its_run_again_only_for_notices_about_it(  # type: ignore[no-untyped-def]
    qtbot, demo: Baton
) -> None:
    from desktop_app.console.run_detail import RunDetailWindow

    session = AppSession.open(demo, "carol")
    mine = demo.runs.start("customer_onboarding", {"customer_name": "Mine", "amount": 5})
    window = RunDetailWindow(session, mine.id)
    qtbot.addWidget(window)
    window.destroyed.connect(session.close)
    qtbot.waitUntil(lambda: window.detail is not None, timeout=WAIT)
    with qtbot.waitSignal(session.changed, timeout=WAIT):  # a run of someone else's
        demo.runs.start("customer_onboarding", {"customer_name": "Other", "amount": 5})
    assert not window._pending.isActive()
    with qtbot.waitSignal(session.changed, timeout=WAIT):
        demo.runs.cancel(mine.id, "not needed")
    assert window._pending.isActive()  # it reads the run again in a moment
    qtbot.waitUntil(lambda: window.detail.run.status == "Canceled", timeout=WAIT)


def test_a_search_answered_after_the_line_was_cleared_suggests_nothing(qtbot) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from desktop_app.pickers import PeoplePicker

    gate = threading.Event()

    def people(*_args: Any, **_kwargs: Any) -> list[Any]:
        assert gate.wait(WAIT / 1000)  # the directory is slow today
        return [SimpleNamespace(display_name="Alice Adams", username="alice", role="user")]

    directory = SimpleNamespace(people=people, groups=lambda kind: [])
    picker = PeoplePicker(lambda: SimpleNamespace(directory=directory), kinds=("user",))
    qtbot.addWidget(picker)
    picker.show()
    qtbot.keyClicks(picker, "a")
    qtbot.keyClick(picker, Qt.Key.Key_Backspace)  # changed their mind: the line is empty
    assert picker.text() == ""
    gate.set()
    assert tasks.wait_for_all(WAIT)
    QApplication.processEvents()
    assert picker.suggestions.rowCount() == 0
