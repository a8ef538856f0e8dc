"""Creating and deleting records from the Records panel, through its widgets: a new record
checked field by field, and a record with an open run deleted after saying what becomes of
the run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from desktop_app.panels.record_actions import DeleteRecordDialog, NewRecordDialog
from desktop_app.panels.records import RecordsPanel
from desktop_app.session import AppSession
from engine.services.baton import Baton
from tests.desktop_app.test_admin import WAIT, click, type_into


@pytest.fixture
def carol(demo: Baton) -> Iterator[AppSession]:
    session = AppSession.open(demo, "carol")  # a supervisor: may delete records
    yield session
    session.close()


def _panel(qtbot, session: AppSession) -> RecordsPanel:  # type: ignore[no-untyped-def]
    panel = RecordsPanel(session)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.types.count() == 2, timeout=WAIT)
    panel.types.setCurrentText("Refund Request")
    qtbot.waitUntil(lambda: len(panel.model.records) > 0, timeout=WAIT)
    return panel


def _dialog(kind: type) -> object | None:
    return next(
        (w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()), None
    )


def test_a_new_record_is_checked_field_by_field_then_created(
    qtbot, carol: AppSession, demo: Baton
) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(qtbot, carol)
    said: list[str] = []
    panel.status.connect(said.append)
    click(qtbot, panel.new_record)
    qtbot.waitUntil(lambda: _dialog(NewRecordDialog) is not None, timeout=WAIT)
    dialog = _dialog(NewRecordDialog)
    assert isinstance(dialog, NewRecordDialog)
    order = dialog.editors["order_number"].widget
    amount = dialog.editors["amount"].widget
    email = dialog.editors["customer_email"].widget
    assert (
        isinstance(order, QLineEdit)
        and isinstance(amount, QLineEdit)
        and isinstance(email, QLineEdit)
    )
    type_into(qtbot, order, "SO-7777")
    type_into(qtbot, amount, "lots")
    click(qtbot, dialog.create_button)
    qtbot.waitUntil(lambda: dialog.problem.isVisible(), timeout=WAIT)
    assert dialog.editors["amount"].error.isVisible()
    assert dialog.editors["customer_email"].error.text() == "is required"
    assert not any(r.title == "SO-7777" for r in demo.records.list("refund_request"))
    type_into(qtbot, amount, "12.50")
    type_into(qtbot, email, "pat@customer.example")
    click(qtbot, dialog.create_button)
    qtbot.waitUntil(lambda: "Created SO-7777" in said, timeout=WAIT)
    qtbot.waitUntil(lambda: any(r.title == "SO-7777" for r in panel.model.records), timeout=WAIT)
    [made] = [r for r in demo.records.list("refund_request") if r.title == "SO-7777"]
    assert made.data["amount"] == 12.5 and made.owner == "carol"


def test_deleting_a_record_with_an_open_run_asks_and_cancels_it(
    qtbot, carol: AppSession, demo: Baton
) -> None:  # type: ignore[no-untyped-def]
    record = demo.as_user("omar").records.create(
        "refund_request",
        {"order_number": "SO-4242", "customer_email": "sam@customer.example", "amount": 50},
    )
    demo.as_user("omar").records.update(record.id, {"status": "Submitted"})
    [run] = [r for r in demo.runs.list(orchestration="refund_request") if r.record_id == record.id]
    panel = _panel(qtbot, carol)
    said: list[str] = []
    panel.status.connect(said.append)
    qtbot.waitUntil(lambda: any(r.id == record.id for r in panel.model.records), timeout=WAIT)
    row = next(i for i, r in enumerate(panel.model.records) if r.id == record.id)
    table = panel.table
    qtbot.mouseClick(
        table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=table.visualRect(panel.model.index(row, 0)).center(),
    )
    qtbot.waitUntil(
        lambda: panel.page.record is not None and panel.page.record.id == record.id, timeout=WAIT
    )
    click(qtbot, panel.delete_record)
    qtbot.waitUntil(lambda: _dialog(DeleteRecordDialog) is not None, timeout=WAIT)
    dialog = _dialog(DeleteRecordDialog)
    assert isinstance(dialog, DeleteRecordDialog)
    qtbot.waitUntil(lambda: dialog.choices.isVisible(), timeout=WAIT)
    assert f"{run.id} (refund_request, InProgress)" in dialog.effect.text()
    click(qtbot, dialog.confirm)  # cancel chosen, but no reason: refused, nothing changes
    qtbot.waitUntil(lambda: dialog.problem.isVisible(), timeout=WAIT)
    assert "a reason is required" in dialog.problem.text()
    assert demo.records.get(record.id).title == "SO-4242"
    type_into(qtbot, dialog.reason, "entered twice")
    click(qtbot, dialog.confirm)
    qtbot.waitUntil(lambda: any(s.startswith("Deleted SO-4242") for s in said), timeout=WAIT)
    assert f"canceled run(s) {run.id}" in said[-1]
    assert demo.runs.show(run.id).run.status == "Canceled"
    qtbot.waitUntil(lambda: all(r.id != record.id for r in panel.model.records), timeout=WAIT)
    assert panel.page.record is None and not panel.page.save.isEnabled()


def test_people_who_may_not_delete_records_are_not_offered_it(qtbot, demo: Baton) -> None:  # type: ignore[no-untyped-def]
    session = AppSession.open(demo, "alice")
    panel = _panel(qtbot, session)
    panel.destroyed.connect(session.close)
    assert panel.delete_record.isHidden() and not panel.new_record.isHidden()
