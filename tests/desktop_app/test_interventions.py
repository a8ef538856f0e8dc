"""Every intervention through the widgets a supervisor uses, single and bulk, allowed and refused.

Single: the run detail window's button, on a run where the operation applies, then on a
window gone stale (the run changed behind it, so the operation no longer applies). Bulk: the
Runs list's button over rows selected in the view, two the operation applies to and one it
does not, with the per-run results. Reassign: from the run detail and in bulk from Work Items.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTreeWidgetItem,
    QWidget,
)

from desktop_app.console.attention import ITEM_ROLE
from desktop_app.console.interventions import InterventionDialog, OutcomesDialog
from desktop_app.console.run_detail import RunDetailWindow
from desktop_app.console.runs_panel import RunsList, RunsPanel
from desktop_app.console.work_panel import WorkItemsPanel
from desktop_app.session import AppSession
from engine.services.baton import Baton
from tests.conftest import define, step_status
from tests.desktop_app.ops_flow import carol_fixture, make, ops_fixture  # noqa: F401
from tests.desktop_app.test_console import WAIT, _select, answer_reassign


@dataclass(frozen=True)
class Case:
    op: str
    applies_to: str  # the state of a run the operation applies to
    refused_on: str  # the state of a run it is refused on
    refusal: str  # what the refusal says
    stale: Callable[[Baton, int], object]  # behind the window's back: now it is refused
    event: str  # what the run's log says was done
    status: str  # the run's status afterwards
    at: str | None = None  # where the run is afterwards
    choice: str | None = None  # the step or stage chosen
    outputs: str | None = None
    stale_refusal: str | None = None  # what the stale window's refusal says, if different
    version: int = 1  # the version the run is on afterwards


def _boss(b: Baton) -> Baton:
    return b.as_user("admin")


CASES = [
    Case(
        "suspend",
        "waiting",
        "canceled",
        "only a run in progress can be suspended",
        lambda b, r: _boss(b).runs.cancel(r, "meanwhile"),
        "run_suspended",
        "Suspended",
        "check",
    ),
    Case(
        "resume",
        "suspended",
        "waiting",
        "only a suspended run can be resumed",
        lambda b, r: _boss(b).runs.resume(r, "meanwhile"),
        "run_resumed",
        "InProgress",
        "check",
    ),
    Case(
        "resume_failed",
        "failed",
        "waiting",
        "only a failed run can be resumed",
        lambda b, r: _boss(b).runs.resume_failed(r, "meanwhile"),
        "step_retried",
        "InProgress",
        "check",
    ),
    Case(
        "retry_step",
        "failed",
        "suspended",
        "only a failed run or step can be retried",
        lambda b, r: _boss(b).runs.retry_step(r, "meanwhile"),
        "step_retried",
        "InProgress",
        "check",
        choice="divide",
        stale_refusal="has no failed step named 'divide' in stage 'check'",
    ),
    Case(
        "skip_step",
        "waiting",
        "canceled",
        "its steps cannot be skipped",
        lambda b, r: _boss(b).runs.cancel(r, "meanwhile"),
        "step_skipped",
        "InProgress",
        "ship",
        choice="review",
        outputs='{"amount": 12}',
    ),
    Case(
        "jump_to_stage",
        "waiting",
        "canceled",
        "only a run in progress or a failed run can jump",
        lambda b, r: _boss(b).runs.cancel(r, "meanwhile"),
        "run_jumped",
        "InProgress",
        "ship",
        choice="ship",
    ),
    Case(
        "migrate",
        "waiting",
        "canceled",
        "only a run in progress or suspended can move to another version",
        lambda b, r: _boss(b).runs.cancel(r, "meanwhile"),
        "run_migrated",
        "InProgress",
        "check",
        choice="2",
        version=2,
    ),
    Case(
        "cancel",
        "failed",
        "canceled",
        "already Canceled; there is nothing to cancel",
        lambda b, r: _boss(b).runs.cancel(r, "meanwhile"),
        "run_canceled",
        "Canceled",
        "check",  # where it was given up
    ),
]


def _shown(kind: type) -> QWidget | None:
    return next(
        (w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()), None
    )


def _answer(qtbot, case: Case, reason: str) -> None:  # type: ignore[no-untyped-def]
    """Fill in the intervention dialog as a person would and press its OK button."""
    qtbot.waitUntil(lambda: _shown(InterventionDialog) is not None, timeout=WAIT)
    dialog = _shown(InterventionDialog)
    assert isinstance(dialog, InterventionDialog)
    if case.choice is not None:
        assert dialog.choice.findText(case.choice) >= 0, "offered in the list"
        dialog.choice.setCurrentText(case.choice)
    if case.outputs is not None:
        dialog.outputs.setPlainText(case.outputs)
    dialog.reason.setText(reason)
    buttons = dialog.findChild(QDialogButtonBox)
    buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert not dialog.isVisible(), dialog.problem.text()


def _logged(b: Baton, run_id: int, event: str, reason: str) -> bool:
    return any(
        e.event == event and e.actor == "carol" and reason in (e.message or "")
        for e in b.runs.show(run_id).log
    )


def _outcomes(qtbot) -> OutcomesDialog:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: _shown(OutcomesDialog) is not None, timeout=WAIT)
    dialog = _shown(OutcomesDialog)
    assert isinstance(dialog, OutcomesDialog)
    return dialog


@pytest.mark.parametrize("case", CASES, ids=[c.op for c in CASES])
def test_one_run_from_its_detail_window(qtbot, carol: AppSession, ops: Baton, case: Case) -> None:  # type: ignore[no-untyped-def]
    run_id = make(ops, case.applies_to)
    stale_id = make(ops, case.applies_to)
    window = RunDetailWindow(carol, run_id)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.detail is not None, timeout=WAIT)
    button = window.buttons[case.op]
    assert button.isEnabled()
    button.click()
    _answer(qtbot, case, f"{case.op} by hand")
    qtbot.waitUntil(lambda: _logged(ops, run_id, case.event, f"{case.op} by hand"), timeout=WAIT)
    run = ops.runs.get(run_id)
    assert (run.status, run.current_element, run.version) == (case.status, case.at, case.version)
    qtbot.waitUntil(lambda: window.detail is not None and window.detail.run == run, timeout=WAIT)
    assert _shown(OutcomesDialog) is None  # done: nothing to explain

    # Refused: the window still shows the run as it was; the run has moved on.
    stale = RunDetailWindow(carol, stale_id)
    qtbot.addWidget(stale)
    qtbot.waitUntil(lambda: stale.detail is not None, timeout=WAIT)
    case.stale(ops, stale_id)
    before = ops.runs.show(stale_id)
    assert stale.buttons[case.op].isEnabled()
    stale.buttons[case.op].click()
    _answer(qtbot, case, "too late")
    refused = _outcomes(qtbot)
    assert (case.stale_refusal or case.refusal) in refused.table.item(0, 2).text()
    assert refused.table.item(0, 1).text() == "refused"
    refused.close()
    after = ops.runs.show(stale_id)
    assert (after.run, len(after.log)) == (before.run, len(before.log))  # nothing changed
    qtbot.waitUntil(
        lambda: stale.detail is not None and stale.detail.run == after.run, timeout=WAIT
    )
    assert f"<b>{after.run.status}</b>" in stale.header.text()  # it shows the run as it is now


@pytest.mark.parametrize("case", CASES, ids=[c.op for c in CASES])
def test_selected_runs_in_bulk(qtbot, carol: AppSession, ops: Baton, case: Case) -> None:  # type: ignore[no-untyped-def]
    # Started last, so the newest three rows of the list: two it applies to, one refused.
    chosen = [make(ops, case.applies_to), make(ops, case.refused_on), make(ops, case.applies_to)]
    runs = RunsList(carol)
    qtbot.addWidget(runs)
    qtbot.waitUntil(lambda: runs.model.row(2) is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: runs.bar.orchestration.count() > 1, timeout=WAIT)  # the catalog
    _select(runs.view, [0, 1, 2])
    assert sorted(r.id for r in runs.selected_rows()) == sorted(chosen)
    before = ops.runs.show(chosen[1])
    runs.op_buttons[case.op].click()
    _select(runs.view, [0])  # changing the selection now does not change what is done
    bulk = (
        Case(**{**case.__dict__, "choice": "(every failed step)"})
        if case.op == "retry_step"
        else case
    )
    _answer(qtbot, bulk, "quarter-end clean-up")
    results = _outcomes(qtbot)
    summary = results.findChild(QLabel, "outcomesSummary")
    assert "2 done, 1 refused" in summary.text()
    rows = {
        int(results.table.item(i, 0).text()): (
            results.table.item(i, 1).text(),
            results.table.item(i, 2).text(),
        )
        for i in range(results.table.rowCount())
    }
    assert set(rows) == set(chosen)
    assert rows[chosen[1]][0] == "refused" and case.refusal in rows[chosen[1]][1]
    for run_id in (chosen[0], chosen[2]):
        assert rows[run_id] == ("done", f"the run is now {case.status}")
        run = ops.runs.get(run_id)
        assert (run.status, run.current_element, run.version) == (
            case.status,
            case.at,
            case.version,
        )
        assert _logged(ops, run_id, case.event, "quarter-end clean-up")
    after = ops.runs.show(chosen[1])
    assert (after.run, len(after.log)) == (before.run, len(before.log))
    results.close()


def test_a_user_is_told_and_offered_nothing(qtbot, ops: Baton) -> None:  # type: ignore[no-untyped-def]
    run_id = make(ops, "waiting")
    session = AppSession.open(ops, "alice")
    try:
        window = RunDetailWindow(session, run_id)
        qtbot.addWidget(window)
        qtbot.waitUntil(lambda: _shown(QMessageBox) is not None, timeout=WAIT)
        box = _shown(QMessageBox)
        assert isinstance(box, QMessageBox) and "supervisor" in box.text()
        box.close()
        assert window.detail is None
        assert not any(b.isEnabled() for b in window.buttons.values())
        assert ops.runs.get(run_id).current_element == "check"
    finally:
        session.close()


def test_reassign_from_the_run_detail_and_in_bulk(
    qtbot, carol: AppSession, ops: Baton, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    waiting = make(ops, "waiting")
    window = RunDetailWindow(carol, waiting)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.detail is not None, timeout=WAIT)
    window.items.selectRow(0)
    window.reassign_button.click()
    answer_reassign(qtbot, "frank", "Alice is away")
    done = _outcomes(qtbot)
    assert done.table.item(0, 1).text() == "done"
    done.close()
    (item,) = [w for w in ops.runs.show(waiting).work_items if w.status != "Canceled"]
    assert item.assignee == "frank"
    # Refused: nobody of that name; the item stays where it is.
    qtbot.waitUntil(
        lambda: window.detail is not None and window.detail.work_items[0].assignee == "frank",
        timeout=WAIT,
    )
    window.items.selectRow(0)
    window.reassign_button.click()
    answer_reassign(qtbot, "nobody", "typo")
    refused = _outcomes(qtbot)
    assert refused.table.item(0, 1).text() == "refused"
    assert "nobody" in refused.table.item(0, 2).text()
    refused.close()
    assert ops.work.get(item.id).assignee == "frank"

    # In bulk from Work Items: one open item moves, one closed item is refused.
    closed = ops.runs.show(make(ops, "canceled")).work_items[0]
    still = ops.runs.show(make(ops, "waiting")).work_items[0]
    panel = WorkItemsPanel(carol)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.bar.orchestration.count() > 1, timeout=WAIT)
    panel.bar.orchestration.setCurrentText("console_ops")
    panel.bar.status.setCurrentText("Any")
    total = len(ops.console.work_items(panel.filter()))
    assert total == 3  # the reassigned item, the canceled one, and one still with alice
    qtbot.waitUntil(
        lambda: panel.model.total == total and all(panel.model.row(i) for i in range(total)),
        timeout=WAIT,
    )
    rows = [i for i in range(total) if panel.model.row(i).id in (closed.id, still.id)]
    _select(panel.view, rows)
    panel.reassign()
    answer_reassign(qtbot, "queue:legal", "Legal takes these now")
    results = _outcomes(qtbot)
    assert "1 done, 1 refused" in results.findChild(QLabel, "outcomesSummary").text()
    assert ops.work.get(still.id).assignee == "legal"
    assert (
        ops.work.get(closed.id).status == "Canceled" and ops.work.get(closed.id).assignee == "alice"
    )
    results.close()


def test_needs_attention_gives_up_failed_runs_and_reassigns_overdue_work(
    qtbot, carol: AppSession, ops: Baton, monkeypatch, clock
) -> None:  # type: ignore[no-untyped-def]
    failed = [make(ops, "failed"), make(ops, "failed")]
    late = make(ops, "waiting")
    clock.advance(dt.timedelta(days=10))  # the review is long overdue
    panel = RunsPanel(carol)
    qtbot.addWidget(panel)
    panel.tabs.setCurrentWidget(panel.attention)
    view = panel.attention
    qtbot.waitUntil(lambda: view.report is not None, timeout=WAIT)

    def rows(kind: str) -> list[QTreeWidgetItem]:
        found = []
        for g in range(view.tree.topLevelItemCount()):
            group = view.tree.topLevelItem(g)
            for i in range(group.childCount()):
                attention = group.child(i).data(0, ITEM_ROLE)
                if attention is not None and attention.kind == kind:
                    found.append(group.child(i))
        return found

    def press(name: str) -> None:
        button = view.findChild(QPushButton, name)
        assert button is not None
        button.click()

    # Resume failed on overdue work's run: refused, and said so.
    view.tree.clearSelection()
    (overdue,) = [r for r in rows("overdue") if r.text(0) == str(late)]
    overdue.setSelected(True)
    press("attentionResume")
    _answer(qtbot, CASES[2], "wrong button")
    refused = _outcomes(qtbot)
    assert "only a failed run can be resumed" in refused.table.item(0, 2).text()
    refused.close()

    # Reassign the overdue item.
    qtbot.waitUntil(lambda: view.report is not None and bool(rows("overdue")), timeout=WAIT)
    view.tree.clearSelection()
    (overdue,) = [r for r in rows("overdue") if r.text(0) == str(late)]
    overdue.setSelected(True)
    press("attentionReassign")
    answer_reassign(qtbot, "frank", "Alice is away this week")
    moved = _outcomes(qtbot)
    assert moved.table.item(0, 1).text() == "done"
    moved.close()
    (item,) = [w for w in ops.runs.show(late).work_items if w.step == "review"]
    assert (item.assignee, item.status) == ("frank", "Assigned")

    # Give up both failed runs at once.
    qtbot.waitUntil(
        lambda: len([r for r in rows("failed") if int(r.text(0)) in failed]) == 2, timeout=WAIT
    )
    view.tree.clearSelection()
    for row in rows("failed"):
        row.setSelected(int(row.text(0)) in failed)
    press("attentionCancel")
    _answer(qtbot, CASES[-1], "customer withdrew")
    done = _outcomes(qtbot)
    assert "2 done, 0 refused" in done.findChild(QLabel, "outcomesSummary").text()
    done.close()
    assert [ops.runs.get(r).status for r in failed] == ["Canceled", "Canceled"]
    qtbot.waitUntil(
        lambda: not [r for r in rows("failed") if int(r.text(0)) in failed], timeout=WAIT
    )


def _on_variables_tab(qtbot, session: AppSession, run_id: int) -> RunDetailWindow:  # type: ignore[no-untyped-def]
    """The run's window, open on its Variables and outputs tab (a click on the tab)."""
    window = RunDetailWindow(session, run_id)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.detail is not None, timeout=WAIT)
    bar = window.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(1).center())
    return window


def test_a_supervisor_fixes_a_variable_then_the_retried_step_completes(  # type: ignore[no-untyped-def]
    qtbot, carol: AppSession, ops: Baton
) -> None:
    from desktop_app.console.variables import VariablesDialog

    run_id = make(ops, "failed")  # 100 / parts, with parts 0
    window = _on_variables_tab(qtbot, carol, run_id)
    assert window.variables_button.isEnabled()
    qtbot.mouseClick(window.variables_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _shown(VariablesDialog) is not None, timeout=WAIT)
    dialog = _shown(VariablesDialog)
    assert isinstance(dialog, VariablesDialog)
    parts = dialog.editors["parts"].widget
    assert isinstance(parts, QLineEdit) and parts.text() == "0"
    # A word where a number goes, and no reason: refused at the field, nothing changed.
    parts.selectAll()
    qtbot.keyClicks(parts, "four")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.editors["parts"].error.isVisible(), timeout=WAIT)
    assert "a reason is required" in dialog.problem.text()  # said with it, not left out
    parts.selectAll()
    qtbot.keyClicks(parts, "4")
    qtbot.keyClicks(dialog.reason, "the order has four parts")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _logged(ops, run_id, "variables_changed", "four parts"), timeout=WAIT)
    assert ops.runs.show(run_id).variables["parts"] == 4
    # Then retry: the step that failed on it completes.
    retry = next(c for c in CASES if c.op == "retry_step")
    qtbot.waitUntil(lambda: window.buttons["retry_step"].isEnabled(), timeout=WAIT)
    window.buttons["retry_step"].click()
    _answer(qtbot, retry, "fixed the parts")
    qtbot.waitUntil(lambda: ops.runs.get(run_id).status == "InProgress", timeout=WAIT)
    ops.worker.run_once()
    assert step_status(ops, run_id)["check.divide"] == "Completed"
    assert ops.runs.show(run_id).variables["share"] == 25


RECORD_FLOW = """
format: 1
name: revenue_share
elements:
  - kind: stage
    name: share
    steps:
      - kind: background
        name: divide
        retry: {attempts: 1}
        actions: [{type: set_variables, values: {share: "100 / record.annual_revenue"}}]
"""


def test_a_supervisor_fixes_the_runs_record_then_the_retried_step_completes(  # type: ignore[no-untyped-def]
    qtbot, carol: AppSession, ops: Baton
) -> None:
    from desktop_app.console.run_record import RunRecordDialog

    define(ops, RECORD_FLOW)
    record = ops.records.create("customer", {"name": "Hooli", "annual_revenue": "0"})
    run = ops.runs.start("revenue_share", record_id=record.id)
    ops.worker.run_once()
    assert ops.runs.get(run.id).status == "Error"  # 100 / 0
    window = _on_variables_tab(qtbot, carol, run.id)
    qtbot.mouseClick(window.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _shown(RunRecordDialog) is not None, timeout=WAIT)
    dialog = _shown(RunRecordDialog)
    assert isinstance(dialog, RunRecordDialog)
    qtbot.waitUntil(lambda: "annual_revenue" in dialog.page.editors, timeout=WAIT)
    revenue = dialog.page.editors["annual_revenue"].widget
    assert isinstance(revenue, QLineEdit)
    revenue.selectAll()
    qtbot.keyClicks(revenue, "50")
    with qtbot.waitSignal(dialog.saved, timeout=WAIT):
        qtbot.mouseClick(dialog.page.save, Qt.MouseButton.LeftButton)
    assert ops.records.get(record.id).data["annual_revenue"] == 50
    dialog.close()
    retry = next(c for c in CASES if c.op == "retry_step")
    qtbot.waitUntil(lambda: window.buttons["retry_step"].isEnabled(), timeout=WAIT)
    window.buttons["retry_step"].click()
    _answer(qtbot, retry, "revenue fixed")
    qtbot.waitUntil(lambda: ops.runs.get(run.id).status == "InProgress", timeout=WAIT)
    ops.worker.run_once()
    assert ops.runs.show(run.id).variables["share"] == 2
    assert ops.runs.get(run.id).status == "Completed"


def test_the_reassign_picker_shows_roles_and_open_work(  # type: ignore[no-untyped-def]
    qtbot, carol: AppSession, ops: Baton
) -> None:
    from desktop_app.console.reassign import ReassignDialog

    dialog = ReassignDialog(carol, "work item 1", lambda target, reason: None)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.target.setFocus()
    qtbot.keyClicks(dialog.target, "fra")
    model = dialog.target.suggestions
    qtbot.waitUntil(lambda: model.rowCount() > 0, timeout=WAIT)
    texts = [model.item(r).text() for r in range(model.rowCount())]
    frank = next(t for t in texts if "— frank (" in t)
    held = len([w for w in ops.work.list(user="frank") if w.assignee == "frank"])
    assert "(user)" in frank and frank.endswith(f"· {held} open"), texts


def test_skip_offers_the_steps_still_to_do_first(qtbot, carol: AppSession, ops: Baton) -> None:  # type: ignore[no-untyped-def]
    # A newcomer's skip offered the stage's first step, done long ago, not the one waiting.
    run_id = make(ops, "waiting")  # check.divide done, check.review waiting
    window = RunDetailWindow(carol, run_id)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.detail is not None, timeout=WAIT)
    qtbot.mouseClick(window.buttons["skip_step"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _shown(InterventionDialog) is not None, timeout=WAIT)
    dialog = _shown(InterventionDialog)
    assert isinstance(dialog, InterventionDialog)
    offered = [dialog.choice.itemText(i) for i in range(dialog.choice.count())]
    assert offered == ["review", "divide"] and dialog.choice.currentText() == "review"
    dialog.reject()


def test_a_fixed_variable_that_names_nobody_is_refused_at_its_field(qtbot, demo: Baton) -> None:  # type: ignore[no-untyped-def]
    # The demo's run failed on its account manager 'jdoe': a newcomer typed another name
    # nobody has, it was taken, and the run failed again once resumed.
    from desktop_app.console.variables import VariablesDialog

    failed = next(
        r
        for r in demo.runs.list(status="Error", limit=50)
        if demo.runs.show(r.id).variables.get("account_manager") == "jdoe"
    )
    carol = AppSession.open(demo, "carol")
    window = _on_variables_tab(qtbot, carol, failed.id)
    qtbot.mouseClick(window.variables_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _shown(VariablesDialog) is not None, timeout=WAIT)
    dialog = _shown(VariablesDialog)
    assert isinstance(dialog, VariablesDialog)
    manager = dialog.editors["account_manager"]
    manager.widget.selectAll()  # type: ignore[attr-defined]
    qtbot.keyClicks(manager.widget, "nobody")
    qtbot.keyClicks(dialog.reason, "the right manager")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: manager.error.isVisible(), timeout=WAIT)
    assert "'nobody', who does not exist" in manager.error.text()
    assert demo.runs.show(failed.id).variables["account_manager"] == "jdoe"
    manager.widget.selectAll()  # type: ignore[attr-defined]
    qtbot.keyClicks(manager.widget, "lena")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: demo.runs.show(failed.id).variables["account_manager"] == "lena", timeout=WAIT
    )
    carol.close()
