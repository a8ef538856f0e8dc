"""The console follows what others change, and keeps what the supervisor left: the runs list
and an open run, Needs attention while shown (its selection, its groups as collapsed), and
each reason listing what it counts."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QTreeWidgetItem

from desktop_app.console import attention as attention_view
from desktop_app.console.run_detail import RunDetailWindow
from desktop_app.console.runs_panel import RunsList, RunsPanel
from desktop_app.session import AppSession
from engine.services.baton import Baton
from tests.desktop_app.ops_flow import carol_fixture, make, ops_fixture  # noqa: F401
from tests.desktop_app.test_console import WAIT


def test_the_list_and_an_open_run_follow_changes_made_elsewhere(
    qtbot, carol: AppSession, ops: Baton
) -> None:  # type: ignore[no-untyped-def]
    run_id = make(ops, "waiting")
    runs = RunsList(carol)
    qtbot.addWidget(runs)
    qtbot.waitUntil(lambda: runs.model.row(0) is not None, timeout=WAIT)
    total = runs.model.total
    window = RunDetailWindow(carol, run_id)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.detail is not None, timeout=WAIT)
    # Somebody else, through the engine: a new run, and the open run's work done.
    ops.runs.start("console_ops", {"parts": 4})
    (item,) = ops.runs.show(run_id).work_items
    ops.as_user("alice").work.complete(item.id, {"amount": 3})
    qtbot.waitUntil(lambda: runs.model.total == total + 1, timeout=WAIT)
    qtbot.waitUntil(
        lambda: window.detail is not None and window.detail.run.current_element == "ship",
        timeout=WAIT,
    )
    assert "at ship" in window.header.text()


def _attention_shown(qtbot, carol: AppSession) -> RunsPanel:  # type: ignore[no-untyped-def]
    """The Runs panel on its Needs attention tab, its first report read."""
    panel = RunsPanel(carol)
    qtbot.addWidget(panel)
    panel.show()
    panel.tabs.setCurrentWidget(panel.attention)
    qtbot.waitUntil(lambda: panel.attention.report is not None, timeout=WAIT)
    return panel


def test_needs_attention_follows_changes_while_shown_and_keeps_the_selection(
    qtbot, carol: AppSession, ops: Baton, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(attention_view, "FOLLOW_MS", 100)
    first = make(ops, "failed")
    panel = _attention_shown(qtbot, carol)
    view = panel.attention

    def failed_rows() -> dict[int, QTreeWidgetItem]:
        group = view.tree.topLevelItem(0)
        return {int(group.child(i).text(0)): group.child(i) for i in range(group.childCount())}

    failed_rows()[first].setSelected(True)
    later = make(ops, "failed")  # elsewhere, through the engine
    qtbot.waitUntil(lambda: later in failed_rows(), timeout=WAIT)
    assert [a.run_id for a in view.selected()] == [first]


def double_click(qtbot, tree, item: QTreeWidgetItem) -> None:  # type: ignore[no-untyped-def]
    """As a mouse does it: a press and release, then the double click."""
    where = tree.visualItemRect(item).center()
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=where)


def test_needs_attention_keeps_groups_as_left_and_lists_what_each_reason_counts(  # type: ignore[no-untyped-def]
    qtbot, carol: AppSession, ops: Baton, clock
) -> None:
    failed = [make(ops, "failed"), make(ops, "failed")]
    make(ops, "waiting")
    clock.advance(dt.timedelta(days=10))  # its review is long overdue
    panel = _attention_shown(qtbot, carol)
    view = panel.attention

    def group(title: str) -> QTreeWidgetItem:
        for g in range(view.tree.topLevelItemCount()):
            item = view.tree.topLevelItem(g)
            if item is not None and item.text(0).startswith(title):
                return item
        raise AssertionError(f"no group {title}")

    # Collapse "Failed step" with the keyboard; a refresh keeps it collapsed.
    failed_group = group("Failed step")
    assert failed_group.isExpanded()
    view.tree.setFocus()
    view.tree.setCurrentItem(failed_group)
    qtbot.keyClick(view.tree, Qt.Key.Key_Left)
    assert not failed_group.isExpanded()
    view.report = None
    qtbot.mouseClick(view.findChild(QPushButton, "attentionRefresh"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.report is not None, timeout=WAIT)
    assert not group("Failed step").isExpanded()
    assert group("Overdue work").isExpanded()

    # A double-click on a reason lists what it counts: the failed runs, in All runs ...
    double_click(qtbot, view.tree, group("Failed step"))
    assert panel.tabs.currentWidget() is panel.runs
    assert panel.runs.filter().statuses == ("Error",)
    errors = {r.id for r in ops.runs.list(status="Error", limit=100)}
    assert set(failed) <= errors
    qtbot.waitUntil(lambda: panel.runs.model.total == len(errors), timeout=WAIT)
    # ... and overdue work, in Work Items.
    panel.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.report is not None, timeout=WAIT)
    with qtbot.waitSignal(panel.show_work, timeout=WAIT) as shown:
        double_click(qtbot, view.tree, group("Overdue work"))
    assert shown.args[0].sla == "overdue"
