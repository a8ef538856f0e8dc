"""The Inbox, driven through real widgets (offscreen), as a person would use it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLineEdit

from desktop_app import tasks
from desktop_app.engine_runner import EmbeddedEngine
from desktop_app.panels.inbox import InboxPanel
from desktop_app.panels.inbox_model import InboxModel
from desktop_app.session import AppSession
from desktop_app.shell import MainWindow
from engine.services.baton import Baton


def open_inbox(qtbot, demo: Baton, user: str) -> InboxPanel:  # type: ignore[no-untyped-def]
    session = AppSession.open(demo, user)
    panel = InboxPanel(session)
    qtbot.addWidget(panel)
    panel.show()
    panel.destroyed.connect(session.close)
    qtbot.waitUntil(lambda: not panel.model.loading, timeout=10000)
    return panel


def steps(panel: InboxPanel) -> list[str]:
    return sorted(item.step for item in panel.model.items)


def select(qtbot, panel: InboxPanel, step: str) -> None:  # type: ignore[no-untyped-def]
    row = next(i for i, item in enumerate(panel.model.items) if item.step == step)
    panel.table.selectRow(row)
    qtbot.waitUntil(
        lambda: (
            panel.pane.form is not None
            and panel.pane.details is not None
            and panel.pane.details.item.step == step
        ),
        timeout=10000,
    )


def test_a_user_signs_in_and_submits_a_form_with_a_mistake_then_correctly(  # type: ignore[no-untyped-def]
    qtbot, demo: Baton
) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    from desktop_app.signin import SignInDialog

    demo.directory.set_password("alice", "alice's password")
    dialog = SignInDialog(demo, "the demo")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.username, "alice")
    qtbot.keyClicks(dialog.password, "alice's password")
    with qtbot.waitSignal(dialog.signed_in, timeout=10000) as signed_in:
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    panel = open_inbox(qtbot, demo, signed_in.args[0].username)
    assert steps(panel) == ["intake_check"]
    select(qtbot, panel, "intake_check")
    form = panel.pane.form
    assert form is not None
    run_id = panel.pane.details.item.run_id  # type: ignore[union-attr]
    qtbot.mouseClick(form.buttons[None], Qt.MouseButton.LeftButton)
    email = form.editors["billing_email"]
    qtbot.waitUntil(lambda: email.error.isVisible(), timeout=10000)
    assert email.error.text() == "is required"
    assert form.editors["contract_signed"].error.text() == "must be ticked"
    assert demo.runs.get(run_id).current_element == "intake"  # nothing changed
    checkbox = form.editors["contract_signed"].widget
    assert isinstance(checkbox, QCheckBox)
    checkbox.setChecked(True)
    line = email.widget
    assert isinstance(line, QLineEdit)
    qtbot.keyClicks(line, "accounts@globex.example")
    qtbot.mouseClick(form.buttons[None], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: demo.runs.get(run_id).current_element == "review", timeout=10000)
    qtbot.waitUntil(
        lambda: not panel.model.loading and "intake_check" not in steps(panel), timeout=10000
    )


def test_a_claimed_queue_item_leaves_the_others_inbox_and_returns_on_release(  # type: ignore[no-untyped-def]
    qtbot, demo: Baton
) -> None:
    frank_inbox, omar = open_inbox(qtbot, demo, "frank"), open_inbox(qtbot, demo, "omar")
    queued = [i for i in omar.model.items if i.step == "finance_approval"]
    assert queued, "the demo has refunds waiting in the finance queue"
    select(qtbot, frank_inbox, "finance_approval")
    claimed_id = frank_inbox.pane.details.item.id  # type: ignore[union-attr]
    assert frank_inbox.claim.isEnabled()
    qtbot.mouseClick(frank_inbox.claim, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: demo.work.get(claimed_id).claimed_by == "frank", timeout=10000)
    omar.refresh()
    qtbot.waitUntil(lambda: claimed_id not in {i.id for i in omar.model.items}, timeout=10000)
    omar.show_claimed.setChecked(True)  # … unless omar asks to see who holds what
    qtbot.waitUntil(lambda: claimed_id in {i.id for i in omar.model.items}, timeout=10000)
    mine = next(i for i in omar.model.items if i.id == claimed_id)
    assert mine.claimed_by == "frank"
    omar.show_claimed.setChecked(False)
    with pytest.raises(Exception, match="claimed by frank"):
        demo.as_user("omar").work.complete(claimed_id, {}, outcome="approve")
    frank_inbox.refresh()
    qtbot.waitUntil(lambda: not frank_inbox.model.loading, timeout=10000)
    select(qtbot, frank_inbox, "finance_approval")
    qtbot.waitUntil(lambda: frank_inbox.release.isEnabled(), timeout=10000)
    qtbot.mouseClick(frank_inbox.release, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: demo.work.get(claimed_id).claimed_by is None, timeout=10000)
    omar.refresh()
    qtbot.waitUntil(lambda: claimed_id in {i.id for i in omar.model.items}, timeout=10000)
    assert next(i for i in omar.model.items if i.id == claimed_id).claimed_by is None


def test_the_inbox_model_is_a_well_behaved_model(qtbot, qtmodeltester, demo: Baton) -> None:  # type: ignore[no-untyped-def]
    service = demo.as_user("omar")
    model = InboxModel(
        lambda offset, limit, query: service.work.list(
            user="omar", limit=limit, offset=offset, sort=query["sort"]
        )
    )
    with qtbot.waitSignal(model.loaded, timeout=10000):
        model.reload()
    assert model.rowCount() > 0
    qtmodeltester.check(model)


def test_the_main_window_assembles_the_panels(qtbot, demo: Baton) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QSettings

    session = AppSession.open(demo, "carol")
    engine = EmbeddedEngine(demo)
    settings = QSettings(
        str(Path(os.environ["XDG_CONFIG_HOME"]) / "test.ini"), QSettings.Format.IniFormat
    )
    window = MainWindow(session, settings, engine)
    qtbot.addWidget(window)
    titles = [window.navigation.item(i).text() for i in range(window.navigation.count())]
    assert titles == ["Inbox", "Records", "Designer", "Runs", "Work Items", "Dashboards", "Admin"]
    engine.start()
    window.close()


def test_the_app_starts_and_quits_with_smoke(tmp_path: Path) -> None:
    baton = str(Path(sys.executable).parent / "baton")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [baton, "--db", str(tmp_path / "smoke.sqlite3"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "smoke: main window open" in result.stdout


def test_work_arriving_while_a_form_is_half_filled_keeps_the_item_and_what_was_typed(  # type: ignore[no-untyped-def]
    qtbot, demo: Baton
) -> None:
    panel = open_inbox(qtbot, demo, "alice")
    select(qtbot, panel, "intake_check")
    shown = panel.pane.details.item.id  # type: ignore[union-attr]
    form = panel.pane.form
    assert form is not None
    line = form.editors["billing_email"].widget
    assert isinstance(line, QLineEdit)
    qtbot.keyClicks(line, "half@typed")
    before = {item.id for item in panel.model.items}
    # New work for alice arrives, through the engine: the list reloads.
    demo.runs.start("customer_onboarding", {"customer_name": "Late Co", "amount": 100})
    qtbot.waitUntil(lambda: len(panel.model.items) == len(before) + 1, timeout=10000)
    assert panel.selected_item() is not None and panel.selected_item().id == shown
    assert panel.pane.form is form and line.text() == "half@typed"
    assert panel.claim.isEnabled() is False  # still the buttons of the item shown


QUEUE_WORK = """
format: 1
name: reviews
type: autolaunched
variables:
  - {name: customer, type: text, input: true, required: true}
forms:
  review:
    fields:
      - {name: ok, type: checkbox}
elements:
  - kind: stage
    name: review
    steps:
      - {kind: interactive, name: check, label: Check, form: review, assignee: {queue: legal}}
"""


@pytest.fixture
def second_baton(db_path: Path) -> Iterator[Baton]:
    baton = Baton(str(db_path), upgrade=True)
    yield baton
    tasks.wait_for_all()
    baton.close()


def test_the_inbox_pages_past_work_others_claimed_and_filters_in_sql(  # type: ignore[no-untyped-def]
    qtbot, db_path: Path, second_baton: Baton
) -> None:
    from tests.conftest import define, people

    baton = Baton(str(db_path), upgrade=True)
    people(baton)
    define(baton, QUEUE_WORK)
    define(baton, QUEUE_WORK.replace("reviews", "audits"))
    for n in range(160):
        baton.runs.start("reviews", {"customer": f"customer {n:03d}"})
    baton.runs.start("audits", {"customer": "the last one"})
    dave = baton.as_user("dave")
    items = sorted(i.id for i in dave.work.list(user="dave", limit=500))
    claimed = items[1::4]  # 40 of the 161, spread through every page (not the last)
    for item_id in claimed:
        dave.work.claim(item_id)
    baton.close()

    panel = open_inbox(qtbot, second_baton, "bob")
    # Page by page, as the person scrolls to the end: every item not claimed by dave shows.
    panel.table.setFocus()
    qtbot.mouseClick(
        panel.table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=panel.table.visualRect(panel.model.index(0, 0)).center(),
    )
    while not panel.model.exhausted:
        rows = panel.model.rowCount()
        qtbot.keyClick(panel.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda r=rows: panel.model.rowCount() > r or panel.model.exhausted)
    expected = len(items) - len(claimed)
    assert (len(items), expected) == (161, 121)
    assert panel.model.rowCount() == expected
    assert not {i.id for i in panel.model.items} & set(claimed)
    qtbot.waitUntil(lambda: panel.count.text().startswith(f"{expected} items"))

    # Filtering asks the database: the item at the very end is found at once, in one page.
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    panel.model.exhausted = False
    qtbot.keyClicks(panel.filter, "AUDIT")
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1 and not panel.model.loading)
    assert panel.model.items[0].orchestration == "audits"
    assert panel.model.exhausted
    qtbot.waitUntil(lambda: panel.count.text() == "1 item")


def test_what_earlier_steps_decided_reads_as_words_not_as_python(qtbot, demo: Baton) -> None:  # type: ignore[no-untyped-def]
    # A newcomer read "contract_signed: True" in an item's context: field names and Python's
    # booleans. The context names the fields as labels, and a tick box as yes or no.
    from PySide6.QtWidgets import QLabel

    panel = open_inbox(qtbot, demo, "frank")
    select(qtbot, panel, "finance")
    texts = [w.text() for w in panel.pane.findChildren(QLabel) if w.isVisible()]
    said = next(t for t in texts if "Contract signed" in t)
    assert "Contract signed: yes" in said and "True" not in said and "_" not in said.split(":")[0]
    # And what the run is about (a run with no record has nothing else): its inputs, labelled.
    run = demo.runs.show(panel.pane.details.item.run_id)  # type: ignore[union-attr]
    assert "About this run" in texts and "Contract amount" in texts
    assert run.variables["customer_name"] in texts


def test_ages_move_on_while_the_inbox_stays_open(qtbot, demo: Baton, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # A newcomer's inbox said "11 min" for as long as it stayed open.
    import datetime as dt

    from desktop_app.panels import inbox_model

    monkeypatch.setattr(inbox_model, "TICK_MS", 50)  # a minute, shortened
    panel = open_inbox(qtbot, demo, "omar")
    model = panel.model
    age = inbox_model.COLUMNS.index("Age")
    before = model.index(0, age).data()
    clock.advance(dt.timedelta(days=3))
    with qtbot.waitSignal(model.dataChanged, timeout=5000) as told:
        pass
    first, last = told.args[0], told.args[1]
    assert first.column() <= age <= last.column() and last.row() == model.rowCount() - 1
    assert model.index(0, age).data() != before
