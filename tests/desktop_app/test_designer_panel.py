"""The Designer as an admin uses it: open, edit by keyboard, mouse and property panel, review,
save, activate, compare, import and export, and Try it — through real widgets on a real
database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox, QWidget

from desktop_app import tasks
from desktop_app.designer.expression_edit import ExpressionEdit
from desktop_app.designer.items import StepItem
from desktop_app.designer.panel import DesignerPanel
from desktop_app.designer.versions import DiffDialog
from desktop_app.session import AppSession
from engine.definitions import editing
from engine.services.baton import Baton
from tests.desktop_app.widgets import text_room, widest_item

WAIT = 10000


@pytest.fixture
def designer(qtbot: Any, demo: Baton) -> Iterator[DesignerPanel]:
    session = AppSession.open(demo, "admin")
    panel = DesignerPanel(session)
    qtbot.addWidget(panel)
    panel.resize(1400, 900)
    panel.show()
    qtbot.waitUntil(lambda: panel.document.name == "customer_onboarding", timeout=WAIT)
    qtbot.waitUntil(lambda: panel.inspection_current, timeout=WAIT)
    yield panel
    tasks.wait_for_all()
    QApplication.processEvents()  # deliver what finished while the panel is still open
    session.close()


def open_copy(qtbot: Any, panel: DesignerPanel) -> None:
    assert panel.document.read_only, "an active version opens read-only"
    qtbot.mouseClick(panel.versions.buttons["Edit a copy"], Qt.MouseButton.LeftButton)
    assert not panel.document.read_only


def test_the_demo_opens_read_only_on_the_canvas_with_a_clean_review(
    qtbot: Any, designer: DesignerPanel
) -> None:
    assert designer.banner.isVisibleTo(designer)
    assert ("review", "legal") in designer.scene.items_by_key
    qtbot.waitUntil(lambda: designer.review.tree.topLevelItemCount() == 0, timeout=WAIT)
    assert designer.review.summary.text().startswith("Valid, and design review found nothing")
    designer.add_stage()  # refused while read-only
    assert "rework" in editing.element_names(designer.document.data)
    assert designer.document.stack.count() == 0


def test_keyboard_navigation_delete_and_undo(qtbot: Any, designer: DesignerPanel) -> None:
    open_copy(qtbot, designer)
    designer.view.setFocus()
    designer.document.select(("review", None))
    qtbot.keyClick(designer.view, Qt.Key.Key_Right)
    assert designer.document.selection == ("review", "legal")
    qtbot.keyClick(designer.view, Qt.Key.Key_Right)
    assert designer.document.selection == ("review", "security")
    qtbot.keyClick(designer.view, Qt.Key.Key_Down)
    assert designer.document.selection == ("all_approved", None)
    designer.document.select(("review", "security"))
    before = designer.document.data
    qtbot.keyClick(designer.view, Qt.Key.Key_Delete)
    assert ("review", "security") not in designer.scene.items_by_key
    qtbot.keyClick(designer.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert designer.document.data == before
    assert ("review", "security") in designer.scene.items_by_key
    qtbot.keyClick(designer.view, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    order = [s["name"] for s in editing.steps(editing.stage(designer.document.data, "review"))]
    assert order[:3] == ["legal", "finance", "security"], "Alt+Down moves a step later"


def test_dragging_a_step_to_another_lane_moves_it(qtbot: Any, designer: DesignerPanel) -> None:
    open_copy(qtbot, designer)
    card = designer.scene.items_by_key[("review", "finance")]
    assert isinstance(card, StepItem)
    lane = designer.scene.items_by_key[("rework", None)]
    card.setSelected(True)
    target = lane.sceneBoundingRect().center() + QPointF(200, 0)
    card.setPos(target - QPointF(card.rect().width() / 2, card.rect().height() / 2))
    designer.scene._drop(card)()
    names = [s["name"] for s in editing.steps(editing.stage(designer.document.data, "rework"))]
    assert names == ["address_findings", "finance"]
    assert ("rework", "finance") in designer.scene.items_by_key
    assert designer.document.selection == ("rework", "finance")


def test_property_panel_edits_are_commands_and_expressions_are_checked_as_typed(
    qtbot: Any, designer: DesignerPanel
) -> None:
    open_copy(qtbot, designer)
    designer.document.select(("review", "senior_approval"))
    qtbot.waitUntil(
        lambda: designer.properties.shown == ("review", "senior_approval"), timeout=WAIT
    )
    editor = designer.properties.findChild(
        ExpressionEdit, "review.senior_approval.start.expression"
    )
    assert editor is not None and editor.text() == "vars.amount > 100000"
    editor.line.setFocus()
    editor.line.selectAll()
    qtbot.keyClicks(editor.line, "vars.amout > 5")
    assert "did you mean 'amount'" in editor.problem.text()
    editor.line.clear()
    qtbot.keyClicks(editor.line, "vars.amount > 5")
    assert editor.problem.isHidden()
    qtbot.keyClick(editor.line, Qt.Key.Key_Return)
    step = editing.step(designer.document.data, "review", "senior_approval")
    assert step["start"]["expression"] == "vars.amount > 5"
    assert designer.document.stack.undoText().startswith("Change start")
    completions = editor.completer.model().stringList()
    assert "review.legal.outputs.risk" in completions and "vars.amount" in completions


def test_renaming_in_the_panel_and_a_bad_name_says_why(qtbot: Any, designer: DesignerPanel) -> None:
    open_copy(qtbot, designer)
    designer.document.select(("review", None))
    qtbot.waitUntil(lambda: designer.properties.shown == ("review", None), timeout=WAIT)
    name = designer.properties.findChild(QLineEdit, "nameEditor")
    name.setText("intake")
    name.editingFinished.emit()
    problem = designer.properties.findChild(
        Any.__class__ and QApplication.instance().__class__ and type(name).__mro__[1], "nameProblem"
    )  # type: ignore[arg-type]
    del problem
    assert "review" in editing.element_names(designer.document.data)
    assert designer.document.stack.count() == 0
    name.setText("assessment")
    name.editingFinished.emit()
    assert "assessment" in editing.element_names(designer.document.data)
    decision = editing.element(designer.document.data, "all_approved")
    assert "assessment.legal.outputs.outcome" in decision["outcomes"][0]["when"]


def test_review_marks_the_canvas_and_choosing_a_finding_selects_it(
    qtbot: Any, designer: DesignerPanel
) -> None:
    open_copy(qtbot, designer)
    designer.add_stage()  # a new empty "New stage": a problem (no steps) and a vague name
    name = designer.document.selection[0]
    assert name == "new_stage"
    qtbot.waitUntil(
        lambda: designer.inspection_current and designer.review.tree.topLevelItemCount() > 0,
        timeout=WAIT,
    )
    assert "problem" in designer.review.summary.text()
    assert designer.scene.items_by_key[(name, None)].marks
    # What is cut off in a narrow panel is in the row's tip: the finding and its fix whole.
    first = designer.review.tree.topLevelItem(0)
    assert first is not None
    for column in (2, 3):
        assert first.text(2) in first.toolTip(column)
        assert not first.text(3) or f"Fix: {first.text(3)}" in first.toolTip(column)
    designer.document.select(("intake", None))
    designer.review._choose(designer.review.tree.topLevelItem(0))
    assert designer.document.selection == (name, None)
    designer.add_step("interactive")

    def told_of_the_missing_assignee() -> bool:
        found = designer.inspection.problems if designer.inspection else []
        return any(p.step == "new_task" and "assignee" in p.message for p in found)

    qtbot.waitUntil(told_of_the_missing_assignee, timeout=WAIT)
    assert designer.scene.items_by_key[(name, "new_task")].marks


def test_save_activate_and_compare_versions(
    qtbot: Any, designer: DesignerPanel, demo: Baton
) -> None:
    open_copy(qtbot, designer)
    designer.document.select(("review", "legal"))
    designer.push(
        lambda: __import__("desktop_app.designer.commands", fromlist=["x"]).SetProperty(
            designer.document, "review.legal", "due", "3 business days"
        )
    )
    qtbot.mouseClick(designer.versions.buttons["Save draft"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not designer.document.modified, timeout=WAIT)
    info = {o.name: o for o in demo.definitions.list()}["customer_onboarding"]
    assert [(v.number, v.status) for v in info.versions] == [(1, "active"), (2, "draft")]
    # a second save changes the draft in place
    designer.push(
        lambda: __import__("desktop_app.designer.commands", fromlist=["x"]).SetProperty(
            designer.document, "review.legal", "priority", "high"
        )
    )
    qtbot.waitUntil(
        lambda: designer.versions.current is not None and designer.versions.current.number == 2,
        timeout=WAIT,
    )
    qtbot.waitUntil(
        lambda: designer.versions.infos["customer_onboarding"].latest_version == 2, timeout=WAIT
    )
    qtbot.mouseClick(designer.versions.buttons["Activate"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            {o.name: o for o in demo.definitions.list()}["customer_onboarding"].active_version == 2
        ),
        timeout=WAIT,
    )
    versions = {o.name: o for o in demo.definitions.list()}["customer_onboarding"].versions
    assert [(v.number, v.status) for v in versions] == [(1, "obsolete"), (2, "active")]
    qtbot.waitUntil(lambda: designer.document.read_only, timeout=WAIT)
    dialog = DiffDialog(
        designer,
        {o.name: o for o in demo.definitions.list()}["customer_onboarding"],
        designer.session,
    )
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.changes.count() > 0, timeout=WAIT)
    texts = [dialog.changes.item(i).text() for i in range(dialog.changes.count())]
    assert any("step review.legal" in t and "due" in t and "priority" in t for t in texts), texts
    assert dialog.new_scene.items_by_key[("review", "legal")].status == "Suspended"


def test_import_refuses_garbage_and_export_writes_a_loadable_file(
    qtbot: Any, designer: DesignerPanel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    designer.versions.import_path(str(bad))
    qtbot.waitUntil(lambda: bool(warnings))
    assert "cannot be read" in warnings[0]
    assert designer.document.name == "customer_onboarding", "nothing was lost"
    # A pipe is refused at once (read in the background, never waited on).
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    designer.versions.import_path(str(fifo))
    qtbot.waitUntil(lambda: len(warnings) == 2)
    assert "not a regular file" in warnings[1]
    out = tmp_path / "out.yaml"
    designer.versions.export_path(str(out))
    qtbot.waitUntil(lambda: out.exists() and out.stat().st_size > 0)
    qtbot.waitUntil(lambda: yaml.safe_load(out.read_text()) == designer.document.data)
    designer.versions.import_path(str(out))
    qtbot.waitUntil(lambda: designer.document.modified)
    assert not designer.document.read_only


def test_copy_and_paste_a_step(qtbot: Any, designer: DesignerPanel) -> None:
    open_copy(qtbot, designer)
    designer.document.select(("review", "legal"))
    designer.copy_selected()
    designer.document.select(("intake", None))
    designer.paste()
    names = [s["name"] for s in editing.steps(editing.stage(designer.document.data, "intake"))]
    assert names == ["record_request", "intake_check", "legal"]
    assert designer.document.selection == ("intake", "legal")


def test_try_it_runs_the_draft_and_colours_the_canvas(
    qtbot: Any, designer: DesignerPanel, demo: Baton
) -> None:
    runs_before = len(demo.as_user("admin").runs.list(limit=1000))
    designer.start_trying()
    panel = designer.try_it
    qtbot.waitUntil(
        lambda: panel.form_area.widget() is not None and panel.trial is not None, timeout=WAIT
    )
    inputs = panel.form_area.widget()
    inputs.editors["customer_name"].widget.setText("Test Co")
    inputs.editors["amount"].widget.setText("5000")
    qtbot.mouseClick(inputs.buttons["start"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.items.count() == 1, timeout=WAIT)
    assert designer.scene.items_by_key[("intake", "record_request")].status == "Completed"
    assert designer.scene.items_by_key[("intake", "intake_check")].status == "InProgress"
    assert panel.person.currentText() == "alice"
    qtbot.waitUntil(
        lambda: (
            getattr(panel.form_area.widget(), "editors", None) is not None
            and "billing_email" in panel.form_area.widget().editors
        ),
        timeout=WAIT,
    )
    form = panel.form_area.widget()
    form.editors["contract_signed"].widget.setChecked(True)
    form.editors["billing_email"].widget.setText("billing@test.example")
    qtbot.mouseClick(next(iter(form.buttons.values())), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.items.count() == 3, timeout=WAIT)
    assert designer.scene.items_by_key[("intake", None)].status == "Completed"
    assert designer.scene.items_by_key[("review", "senior_approval")].status == "Skipped"
    panel.stop()
    assert designer.scene.items_by_key[("intake", None)].status is None
    assert len(demo.as_user("admin").runs.list(limit=1000)) == runs_before


def test_error_recipients_are_picked_from_people_queues_and_groups(
    qtbot: Any, designer: DesignerPanel
) -> None:
    from desktop_app.designer.fields import _ListCompleter

    designer.activateWindow()  # typing goes to the focused line of the active window
    qtbot.waitUntil(designer.isActiveWindow, timeout=WAIT)
    open_copy(qtbot, designer)
    qtbot.waitUntil(lambda: "Orchestration.error_recipients" in designer.properties.directory)
    designer.document.select(("", None))  # the orchestration itself

    def recipients() -> QLineEdit | None:
        lines = designer.properties.findChildren(QLineEdit)
        return next((x for x in lines if isinstance(x.completer(), _ListCompleter)), None)

    qtbot.waitUntil(lambda: recipients() is not None, timeout=WAIT)
    # The panel settles (it is rebuilt once the catalog and the review are in).
    qtbot.waitUntil(lambda: not designer.properties._pending, timeout=WAIT)
    qtbot.waitUntil(lambda: designer.inspection_current, timeout=WAIT)
    QApplication.processEvents()
    line = recipients()
    assert line is not None
    line.setFocus()
    qtbot.waitUntil(line.hasFocus, timeout=WAIT)
    line.selectAll()
    qtbot.keyClicks(line, "carol, legal")
    completer = line.completer()
    # What is suggested completes the last name; those before it stay.
    qtbot.waitUntil(lambda: completer.currentCompletion() == "carol, queue:legal", timeout=WAIT)
    qtbot.keyClick(completer.popup(), Qt.Key.Key_Down)
    qtbot.keyClick(completer.popup(), Qt.Key.Key_Return)
    assert line.text() == "carol, queue:legal"
    qtbot.keyClick(line, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: designer.document.data.get("error_recipients") == ["carol", "queue:legal"],
        timeout=WAIT,
    )


def test_the_property_panel_fits_its_width_at_a_laptops_size(
    qtbot: Any, designer: DesignerPanel
) -> None:
    """At 1366×768 the panel is about 440 px wide: long names wrap and wide editors (a form,
    a list) go under their labels, so nothing is cut off at the right (seen under Xvfb)."""
    designer.resize(1190, 700)
    for key in [("", None), ("review", "legal"), ("intake", None), ("all_approved", None)]:
        designer.document.select(key)
        qtbot.waitUntil(lambda: not designer.properties._pending, timeout=WAIT)
        QApplication.processEvents()
        content = designer.properties.widget()
        room = designer.properties.viewport().width()
        assert content.minimumSizeHint().width() <= room, (key, content.minimumSizeHint(), room)


def test_the_undo_button_keeps_its_place_and_its_tip_names_the_edit(
    qtbot: Any, designer: DesignerPanel
) -> None:
    # A newcomer's toolbar grew and shrank as Undo took each edit's name ("Undo Add
    # interactive step to approval"): Tests and History fell into the overflow, and the next
    # click landed on Zoom out instead of Fit.
    open_copy(qtbot, designer)
    bar = designer.toolbar
    undo = next(a for a in bar.actions() if a.text() == "Undo")
    fit = bar.widgetForAction(designer.fit_action)
    assert fit is not None
    where = fit.geometry()
    designer.view.setFocus()
    designer.document.select(("review", "security"))
    qtbot.keyClick(designer.view, Qt.Key.Key_Delete)
    assert undo.text() == "Undo" and undo.isEnabled()
    assert undo.toolTip().startswith("Undo ") and len(undo.toolTip()) > len("Undo (Ctrl+Z)")
    assert "Ctrl+Z" in undo.toolTip()
    qtbot.waitUntil(lambda: fit.geometry() == where, timeout=2000)
    qtbot.keyClick(designer.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert ("review", "security") in designer.scene.items_by_key
    assert undo.text() == "Undo" and not undo.isEnabled()


def test_try_it_keeps_the_form_and_its_buttons_in_sight_at_a_laptops_size(
    qtbot: Any, designer: DesignerPanel
) -> None:
    # At 1366×768 a newcomer's Try it left the form a box 90 pixels tall, "Start the run" out
    # of sight until they scrolled inside it.
    designer.resize(1190, 560)  # the Designer's share of a 1366×768 screen
    designer.start_trying()
    panel = designer.try_it
    qtbot.waitUntil(
        lambda: panel.form_area.widget() is not None and panel.trial is not None, timeout=WAIT
    )
    inputs = panel.form_area.widget()
    start = inputs.buttons["start"]
    qtbot.waitUntil(start.isVisible, timeout=WAIT)
    QApplication.processEvents()
    assert panel.form_area.height() >= 180
    shown = start.mapTo(panel, start.rect().bottomRight())
    assert panel.rect().contains(shown) and not start.visibleRegion().isEmpty()
    assert not panel.form_area.widget().isAncestorOf(start)  # under the form, not in it
    inputs.editors["customer_name"].widget.setText("Test Co")
    inputs.editors["amount"].widget.setText("5000")
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.items.count() == 1, timeout=WAIT)
    panel.stop()


def test_the_version_and_orchestration_boxes_show_their_entries_whole(
    qtbot: Any, designer: DesignerPanel
) -> None:
    # A newcomer read "· 5 ru" at the end of the version box, even at 1920 pixels.
    versions = designer.versions
    for box in (versions.orchestrations, versions.version_choice):
        qtbot.waitUntil(lambda box=box: box.count() > 0, timeout=WAIT)
        qtbot.waitUntil(lambda box=box: text_room(box) >= widest_item(box), timeout=WAIT)


def test_renaming_a_step_keeps_the_fields_under_the_mouse(
    qtbot: Any, designer: DesignerPanel
) -> None:
    # After a rename the heading wrapped onto a second line and every field moved down: a
    # newcomer's next click landed on the wrong field and a typed name was lost.
    designer.resize(1190, 700)  # a laptop's share: the panel about 440 pixels wide
    open_copy(qtbot, designer)
    designer.document.select(("review", "legal"))
    qtbot.waitUntil(lambda: designer.properties.shown == ("review", "legal"), timeout=WAIT)
    name = designer.properties.findChild(QLineEdit, "nameEditor")
    where = name.mapTo(designer, name.rect().topLeft())
    name.setFocus()
    name.selectAll()
    qtbot.keyClicks(name, "legal_review_of_the_contract_and_its_annexes_by_counsel")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    key = ("review", "legal_review_of_the_contract_and_its_annexes_by_counsel")
    qtbot.waitUntil(lambda: designer.properties.shown == key, timeout=WAIT)
    QApplication.processEvents()
    renamed = designer.properties.findChild(QLineEdit, "nameEditor")
    assert renamed.mapTo(designer, renamed.rect().topLeft()) == where
    heading = designer.properties.findChild(QWidget, "propertyHeading")
    assert key[1] in heading.toolTip()
