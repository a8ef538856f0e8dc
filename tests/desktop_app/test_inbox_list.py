"""The Inbox's list tells the truth: buttons, claims, tooltips, column widths, saved filters."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from desktop_app.panels.inbox import InboxPanel
from desktop_app.panels.inbox_filters import InboxPrefs
from desktop_app.panels.kept import kept_file, read_kept
from engine.services.baton import Baton
from tests.desktop_app.test_inbox import open_inbox
from tests.desktop_app.test_inbox_forms import click_row


def prefs_read(qtbot, panel: InboxPanel) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: panel.prefs is not None, timeout=10000)


def test_after_a_submit_claim_and_release_follow_the_new_selection(  # type: ignore[no-untyped-def]
    qtbot, demo: Baton
) -> None:
    panel = open_inbox(qtbot, demo, "frank")
    queued = [i.id for i in panel.model.items if i.assignee_kind == "queue"]
    assert len(queued) == 2
    click_row(qtbot, panel, queued[1])
    qtbot.mouseClick(panel.claim, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(panel.release.isEnabled, timeout=10000)
    assert not panel.claim.isEnabled()
    form = panel.pane.form
    assert form is not None
    qtbot.mouseClick(form.buttons["approve"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: queued[1] not in {i.id for i in panel.model.items}, timeout=10000)
    qtbot.waitUntil(lambda: not panel.model.loading, timeout=10000)
    chosen = panel.selected_item()
    assert chosen is not None and panel.pane.item_id == chosen.id
    assert panel.release.isEnabled() == (chosen.claimed_by == "frank")
    assert panel.claim.isEnabled() == (chosen.assignee_kind != "user" and not chosen.claimed_by)


def test_a_claimed_row_says_who_holds_it_and_a_cut_off_cell_shows_its_text_in_a_tooltip(  # type: ignore[no-untyped-def]
    qtbot, demo: Baton
) -> None:
    queued = [
        i.id for i in demo.as_user("frank").work.list(user="frank") if i.assignee_kind == "queue"
    ]
    demo.as_user("frank").work.claim(queued[0])
    panel = open_inbox(qtbot, demo, "omar")
    qtbot.mouseClick(panel.show_claimed, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: queued[0] in {i.id for i in panel.model.items}, timeout=10000)
    row = next(r for r, i in enumerate(panel.model.items) if i.id == queued[0])
    cell = panel.model.index(row, 4)
    assert cell.data().startswith("frank (claimed)")  # who holds it comes first

    panel.table.horizontalHeader().resizeSection(4, 60)  # too narrow for its text
    tip = hover(qtbot, panel, cell)
    assert tip == cell.data()
    panel.table.horizontalHeader().resizeSection(4, 400)  # wide enough: no tooltip
    assert hover(qtbot, panel, cell) == ""


def hover(qtbot, panel: InboxPanel, index) -> str:  # type: ignore[no-untyped-def]
    QToolTip.hideText()
    qtbot.waitUntil(lambda: not QToolTip.isVisible())
    viewport = panel.table.viewport()
    where = panel.table.visualRect(index).center()
    event = QHelpEvent(QEvent.Type.ToolTip, where, viewport.mapToGlobal(where))
    QApplication.sendEvent(viewport, event)
    return QToolTip.text() if QToolTip.isVisible() else ""


def test_column_widths_stay_as_the_person_left_them_when_widened_and_next_time(  # type: ignore[no-untyped-def]
    qtbot, demo: Baton
) -> None:
    panel = open_inbox(qtbot, demo, "frank")
    prefs_read(qtbot, panel)
    panel.resize(1000, 600)
    header = panel.table.horizontalHeader()
    header.resizeSection(2, 150)  # the person drags the Stage column wider
    before = {s: header.sectionSize(s) for s in range(1, 8)}
    panel.resize(1400, 600)  # … and widens the list: only Item takes the room
    qtbot.waitUntil(lambda: header.sectionSize(0) > 0)
    assert {s: header.sectionSize(s) for s in range(1, 8)} == before
    path = kept_file("inbox", demo.db.url, "frank")
    qtbot.waitUntil(lambda: read_kept(path).get("columns", {}).get("2") == 150, timeout=5000)
    panel.close()
    InboxPrefs._stores.clear()  # the app starts again
    again = open_inbox(qtbot, demo, "frank")
    prefs_read(qtbot, again)
    assert again.table.horizontalHeader().sectionSize(2) == 150


def test_a_saved_filter_of_the_users_own_brings_back_due_this_week_and_my_queues_only(  # type: ignore[no-untyped-def]
    qtbot, demo: Baton
) -> None:
    panel = open_inbox(qtbot, demo, "frank")
    prefs_read(qtbot, panel)
    everything = {i.id for i in panel.model.items}
    filters = panel.filters
    filters.assigned.setCurrentIndex(filters.assigned.findData("queue"))
    qtbot.waitUntil(
        lambda: (
            not panel.model.loading and {i.assignee_kind for i in panel.model.items} == {"queue"}
        ),
        timeout=10000,
    )
    queues = {i.id for i in panel.model.items}
    assert queues < everything
    filters.ask_to_save("my queues only")
    filters.assigned.setCurrentIndex(0)
    qtbot.waitUntil(lambda: {i.id for i in panel.model.items} == everything, timeout=10000)

    path = kept_file("inbox", demo.db.url, "frank")
    qtbot.waitUntil(lambda: "my queues only" in read_kept(path).get("filters", {}), timeout=5000)
    panel.close()
    InboxPrefs._stores.clear()  # the app starts again: the filter is still the person's
    again = open_inbox(qtbot, demo, "frank")
    prefs_read(qtbot, again)
    box = again.filters.saved
    index = box.findText("my queues only")
    assert index > 0
    box.setCurrentIndex(index)
    box.activated.emit(index)
    qtbot.waitUntil(lambda: {i.id for i in again.model.items} == queues, timeout=10000)
    assert again.filters.assigned.currentData() == "queue"
    # The count comes in its own answer, after the rows.
    qtbot.waitUntil(lambda: again.count.text().startswith(f"{len(queues)} item"), timeout=10000)


def test_due_this_week_means_until_monday_midnight_and_overdue_means_now() -> None:
    import datetime as dt

    from desktop_app.panels.inbox_filters import due_before

    wednesday = dt.datetime(2026, 12, 2, 15, 30).astimezone()
    monday = due_before("week", wednesday)
    assert monday is not None
    assert (monday.weekday(), monday.hour, monday.minute) == (0, 0, 0)
    assert dt.timedelta(days=4) < monday - wednesday < dt.timedelta(days=5)
    assert due_before("today", wednesday) == wednesday.replace(
        hour=0, minute=0, second=0, microsecond=0
    ) + dt.timedelta(days=1)
    assert due_before("overdue", wednesday) == wednesday
    assert due_before("any", wednesday) is None
