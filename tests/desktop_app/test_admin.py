"""The Admin panel through its widgets, as an admin uses it: people, queues and their
members (with the picker), a business calendar with its preview, and the mail settings with
a test message to a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QListWidget, QWidget

from desktop_app.admin.panel import AdminPanel
from desktop_app.session import AppSession
from engine.services.baton import Baton

WAIT = 15000


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def admin(demo: Baton) -> Iterator[AppSession]:
    session = AppSession.open(demo, "admin")
    yield session
    session.close()


@pytest.fixture
def panel(qtbot, admin: AppSession) -> AdminPanel:  # type: ignore[no-untyped-def]
    panel = AdminPanel(admin)
    qtbot.addWidget(panel)
    panel.resize(1366 - 170, 700)  # the window's share of a 1366×768 screen
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def child(parent: QWidget, kind: type, name: str) -> Any:
    found = parent.findChild(kind, name)
    assert found is not None, f"no {kind.__name__} named {name}"
    return found


def type_into(qtbot, widget: QWidget, text: str) -> None:  # type: ignore[no-untyped-def]
    """Click into a field, select what is there and type over it, as a person does."""
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(widget, text)


def click(qtbot, button: QWidget) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def choose_tab(qtbot, panel: AdminPanel, title: str) -> None:  # type: ignore[no-untyped-def]
    bar = panel.tabs.tabBar()
    index = next(i for i in range(panel.tabs.count()) if panel.tabs.tabText(i) == title)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert panel.tabs.currentIndex() == index


def row_of(items: QListWidget, text: str) -> int:
    for row in range(items.count()):
        item = items.item(row)
        if item is not None and text in item.text():
            return row
    return -1


def test_an_admin_creates_a_user_a_queue_with_two_members_a_calendar_and_sends_a_test_mail(  # type: ignore[no-untyped-def]
    qtbot, panel: AdminPanel, demo: Baton, smtp: tuple[Inbox, int]
) -> None:
    said: list[str] = []
    panel.status.connect(said.append)

    # ---- a new person
    people = panel.people
    qtbot.waitUntil(lambda: people.list.model.total == demo.directory.count_people(), timeout=WAIT)
    click(qtbot, people.list.new)
    form = people.form
    type_into(qtbot, form.username, "alice")  # taken: said as typed, in the engine's words
    qtbot.waitUntil(lambda: form.fields.problems["username"].text() != "", timeout=WAIT)
    assert form.fields.problems["username"].text() == "user 'alice' already exists"
    type_into(qtbot, form.username, "nina")
    qtbot.waitUntil(lambda: form.fields.problems["username"].isHidden(), timeout=WAIT)
    type_into(qtbot, form.name, "Nina Berg")
    type_into(qtbot, form.email, "nina@example.com")
    type_into(qtbot, form.password, "short")
    qtbot.waitUntil(lambda: "at least 8" in form.fields.problems["password"].text(), timeout=WAIT)
    type_into(qtbot, form.password, "a long passphrase")
    qtbot.waitUntil(lambda: form.fields.problems["password"].isHidden(), timeout=WAIT)
    click(qtbot, form.save)
    qtbot.waitUntil(lambda: "Created nina" in said, timeout=WAIT)
    nina = demo.directory.user("nina")
    assert (nina.display_name, nina.email, nina.role) == ("Nina Berg", "nina@example.com", "user")
    assert demo.directory.authenticate("nina", "a long passphrase").username == "nina"
    type_into(qtbot, people.list.text, "nina")
    qtbot.waitUntil(
        lambda: people.list.model.total == 1 and people.list.model.row(0) is not None,
        timeout=WAIT,
    )
    assert people.list.count.text() == "1 person"

    # ---- a queue with two members: one chosen from the picker, one typed
    choose_tab(qtbot, panel, "Queues")
    queues = panel.queues
    qtbot.waitUntil(lambda: queues.list.count() > 0, timeout=WAIT)
    click(qtbot, queues.new)
    group = queues.form
    type_into(qtbot, group.name, "billing")
    type_into(qtbot, group.label_, "Billing")
    type_into(qtbot, group.email, "billing@example.com")
    click(qtbot, group.save)
    qtbot.waitUntil(lambda: row_of(queues.list, "Billing — billing") >= 0, timeout=WAIT)
    qtbot.waitUntil(lambda: group.member_box.isVisible(), timeout=WAIT)
    picker = group.picker
    type_into(qtbot, picker, "Nina B")
    popup = picker.completer_.popup()
    qtbot.waitUntil(lambda: popup.isVisible() and popup.model().rowCount() == 1, timeout=WAIT)
    assert (
        popup.model().index(0, 0).data() == "Nina Berg — nina (user) · 0 open"
    )  # an admin sees the work held
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert picker.text() == "nina"
    click(qtbot, group.add)
    qtbot.waitUntil(lambda: group.members.count() == 1, timeout=WAIT)
    type_into(qtbot, picker, "frank")  # a name typed, not chosen, is taken as typed
    qtbot.waitUntil(lambda: popup.isVisible(), timeout=WAIT)  # suggestions open: Enter anyway
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: group.members.count() == 2, timeout=WAIT)
    [billing] = [g for g in demo.directory.groups("queue") if g.name == "billing"]
    assert (billing.label, billing.email, billing.members) == (
        "Billing",
        "billing@example.com",
        ["frank", "nina"],
    )
    assert (
        "0 open work item(s)" in group.work.text()
        and "2 of 2 member(s) active" in group.work.text()
    )

    # ---- a calendar, with its preview as typed
    choose_tab(qtbot, panel, "Calendars")
    calendars = panel.calendars
    qtbot.waitUntil(lambda: calendars.list.count() > 0, timeout=WAIT)
    click(qtbot, calendars.new)
    cal = calendars.form
    before = demo.calendars.list()
    taken = before[0].name
    type_into(qtbot, cal.name, taken)  # a new calendar may not replace one by accident
    assert f"a calendar named '{taken}' exists" in cal.fields.problems["name"].text()
    click(qtbot, cal.save)  # refused at once, in the form
    assert demo.calendars.list() == before
    type_into(qtbot, cal.name, "lisbon_office")
    type_into(qtbot, cal.zone.lineEdit(), "Europe/Lisbon")
    type_into(qtbot, cal.days["mon"], "09:00-13:00, 14:00-18:00")
    type_into(qtbot, cal.days["fri"], "09:00-25:00")
    qtbot.waitUntil(lambda: "'25:00'" in cal.answer.text(), timeout=WAIT)  # the engine's words
    type_into(qtbot, cal.days["fri"], "09:00-15:00")
    type_into(qtbot, cal.holidays, "2026-12-25")
    qtbot.waitUntil(lambda: cal.answer.text().startswith("falls due at "), timeout=WAIT)
    assert "(Europe/Lisbon)" in cal.answer.text()
    click(qtbot, cal.default)
    click(qtbot, cal.save)
    qtbot.waitUntil(lambda: "Saved calendar lisbon_office" in said, timeout=WAIT)
    [lisbon] = [c for c in demo.calendars.list() if c.name == "lisbon_office"]
    assert lisbon.timezone == "Europe/Lisbon" and lisbon.is_default
    assert lisbon.hours["mon"] == [["09:00", "13:00"], ["14:00", "18:00"]]
    assert lisbon.hours["fri"] == [["09:00", "15:00"]] and lisbon.holidays == ["2026-12-25"]
    qtbot.waitUntil(lambda: row_of(calendars.list, "lisbon_office") >= 0, timeout=WAIT)

    # ---- the mail server, and a test message through it
    inbox, port = smtp
    choose_tab(qtbot, panel, "Mail")
    mail = panel.mail.smtp
    type_into(qtbot, mail.host, "127.0.0.1")
    type_into(qtbot, mail.port, str(port))
    mail.security.setFocus()
    qtbot.keyClicks(mail.security, "none")
    assert mail.security.currentText() == "none"
    type_into(qtbot, mail.send_from, "baton@example.com")
    click(qtbot, mail.save)
    qtbot.waitUntil(
        lambda: any(s.startswith("Saved the mail settings") for s in said), timeout=WAIT
    )
    type_into(qtbot, mail.recipient, "nina@example.com")
    click(qtbot, mail.test)
    qtbot.waitUntil(lambda: mail.result.text().startswith("Sent:"), timeout=WAIT)
    [message] = inbox.messages
    assert (message["To"], message["From"]) == ("nina@example.com", "baton@example.com")
    assert message["Subject"] == "[Baton] Test message"


def test_a_test_message_the_server_cannot_take_shows_the_servers_words(  # type: ignore[no-untyped-def]
    qtbot, panel: AdminPanel, demo: Baton
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = int(sock.getsockname()[1])  # nothing listens here
    demo.settings.set_smtp("127.0.0.1", port=closed, security="none", timeout=2)
    choose_tab(qtbot, panel, "Mail")
    mail = panel.mail.smtp
    qtbot.waitUntil(lambda: mail.host.text() == "127.0.0.1", timeout=WAIT)
    type_into(qtbot, mail.recipient, "nina@example.com")
    click(qtbot, mail.test)
    qtbot.waitUntil(
        lambda: mail.test.isEnabled() and "could not be sent" in mail.result.text(), timeout=WAIT
    )
    assert f"127.0.0.1:{closed}" in mail.result.text() and "refused" in mail.result.text().lower()


def test_the_admin_lists_pass_the_model_tester(
    qtmodeltester, qtbot, panel: AdminPanel, demo: Baton
) -> None:  # type: ignore[no-untyped-def]
    people = panel.people.list.model
    qtbot.waitUntil(lambda: people.total > 0 and people.row(0) is not None, timeout=WAIT)
    qtmodeltester.check(people, force_py=True)
    choose_tab(qtbot, panel, "Mail")
    outbox = panel.mail.outbox.model
    qtbot.waitUntil(
        lambda: outbox.total == demo.mail.count() and outbox.row(0) is not None, timeout=WAIT
    )
    qtmodeltester.check(outbox, force_py=True)
    assert QApplication.instance() is not None


def test_nothing_of_the_previous_admin_stays_when_someone_else_signs_in(  # type: ignore[no-untyped-def]
    qtbot, panel: AdminPanel, admin: AppSession, demo: Baton
) -> None:
    people = panel.people
    qtbot.waitUntil(lambda: people.list.model.row(0) is not None, timeout=WAIT)
    qtbot.mouseClick(
        people.list.table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=people.list.table.visualRect(people.list.model.index(0, 0)).center(),
    )
    qtbot.waitUntil(lambda: people.form.user is not None, timeout=WAIT)
    choose_tab(qtbot, panel, "Queues")
    qtbot.waitUntil(lambda: panel.queues.list.count() > 0, timeout=WAIT)
    admin.switch_user(demo.directory.user("carol"))  # a supervisor: no Admin panel
    assert people.form.user is None and people.form.username.text() == ""
    assert panel.queues.list.count() == 0 and panel.queues.form.status is None
    assert panel.loaded == set()  # and nothing is read for someone who may not see it


def test_an_admin_defines_an_object_type_and_its_fields_in_the_form(  # type: ignore[no-untyped-def]
    qtbot, panel: AdminPanel, demo: Baton
) -> None:
    choose_tab(qtbot, panel, "Object types")
    section = panel.object_types
    qtbot.waitUntil(lambda: section.list.count() == 2, timeout=WAIT)  # the demo's
    click(qtbot, section.new)
    form = section.form
    type_into(qtbot, form.name, "customer")
    qtbot.waitUntil(lambda: form.fields.problems["name"].isVisible(), timeout=WAIT)
    assert "an object type named 'customer' exists" in form.fields.problems["name"].text()
    type_into(qtbot, form.name, "Supplier Co")
    qtbot.waitUntil(
        lambda: "'Supplier Co' is not a name" in form.fields.problems["name"].text(),
        timeout=WAIT,
    )
    type_into(qtbot, form.name, "supplier")
    type_into(qtbot, form.label_, "Supplier")
    type_into(qtbot, form.title_field, "name")
    table = form.table
    type_into(qtbot, table.line(0, 0), "name")
    required = table.cellWidget(0, 3)
    qtbot.mouseClick(
        required, Qt.MouseButton.LeftButton, pos=required.rect().topLeft() + QPoint(8, 8)
    )
    click(qtbot, form.add)
    assert table.rowCount() == 2
    type_into(qtbot, table.line(1, 0), "tier")
    kind = table.cellWidget(1, 2)
    kind.setFocus()
    qtbot.keyClicks(kind, "picklist")
    type_into(qtbot, table.line(1, 4), "Gold, Silver")
    qtbot.waitUntil(
        lambda: form.fields.problems["name"].isHidden() and form.field_problems.isHidden(),
        timeout=WAIT,
    )
    click(qtbot, form.save)
    qtbot.waitUntil(lambda: row_of(section.list, "Supplier — supplier") >= 0, timeout=WAIT)
    [supplier] = [t for t in demo.records.types() if t.name == "supplier"]
    assert (supplier.label, supplier.title_field) == ("Supplier", "name")
    assert supplier.fields == [
        {"name": "name", "type": "text", "required": True},
        {"name": "tier", "type": "picklist", "required": False, "options": ["Gold", "Silver"]},
    ]


def _open_person(qtbot, panel: AdminPanel, username: str) -> None:  # type: ignore[no-untyped-def]
    people = panel.people
    type_into(qtbot, people.list.text, username)
    qtbot.waitUntil(
        lambda: (
            people.list.model.total == 1
            and (row := people.list.model.row(0)) is not None
            and row.username == username
        ),
        timeout=WAIT,
    )
    table = people.list.table
    qtbot.mouseClick(
        table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=table.visualRect(people.list.model.index(0, 0)).center(),
    )
    qtbot.waitUntil(
        lambda: people.form.user is not None and people.form.user.username == username,
        timeout=WAIT,
    )


def test_an_edit_someone_else_overtook_is_refused_and_changes_nothing(  # type: ignore[no-untyped-def]
    qtbot, panel: AdminPanel, demo: Baton
) -> None:
    _open_person(qtbot, panel, "alice")
    form = panel.people.form
    demo.directory.update_user("alice", display_name="Alice M. (by another admin)")
    type_into(qtbot, form.email, "alice@new.example")
    click(qtbot, form.save)
    qtbot.waitUntil(lambda: form.problem.isVisible(), timeout=WAIT)
    assert "alice was changed by someone else after you opened them" in form.problem.text()
    alice = demo.directory.user("alice")
    assert (alice.display_name, alice.email) == ("Alice M. (by another admin)", "alice@example.com")


def test_deactivating_says_what_happens_and_hands_the_work_on(  # type: ignore[no-untyped-def]
    qtbot, panel: AdminPanel, demo: Baton
) -> None:
    from desktop_app.admin.deactivate import DeactivateDialog

    said: list[str] = []
    panel.status.connect(said.append)
    mine = [w.id for w in demo.work.list(user="alice") if w.assignee == "alice"]
    assert mine
    _open_person(qtbot, panel, "alice")
    click(qtbot, panel.people.form.deactivate)
    dialog = panel.people.form.dialog
    assert isinstance(dialog, DeactivateDialog)
    qtbot.waitUntil(lambda: "flagged for reassignment" in dialog.effect.text(), timeout=WAIT)
    assert f"• {len(mine)} open item(s) assigned to alice" in dialog.effect.text()
    click(qtbot, dialog.confirm)  # no reason: refused, and alice stays active
    qtbot.waitUntil(lambda: dialog.problem.isVisible(), timeout=WAIT)
    assert "a reason is required" in dialog.problem.text()
    assert demo.directory.user("alice").active
    type_into(qtbot, dialog.reason, "moved to another team")
    type_into(qtbot, dialog.target, "queue:legal")
    click(qtbot, dialog.confirm)
    qtbot.waitUntil(lambda: any(s.startswith("Deactivated alice") for s in said), timeout=WAIT)
    assert f"{len(mine)} item(s) handed on" in said[-1]
    assert not demo.directory.user("alice").active
    moved = [w for w in demo.work.list(user="lena") if w.id in mine]
    assert {(w.assignee_kind, w.assignee) for w in moved} == {("queue", "legal")}
    qtbot.waitUntil(lambda: panel.people.form.reactivate.isVisible(), timeout=WAIT)
    click(qtbot, panel.people.form.reactivate)
    qtbot.waitUntil(lambda: demo.directory.user("alice").active, timeout=WAIT)


def test_a_queue_whose_members_all_left_warns_about_its_work(  # type: ignore[no-untyped-def]
    qtbot, panel: AdminPanel, demo: Baton
) -> None:
    demo.directory.deactivate("rita", "left")
    choose_tab(qtbot, panel, "Queues")
    queues = panel.queues
    qtbot.waitUntil(lambda: row_of(queues.list, "Recruiting") >= 0, timeout=WAIT)
    row = row_of(queues.list, "Recruiting")
    assert queues.list.item(row).text().startswith("⚠ ")
    rect = queues.list.visualItemRect(queues.list.item(row))
    qtbot.mouseClick(queues.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    form = queues.form
    qtbot.waitUntil(lambda: form.warning.isVisible(), timeout=WAIT)
    assert "which has no active members: nobody can do them" in form.warning.text()
    assert form.members.item(0).text() == "rita (deactivated)"


def test_a_failed_message_is_retried_from_the_outbox(  # type: ignore[no-untyped-def]
    qtbot, panel: AdminPanel, demo: Baton
) -> None:
    from engine.store.rows import OutboxRec, Tx

    newest = demo.mail.list(limit=1)[0]["id"]
    with demo.db.write() as session:
        row = Tx.of(session).get_one(OutboxRec, newest)
        row.status, row.attempts, row.last_error = "failed", 10, "550 5.1.1 mailbox unknown"
    choose_tab(qtbot, panel, "Mail")
    outbox = panel.mail.outbox
    outbox.filter.setFocus()
    qtbot.keyClicks(outbox.filter, "failed")
    qtbot.waitUntil(
        lambda: outbox.model.total == 1 and outbox.model.row(0) is not None, timeout=WAIT
    )
    assert outbox.model.index(0, 6).data() == "550 5.1.1 mailbox unknown"
    assert not outbox.retry.isEnabled()
    table = outbox.table
    qtbot.mouseClick(
        table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=table.visualRect(outbox.model.index(0, 0)).center(),
    )
    assert outbox.retry.isEnabled()
    click(qtbot, outbox.retry)
    qtbot.waitUntil(lambda: outbox.model.total == 0, timeout=WAIT)
    [message] = [m for m in demo.mail.list() if m["id"] == newest]
    assert (message["status"], message["attempts"]) == ("pending", 0)


def test_every_section_fits_a_1366_by_768_screen(qtbot, panel: AdminPanel) -> None:  # type: ignore[no-untyped-def]
    for index in range(panel.tabs.count()):
        panel.tabs.setCurrentIndex(index)
        hint = panel.minimumSizeHint()
        assert hint.width() <= 1366 - 170, panel.tabs.tabText(index)  # beside the navigation
        assert hint.height() <= 768 - 140, panel.tabs.tabText(index)  # under bars and title


def test_refreshing_reads_what_another_admin_changed(qtbot, panel: AdminPanel, demo: Baton) -> None:  # type: ignore[no-untyped-def]
    choose_tab(qtbot, panel, "Calendars")
    calendars = panel.calendars
    qtbot.waitUntil(lambda: calendars.list.count() > 0, timeout=WAIT)
    before = calendars.list.count()
    demo.calendars.define("night_shift", timezone="UTC", hours={"mon": [["22:00", "23:59"]]})
    panel.refresh()
    qtbot.waitUntil(lambda: calendars.list.count() == before + 1, timeout=WAIT)
    assert row_of(calendars.list, "night_shift — UTC") >= 0


def test_the_people_list_filters_by_role_and_state_in_sql(
    qtbot, panel: AdminPanel, demo: Baton
) -> None:  # type: ignore[no-untyped-def]
    people = panel.people.list
    qtbot.waitUntil(lambda: people.model.total == demo.directory.count_people(), timeout=WAIT)
    people.role.setFocus()
    qtbot.keyClicks(people.role, "supervisor")
    qtbot.waitUntil(lambda: people.count.text() == "1 person", timeout=WAIT)
    qtbot.waitUntil(lambda: people.model.row(0) is not None, timeout=WAIT)
    assert people.model.row(0).username == "carol"
    people.state.setFocus()
    qtbot.keyClicks(people.state, "Deactivated")
    qtbot.waitUntil(lambda: people.count.text() == "0 people", timeout=WAIT)


def test_the_picker_suggests_people_groups_and_queues_and_takes_a_typed_name(
    qtbot, admin: AppSession
) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.pickers import PeoplePicker

    picker = PeoplePicker(lambda: admin.service)
    qtbot.addWidget(picker)
    picker.show()
    picker.setFocus()
    chosen: list[str] = []
    entered: list[str] = []
    picker.picked.connect(chosen.append)
    picker.entered.connect(entered.append)
    popup = picker.completer_.popup()
    qtbot.keyClicks(picker, "leg")
    qtbot.waitUntil(lambda: popup.isVisible(), timeout=WAIT)
    shown = [popup.model().index(r, 0).data() for r in range(popup.model().rowCount())]
    assert "Legal — queue:legal (queue, 2 members) · 0 open" in shown
    qtbot.keyClick(picker, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(picker, "queue:f")  # a kind first: only that kind
    qtbot.waitUntil(
        lambda: (
            [popup.model().index(r, 0).data() for r in range(popup.model().rowCount())]
            == [f"Finance — queue:finance (queue, 2 members) · {_held(admin, 'finance')} open"]
        ),
        timeout=WAIT,
    )
    qtbot.waitUntil(lambda: popup.isVisible(), timeout=WAIT)
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert chosen == ["queue:finance"] and picker.value() == "queue:finance" and entered == []
    qtbot.keyClick(picker, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(picker, "someone_new")  # nobody matches: taken as typed
    qtbot.keyClick(picker, Qt.Key.Key_Return)
    assert entered == ["someone_new"] and picker.value() == "someone_new"


def _held(session: AppSession, queue: str) -> int:
    """The open work a queue holds, as an admin's picker counts it."""
    return session.service.work.open_counts([f"queue:{queue}"])[f"queue:{queue}"]


def test_what_another_admin_changes_shows_without_refreshing(  # type: ignore[no-untyped-def]
    qtbot, panel: AdminPanel, demo: Baton
) -> None:
    # Another desktop's admin (here the service, as they act through it) adds a person and a
    # calendar: the People list shown reads again, and the Calendars tab does when chosen.
    people = panel.people
    before = demo.directory.count_people()
    qtbot.waitUntil(lambda: people.list.model.total == before, timeout=WAIT)
    calendars = panel.calendars
    choose_tab(qtbot, panel, "Calendars")
    qtbot.waitUntil(lambda: calendars.list.count() > 0, timeout=WAIT)
    choose_tab(qtbot, panel, "People")
    elsewhere = demo.as_user("admin")
    elsewhere.directory.create_user("quinn", display_name="Quinn Hale")
    qtbot.waitUntil(lambda: people.list.model.total == before + 1, timeout=WAIT)
    elsewhere.calendars.define("late_shift", timezone="UTC", hours={"mon": [["18:00", "23:00"]]})
    choose_tab(qtbot, panel, "Calendars")
    qtbot.waitUntil(lambda: row_of(calendars.list, "late_shift") >= 0, timeout=WAIT)


def test_mail_queued_meanwhile_shows_in_the_outbox_and_keeps_a_half_typed_setting(  # type: ignore[no-untyped-def]
    qtbot, panel: AdminPanel, demo: Baton
) -> None:
    # Every change to the outbox read the whole Mail section again, the SMTP form too: what
    # an admin was typing went back to the stored setting whenever the engine queued a mail
    # (on a big history, several times a second).
    from engine.store.rows import OutboxRec, Tx

    demo.as_user("admin").settings.set_smtp("smtp.stored.example", port=2525)
    choose_tab(qtbot, panel, "Mail")
    outbox, host = panel.mail.outbox, panel.mail.smtp.host
    qtbot.waitUntil(lambda: outbox.model.row(0) is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: host.text() == "smtp.stored.example", timeout=WAIT)
    stored = host.text()
    host.setFocus()
    host.selectAll()
    qtbot.keyClicks(host, "mail.example.org")
    newest = demo.mail.list(limit=1)[0]["id"]
    with demo.db.write() as session:
        row = Tx.of(session).get_one(OutboxRec, newest)
        row.status, row.last_error = "failed", "421 try again later"
    qtbot.waitUntil(lambda: "421 try again later" in _outbox_texts(outbox), timeout=WAIT)
    assert host.text() == "mail.example.org" != stored


def _outbox_texts(outbox: Any) -> list[str]:
    model = outbox.model
    return [
        str(model.index(r, c).data())
        for r in range(model.rowCount())
        for c in range(model.columnCount())
    ]
