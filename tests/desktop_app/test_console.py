"""The supervisor console through its widgets: Runs, run detail, interventions (single and
bulk, allowed and refused), Needs attention, Work Items with bulk reassign, Dashboards."""

from __future__ import annotations

from collections.abc import Iterator

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication, QInputDialog

from desktop_app import tasks
from desktop_app.console.dashboards import DashboardsPanel
from desktop_app.console.interventions import InterventionDialog, OutcomesDialog
from desktop_app.console.run_detail import RunDetailWindow
from desktop_app.console.runs_panel import RunsPanel
from desktop_app.console.work_panel import WorkItemsPanel
from desktop_app.session import AppSession
from engine.clients.history import generate_history
from engine.services.baton import Baton

WAIT = 15000


@pytest.fixture
def history(demo: Baton) -> Baton:
    generate_history(demo, 300, days=30, seed=5)
    return demo


@pytest.fixture
def carol(history: Baton) -> Iterator[AppSession]:
    session = AppSession.open(history, "carol")
    yield session
    session.close()


def _select(view, rows: list[int]) -> None:  # type: ignore[no-untyped-def]
    model = view.selectionModel()
    model.clearSelection()
    for row in rows:
        model.select(
            view.model().index(row, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )


def _dialog(kind: type) -> object | None:
    return next(
        (w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()), None
    )


def _runs_panel(qtbot, session: AppSession) -> RunsPanel:  # type: ignore[no-untyped-def]
    panel = RunsPanel(session)
    qtbot.addWidget(panel)
    runs = panel.runs
    qtbot.waitUntil(lambda: runs.model.total > 0 and runs.model.row(0) is not None, timeout=WAIT)
    return panel


def test_the_runs_list_counts_pages_and_filters(qtbot, carol: AppSession, history: Baton) -> None:  # type: ignore[no-untyped-def]
    panel = _runs_panel(qtbot, carol)
    runs = panel.runs
    assert runs.model.total == history.console.count_runs()
    assert "runs" in runs.count.text()
    last = runs.model.total - 1
    qtbot.waitUntil(
        lambda: runs.model.row(last) is not None, timeout=WAIT
    )  # the far end, by offset
    assert runs.model.row(last).id == history.console.runs(from_end=True, limit=1)[0].id
    qtbot.waitUntil(lambda: runs.bar.orchestration.count() > 1, timeout=WAIT)
    runs.bar.status.setCurrentText("Error")
    qtbot.waitUntil(
        lambda: (
            runs.model.total == history.console.count_runs(runs.filter())
            and runs.model.row(0) is not None
            and runs.model.row(0).status == "Error"
        ),
        timeout=WAIT,
    )
    runs.view.horizontalHeader().sectionClicked.emit(0)  # sort by run number
    qtbot.waitUntil(lambda: runs.sort == "id" and runs.model.row(0) is not None, timeout=WAIT)


def test_saved_views_are_kept_per_person(
    qtbot, carol: AppSession, history: Baton, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    panel = _runs_panel(qtbot, carol)
    runs = panel.runs
    qtbot.waitUntil(lambda: runs.bar.orchestration.count() > 1, timeout=WAIT)
    runs.bar.orchestration.setCurrentText("refund_request")
    runs.bar.status.setCurrentText("InProgress")
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Open refunds", True))
    runs.views.save.click()
    qtbot.waitUntil(lambda: "Open refunds" in runs.views.views, timeout=WAIT)
    runs.bar.orchestration.setCurrentText("Any")
    runs.bar.status.setCurrentText("Any")
    index = runs.views.box.findText("Open refunds")
    runs.views.box.setCurrentIndex(index)
    runs.views.box.activated.emit(index)
    assert runs.bar.orchestration.currentText() == "refund_request"
    assert runs.bar.status.currentText() == "InProgress"
    assert [v.name for v in history.as_user("carol").console.views("runs")] == ["Open refunds"]
    assert history.as_user("admin").console.views("runs") == []


def _intervene(qtbot, reason: str, choice: str | None = None, outputs: str | None = None) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: _dialog(InterventionDialog) is not None, timeout=WAIT)
    dialog = _dialog(InterventionDialog)
    assert isinstance(dialog, InterventionDialog)
    if choice is not None:
        dialog.choice.setCurrentText(choice)
    if outputs is not None:
        dialog.outputs.setPlainText(outputs)
    dialog.reason.setText(reason)
    dialog._check()


def test_bulk_suspend_over_selected_runs_reports_each_run(
    qtbot, carol: AppSession, history: Baton
) -> None:  # type: ignore[no-untyped-def]
    panel = _runs_panel(qtbot, carol)
    runs = panel.runs
    qtbot.waitUntil(lambda: runs.bar.orchestration.count() > 1, timeout=WAIT)
    runs.bar.status.setCurrentText("Completed")  # one will be refused
    qtbot.waitUntil(
        lambda: runs.model.row(0) is not None and runs.model.row(0).status == "Completed",
        timeout=WAIT,
    )
    finished = runs.model.row(0).id
    runs.bar.status.setCurrentText("InProgress")
    qtbot.waitUntil(
        lambda: runs.model.row(2) is not None and runs.model.row(0).status == "InProgress",
        timeout=WAIT,
    )
    _select(runs.view, [0, 1])
    chosen = [r.id for r in runs.selected_rows()]
    assert len(chosen) == 2
    from desktop_app.console.interventions import OPERATIONS, intervene

    intervene(runs, carol, OPERATIONS["suspend"], [*chosen, finished], runs._done)
    _intervene(qtbot, "quarter-end freeze")
    qtbot.waitUntil(lambda: _dialog(OutcomesDialog) is not None, timeout=WAIT)
    outcomes = _dialog(OutcomesDialog)
    assert "2 done, 1 refused" in outcomes.findChild(object, "outcomesSummary").text()
    assert [history.runs.get(r).status for r in chosen] == ["Suspended", "Suspended"]
    outcomes.close()
    # the frozen list: the buttons act on what was selected when pressed
    _select(runs.view, [])
    runs.op_buttons["resume"].click()
    assert _dialog(InterventionDialog) is None


def test_a_user_is_refused_and_nothing_changes(qtbot, history: Baton) -> None:  # type: ignore[no-untyped-def]
    session = AppSession.open(history, "alice")
    try:
        panel = RunsPanel(session)
        qtbot.addWidget(panel)
        qtbot.waitUntil(lambda: "supervisor" in panel.runs.error.text(), timeout=WAIT)
        target = next(
            r for r in history.as_user("carol").console.runs(limit=50) if r.status == "InProgress"
        )
        from desktop_app.console.interventions import OPERATIONS, intervene

        intervene(panel.runs, session, OPERATIONS["cancel"], [target.id], panel.runs._done)
        _intervene(qtbot, "because")
        qtbot.waitUntil(lambda: _dialog(OutcomesDialog) is not None, timeout=WAIT)
        text = _dialog(OutcomesDialog).table.item(0, 2).text()
        assert "supervisor" in text
        assert history.runs.get(target.id).status == "InProgress"
        _dialog(OutcomesDialog).close()
    finally:
        session.close()


def test_run_detail_shows_the_run_and_skips_a_step(
    qtbot, carol: AppSession, history: Baton
) -> None:  # type: ignore[no-untyped-def]
    run = next(
        r
        for r in history.as_user("carol").console.runs(limit=200)
        if r.status == "InProgress"
        and r.orchestration == "employee_hiring"
        and r.current_element == "screening"
    )
    window = RunDetailWindow(carol, run.id)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.detail is not None, timeout=WAIT)
    assert f"Run {run.id}" in window.header.text()
    assert window.timeline.topLevelItemCount() == len(window.detail.stages)
    assert window.scene.items_by_key[("screening", "screen_candidate")].status == "InProgress"
    assert "waiting on" in (
        window.scene.items_by_key[("screening", "screen_candidate")].detail or ""
    )
    assert window.log.rowCount() > 0 and window.items.rowCount() > 0
    assert window.buttons["suspend"].isEnabled() and not window.buttons["resume"].isEnabled()
    window.act("skip_step")
    _intervene(qtbot, "screened on the phone", "screen_candidate", '{"outcome": "decline"}')
    qtbot.waitUntil(lambda: history.runs.get(run.id).status == "Completed", timeout=WAIT)
    qtbot.waitUntil(
        lambda: window.detail is not None and window.detail.run.status == "Completed", timeout=WAIT
    )
    assert not window.buttons["cancel"].isEnabled()
    # The log reads newest first: what just happened is on top.
    latest = history.runs.show(run.id).log[-1]
    assert (window.log.item(0, 2).text(), window.log.item(0, 5).text()) == (
        latest.event,
        latest.message or "",
    )


def test_run_detail_refuses_bad_outputs_before_sending(
    qtbot, carol: AppSession, history: Baton
) -> None:  # type: ignore[no-untyped-def]
    run = next(
        r for r in history.as_user("carol").console.runs(limit=200) if r.status == "InProgress"
    )
    window = RunDetailWindow(carol, run.id)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.detail is not None, timeout=WAIT)
    window.act("skip_step")
    _intervene(qtbot, "why", None, "not json")
    dialog = _dialog(InterventionDialog)
    assert dialog is not None and "not JSON" in dialog.problem.text()
    dialog.reason.setText("")
    dialog._check()
    assert "Say why" in dialog.problem.text()
    dialog.reject()


def test_needs_attention_lists_stuck_runs_by_reason(
    qtbot, carol: AppSession, history: Baton
) -> None:  # type: ignore[no-untyped-def]
    panel = _runs_panel(qtbot, carol)
    panel.tabs.setCurrentWidget(panel.attention)
    qtbot.waitUntil(lambda: panel.attention.report is not None, timeout=WAIT)
    tree = panel.attention.tree
    titles = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    assert titles[0].startswith("Failed step") and any(t.startswith("Overdue work") for t in titles)
    group = tree.topLevelItem(0)
    # Not the demo's own failed run: its cause (a user who does not exist) is still there.
    failed = next(
        group.child(i) for i in range(group.childCount()) if "jdoe" not in group.child(i).text(4)
    )
    failed.setSelected(True)
    attention = panel.attention.selected()[0]
    assert attention.kind == "failed"
    panel.attention._act("resume_failed")
    _intervene(qtbot, "billing is back")
    qtbot.waitUntil(lambda: _dialog(OutcomesDialog) is not None, timeout=WAIT)
    outcomes = _dialog(OutcomesDialog)
    assert "1 done, 0 refused" in outcomes.findChild(object, "outcomesSummary").text()
    outcomes.close()
    assert history.runs.get(attention.run_id).status == "InProgress"
    log = history.runs.show(attention.run_id).log
    assert any(e.event == "step_retried" and e.message == "billing is back" for e in log)
    # The list is read again: the resumed run is no longer among the failed.
    qtbot.waitUntil(
        lambda: (
            panel.attention.report is not None
            and attention.run_id
            not in {a.run_id for a in panel.attention.report.items if a.kind == "failed"}
        ),
        timeout=WAIT,
    )


def test_work_items_filter_and_bulk_reassign(
    qtbot, carol: AppSession, history: Baton, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    panel = WorkItemsPanel(carol)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.model.total > 0 and panel.model.row(1) is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: panel.bar.sla.count() > 1, timeout=WAIT)
    # Sorted by due time, and the Due column in sight at a laptop's width (it was the tenth).
    panel.resize(1366 - 170, 600)
    panel.show()
    due = next(i for i, c in enumerate(panel.model.columns) if c.title == "Due")
    assert panel.model.headerData(due, Qt.Orientation.Horizontal).endswith(" ▲")
    seen = panel.view.columnViewportPosition(due) + panel.view.columnWidth(due)
    assert seen <= panel.view.viewport().width()
    sla = next(c for c in panel.model.columns if c.title == "SLA")
    panel.bar.sla.setCurrentText("overdue")
    qtbot.waitUntil(
        lambda: panel.model.row(0) is not None and sla.text(panel.model.row(0)) == "overdue",
        timeout=WAIT,
    )
    _select(panel.view, [0, 1])
    chosen = [w.id for w in panel.selected_rows()]
    panel.reassign()
    answer_reassign(qtbot, "queue:legal", "Frank is on leave")
    qtbot.waitUntil(lambda: _dialog(OutcomesDialog) is not None, timeout=WAIT)
    assert [(history.work.get(i).assignee_kind, history.work.get(i).assignee) for i in chosen] == [
        ("queue", "legal")
    ] * 2
    _dialog(OutcomesDialog).close()


def answer_reassign(qtbot, target: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    """Fill in the reassign dialog as a person does: type whom (the picker takes a typed
    name as it is) and why, then press Reassign."""
    from desktop_app.console.reassign import ReassignDialog

    qtbot.waitUntil(lambda: _dialog(ReassignDialog) is not None, timeout=WAIT)
    dialog = _dialog(ReassignDialog)
    qtbot.keyClicks(dialog.target, target)
    qtbot.keyClicks(dialog.reason, reason)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)


def test_dashboards_draw_every_chart(qtbot, carol: AppSession) -> None:  # type: ignore[no-untyped-def]
    panel = DashboardsPanel(carol)
    qtbot.addWidget(panel)
    qtbot.waitUntil(
        lambda: panel.loaded >= {"runs", "durations", "aging", "backlog", "sla"}, timeout=WAIT
    )
    for plot in (panel.runs, panel.durations, panel.aging, panel.backlog, panel.sla):
        assert plot.plotItem.listDataItems() or plot.plotItem.items
    assert panel.problem.text() == ""
    panel.window_choice.setCurrentText("Last 7 days")
    qtbot.waitUntil(lambda: "runs" in panel.loaded, timeout=WAIT)
    bars = [i for i in panel.runs.plotItem.items if isinstance(i, pg.BarGraphItem)]
    assert [len(b.opts["height"]) for b in bars] == [7, 7, 7]  # started, completed, failed a day


def test_the_designer_history_overlay_marks_bottlenecks(qtbot, carol: AppSession) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.designer.panel import DesignerPanel

    panel = DesignerPanel(carol)
    qtbot.addWidget(panel)
    panel.versions.open("customer_onboarding", None)
    qtbot.waitUntil(lambda: panel.document.name == "customer_onboarding", timeout=WAIT)
    panel.history_action.trigger()  # on
    card = panel.scene.items_by_key[("review", "legal")]
    qtbot.waitUntil(lambda: card.detail is not None and "% failed" in card.detail, timeout=WAIT)
    assert "runs in the last 90 days" in card.toolTip()
    assert card.status in ("Completed", "Suspended", "Error")
    panel.history_action.trigger()  # off
    assert panel.scene.items_by_key[("review", "legal")].status is None


def test_a_refusal_arriving_after_the_list_is_gone_is_dropped(qtbot, carol: AppSession) -> None:  # type: ignore[no-untyped-def]
    """A count refused late (the person moved on and the list was closed) reaches nobody,
    instead of a label that no longer exists (seen as a crash in a slow test run)."""
    from shiboken6 import Shiboken

    from desktop_app.console.runs_panel import RunsList

    runs = RunsList(carol)
    model = runs.model
    tasks.wait_for_all()
    Shiboken.delete(runs)  # the list is gone; its model lives on in Python
    model.failed.emit(RuntimeError("refused late"))  # no exception in the event loop
