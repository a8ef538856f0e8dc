"""The Inbox's forms as a person uses them: drafts kept and put back, Enter submits, Tab moves."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLineEdit, QPlainTextEdit

from desktop_app.panels.drafts import Drafts, drafts_file, read_drafts
from engine.services.baton import Baton
from tests.desktop_app.test_inbox import open_inbox, select


def click_row(qtbot, panel, item_id: int) -> None:  # type: ignore[no-untyped-def]
    row = next(r for r, item in enumerate(panel.model.items) if item.id == item_id)
    rect = panel.table.visualRect(panel.model.index(row, 0))
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(
        lambda: panel.pane.details is not None and panel.pane.details.item.id == item_id,
        timeout=10000,
    )


def test_a_half_filled_form_comes_back_after_opening_another_item_and_submits_with_enter(  # type: ignore[no-untyped-def]
    qtbot, demo: Baton
) -> None:
    demo.runs.start("customer_onboarding", {"customer_name": "Late Co", "amount": 100})
    panel = open_inbox(qtbot, demo, "alice")
    qtbot.waitUntil(lambda: len(panel.model.items) == 2, timeout=10000)
    first, other = (item.id for item in panel.model.items)
    click_row(qtbot, panel, first)
    form = panel.pane.form
    assert form is not None
    line = form.editors["billing_email"].widget
    assert isinstance(line, QLineEdit)
    qtbot.keyClicks(line, "half@typed.example")
    notes = form.editors["notes"].widget
    assert isinstance(notes, QPlainTextEdit)
    qtbot.keyClicks(notes, "first line")

    click_row(qtbot, panel, other)  # another item …
    assert panel.pane.form is not form
    qtbot.waitUntil(lambda: read_drafts(panel.pane.drafts.path).get(first) is not None)
    click_row(qtbot, panel, first)  # … and back: the text is there
    form = panel.pane.form
    assert form is not None
    line = form.editors["billing_email"].widget
    assert isinstance(line, QLineEdit)
    assert line.text() == "half@typed.example"
    assert form.editors["notes"].value() == "first line"
    assert "draft" in panel.pane.note.text()

    # Enter in the single-line field submits; what is missing shows at its field.
    run_id = panel.pane.details.item.run_id  # type: ignore[union-attr]
    qtbot.keyClick(line, Qt.Key.Key_Return)
    contract = form.editors["contract_signed"]
    qtbot.waitUntil(lambda: contract.error.isVisible(), timeout=10000)
    assert contract.error.text() == "must be ticked"
    checkbox = contract.widget
    assert isinstance(checkbox, QCheckBox)
    checkbox.setFocus()
    qtbot.keyClick(checkbox, Qt.Key.Key_Space)
    assert checkbox.isChecked()
    assert not contract.error.isVisible()  # fixed: its error goes at once
    qtbot.keyClick(line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: demo.runs.get(run_id).current_element == "review", timeout=10000)
    qtbot.waitUntil(lambda: first not in {i.id for i in panel.model.items}, timeout=10000)
    qtbot.waitUntil(lambda: first not in read_drafts(drafts_file(demo.db.url, "alice")))


def test_a_draft_outlives_the_app_and_is_dropped_when_the_item_was_done_elsewhere(  # type: ignore[no-untyped-def]
    qtbot, demo: Baton
) -> None:
    panel = open_inbox(qtbot, demo, "alice")
    select(qtbot, panel, "intake_check")
    item_id = panel.pane.details.item.id  # type: ignore[union-attr]
    form = panel.pane.form
    assert form is not None
    line = form.editors["billing_email"].widget
    assert isinstance(line, QLineEdit)
    qtbot.keyClicks(line, "kept@over.night")
    panel.close()  # the app closes: the pane is hidden, the draft written
    path = drafts_file(demo.db.url, "alice")
    qtbot.waitUntil(lambda: item_id in read_drafts(path))
    assert read_drafts(path)[item_id]["values"]["billing_email"] == "kept@over.night"
    # The app is gone: its session hears no more changes (else this closed panel, which shares
    # the drafts, could be the one to drop the draft and say so); a new start reads the file.
    panel.session.close()
    Drafts._stores.clear()

    again = open_inbox(qtbot, demo, "alice")
    select(qtbot, again, "intake_check")
    restored = again.pane.form.editors["billing_email"].widget  # type: ignore[union-attr]
    assert isinstance(restored, QLineEdit) and restored.text() == "kept@over.night"

    # Meanwhile the item is done elsewhere: opening it again (a link) drops the draft, saying
    # so. (The change notice may get there first, while the item is still shown: the same
    # message then comes from the reload.)
    said: list[str] = []
    again.status.connect(said.append)
    demo.as_user("alice").work.complete(
        item_id, {"contract_signed": True, "billing_email": "done@elsewhere.example"}
    )
    again.open_item(item_id)
    dropped = "Your draft of 'Check the intake' was dropped: it was completed by alice."
    qtbot.waitUntil(lambda: dropped in said, timeout=10000)
    qtbot.waitUntil(lambda: item_id not in read_drafts(path))


def test_tab_moves_between_fields_and_ctrl_enter_submits_from_a_long_text(  # type: ignore[no-untyped-def]
    qtbot, demo: Baton
) -> None:
    from PySide6.QtWidgets import QApplication

    panel = open_inbox(qtbot, demo, "frank")
    select(qtbot, panel, "finance")
    form = panel.pane.form
    assert form is not None
    findings, risk = form.editors["findings"].widget, form.editors["risk"].widget
    assert isinstance(findings, QPlainTextEdit)
    # Screen readers say each input's label, and whether it is required.
    assert findings.accessibleName() == "Findings"
    assert risk.accessibleName() == "Risk, required"
    assert form.comment.accessibleName() == "Comment"
    panel.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWindow() is not None)
    findings.setFocus()
    qtbot.waitUntil(findings.hasFocus)
    qtbot.keyClicks(findings, "nothing blocks")
    qtbot.keyClick(findings, Qt.Key.Key_Tab)
    assert findings.toPlainText() == "nothing blocks"  # no tab typed into the text …
    assert risk.hasFocus()  # … the next field has the focus
    with qtbot.waitSignal(form.submitted, timeout=5000) as sent:
        qtbot.keyClick(findings, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert findings.toPlainText() == "nothing blocks"  # Ctrl+Enter is no new line
    assert sent.args[1]["findings"] == "nothing blocks"
    # Approve or Reject is still to choose: the form says so in its buttons' words.
    qtbot.waitUntil(form.general_error.isVisible, timeout=10000)
    assert form.general_error.text() == "Choose Approve or Reject."


def test_at_the_start_drafts_of_work_done_elsewhere_are_dropped_with_a_message(  # type: ignore[no-untyped-def]
    qtbot, demo: Baton
) -> None:
    panel = open_inbox(qtbot, demo, "alice")
    select(qtbot, panel, "intake_check")
    item_id = panel.pane.details.item.id  # type: ignore[union-attr]
    line = panel.pane.form.editors["billing_email"].widget  # type: ignore[union-attr]
    assert isinstance(line, QLineEdit)
    qtbot.keyClicks(line, "never@sent.example")
    panel.close()
    path = drafts_file(demo.db.url, "alice")
    qtbot.waitUntil(lambda: item_id in read_drafts(path))
    panel.session.close()  # the app is gone: it hears of no change
    demo.work.reassign([item_id], "carol", "alice is away")
    Drafts._stores.clear()  # the app starts again

    from desktop_app.panels.inbox import InboxPanel
    from desktop_app.session import AppSession

    session = AppSession.open(demo, "alice")
    fresh = InboxPanel(session)
    qtbot.addWidget(fresh)
    fresh.destroyed.connect(session.close)
    said: list[str] = []
    fresh.status.connect(said.append)
    qtbot.waitUntil(lambda: bool(said), timeout=10000)
    assert said == ["Your draft of 'Check the intake' was dropped: the item is no longer yours."]
    qtbot.waitUntil(lambda: item_id not in read_drafts(path))


def test_the_outcome_buttons_are_never_clipped_however_narrow_the_pane(  # type: ignore[no-untyped-def]
    qtbot, demo: Baton
) -> None:
    panel = open_inbox(qtbot, demo, "frank")
    panel.resize(900, 600)
    select(qtbot, panel, "finance")
    form = panel.pane.form
    assert form is not None
    splitter = panel.pane.parentWidget()
    splitter.setSizes([2000, 10])  # the person drags the divider far to the right
    qtbot.waitUntil(lambda: panel.pane.width() > 0)
    for button in [*form.buttons.values(), panel.pane.reassign]:
        assert button.isVisible()
        assert button.width() >= button.sizeHint().width(), f"{button.text()} is squeezed"
        seen = button.visibleRegion().boundingRect()
        assert seen == button.rect(), f"{button.text()} is cut off"


def test_an_item_fits_its_pane_at_a_laptops_width(qtbot, demo: Baton) -> None:  # type: ignore[no-untyped-def]
    """At 1366 px the pane is about 400 px wide: its texts wrap and no field hides off to the
    right behind a horizontal scroll bar (seen under Xvfb)."""
    panel = open_inbox(qtbot, demo, "alice")
    panel.resize(1190, 700)
    select(qtbot, panel, "intake_check")
    splitter = panel.pane.parentWidget()
    splitter.setSizes([790, 400])
    scroller = panel.pane.scroller
    qtbot.waitUntil(lambda: scroller.widget() is not None and scroller.viewport().width() > 0)
    qtbot.waitUntil(lambda: scroller.widget().width() <= scroller.viewport().width())
    assert not scroller.horizontalScrollBar().isVisible()
    for line in scroller.widget().findChildren(QLineEdit):
        seen = line.mapTo(scroller.viewport(), line.rect().topRight())
        assert seen.x() <= scroller.viewport().width(), "a field runs past the pane"


def test_a_form_left_after_its_draft_was_dropped_keeps_nothing_until_the_item_is_open_again(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    # The check that drops a done item's draft may come before the pane leaves that item's form
    # (built while it was open): leaving it then must not keep the draft again.
    store = Drafts(tmp_path / "drafts.json")
    typed = {"values": {"billing_email": "kept@over.night"}, "comment": "", "title": "Intake"}
    store.keep(3, typed)
    assert store.drop(3) is not None
    store.keep(3, typed)  # the stale form is left
    assert store.get(3) is None
    store.keep(4, typed)  # other items are kept as ever
    assert store.get(4) is not None
    store.reopen(3)  # handed back and shown open again: what is typed is kept once more
    store.keep(3, typed)
    assert store.get(3) is not None
