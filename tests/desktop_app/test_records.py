"""Records and the Work Guide, driven through real widgets."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from desktop_app.panels.records import RecordsPanel
from desktop_app.session import AppSession
from engine.services.baton import Baton


def test_a_record_edit_starts_a_run_whose_work_appears_in_the_work_guide(  # type: ignore[no-untyped-def]
    qtbot, demo: Baton
) -> None:
    draft = demo.as_user("omar").records.create(
        "refund_request",
        {"order_number": "SO-2001", "customer_email": "sam@customer.example", "amount": 980},
    )
    session = AppSession.open(demo, "omar")
    panel = RecordsPanel(session)
    qtbot.addWidget(panel)
    panel.show()
    panel.destroyed.connect(session.close)
    qtbot.waitUntil(lambda: panel.types.count() == 2, timeout=10000)
    panel.types.setCurrentText("Refund Request")
    qtbot.waitUntil(lambda: any(r.id == draft.id for r in panel.model.records), timeout=10000)
    row = next(i for i, r in enumerate(panel.model.records) if r.id == draft.id)
    panel.table.selectRow(row)
    page = panel.page
    qtbot.waitUntil(lambda: page.record is not None and page.record.id == draft.id, timeout=10000)
    qtbot.waitUntil(lambda: page.guide.count() == 1, timeout=10000)
    assert page.guide.item(0).text() == "Nothing for you to do on this record."
    status = page.editors["status"].widget
    assert isinstance(status, QComboBox)
    status.setCurrentText("Submitted")
    qtbot.mouseClick(page.save, Qt.MouseButton.LeftButton)
    # Saving fired the record trigger: a refund run whose first work (finance) is omar's queue's.
    qtbot.waitUntil(
        lambda: (
            page.guide.count() == 1 and page.guide.item(0).text().startswith("Approve the refund")
        ),
        timeout=10000,
    )
    page.guide.setCurrentRow(0)
    qtbot.waitUntil(lambda: page.item_pane.form is not None, timeout=10000)
    form = page.item_pane.form
    assert form is not None
    qtbot.mouseClick(form.buttons["approve"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: page.guide.item(0).text() == "Nothing for you to do on this record.", timeout=10000
    )
    runs = [r for r in demo.runs.list(orchestration="refund_request") if r.record_id == draft.id]
    assert len(runs) == 1
    demo.worker.run_once()
    assert demo.records.get(draft.id).data["status"] == "Paid"


def test_a_stale_edit_is_refused_clearly(qtbot, demo: Baton) -> None:  # type: ignore[no-untyped-def]
    session = AppSession.open(demo, "alice")
    panel = RecordsPanel(session)
    qtbot.addWidget(panel)
    panel.show()
    panel.destroyed.connect(session.close)
    qtbot.waitUntil(lambda: panel.types.count() == 2, timeout=10000)
    panel.types.setCurrentText("Customer")
    qtbot.waitUntil(lambda: len(panel.model.records) > 0, timeout=10000)
    panel.table.selectRow(0)
    page = panel.page
    qtbot.waitUntil(lambda: page.record is not None, timeout=10000)
    assert page.record is not None
    demo.as_user("carol").records.update(page.record.id, {"industry": "Retail"})  # meanwhile
    qtbot.mouseClick(page.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.problem.isVisible(), timeout=10000)
    assert "was changed by carol" in page.problem.text()


def test_the_records_model_is_a_well_behaved_model(qtmodeltester, demo: Baton) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.panels.records import RecordsModel

    model = RecordsModel()
    model.set_records(demo.records.list("customer"))
    assert model.rowCount() == 4
    qtmodeltester.check(model)


def test_the_work_guide_shows_the_draft_typed_in_the_inbox_and_submits_like_it(  # type: ignore[no-untyped-def]
    qtbot, demo: Baton
) -> None:
    from PySide6.QtWidgets import QPlainTextEdit

    from tests.desktop_app.test_inbox import open_inbox, select

    inbox = open_inbox(qtbot, demo, "omar")
    select(qtbot, inbox, "finance_approval")
    item = inbox.pane.details.item  # type: ignore[union-attr]
    reason = inbox.pane.form.editors["reason"].widget  # type: ignore[union-attr]
    assert isinstance(reason, QPlainTextEdit)
    qtbot.keyClicks(reason, "matches the order")
    inbox.hide()  # the person switches to Records

    session = AppSession.open(demo, "omar")
    panel = RecordsPanel(session)
    qtbot.addWidget(panel)
    panel.show()
    panel.destroyed.connect(session.close)
    qtbot.waitUntil(lambda: panel.types.count() == 2, timeout=10000)
    panel.types.setCurrentText("Refund Request")
    qtbot.waitUntil(lambda: any(r.id == item.record_id for r in panel.model.records))
    panel.table.selectRow(
        next(i for i, r in enumerate(panel.model.records) if r.id == item.record_id)
    )
    page = panel.page
    qtbot.waitUntil(
        lambda: page.guide.count() == 1 and page.guide.item(0).text().startswith("Approve")
    )
    page.guide.setCurrentRow(0)
    qtbot.waitUntil(lambda: page.item_pane.form is not None, timeout=10000)
    form = page.item_pane.form
    assert form is not None
    guide_reason = form.editors["reason"].widget
    assert isinstance(guide_reason, QPlainTextEdit)
    assert guide_reason.toPlainText() == "matches the order"
    # Ctrl+Enter from the long text submits; with Approve and Reject, one must be chosen.
    qtbot.keyClick(guide_reason, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: form.general_error.isVisible(), timeout=10000)
    assert form.general_error.text() == "Choose Approve or Reject."
    assert guide_reason.toPlainText() == "matches the order"  # no new line typed
    qtbot.mouseClick(form.buttons["approve"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: demo.work.get(item.id).status == "Completed", timeout=10000)
    assert demo.work.get(item.id).values["reason"] == "matches the order"
