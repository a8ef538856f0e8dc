"""An admin does the whole job in the Designer, with the mouse and the keyboard only: from a
blank canvas, an orchestration with two stages, steps in parallel, a form with three typed
fields, a queue assignee, a decision and a loop back; saved, activated, a run started — and a
member of the queue then sees the work in their inbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QWidget,
)

from desktop_app import tasks
from desktop_app.designer.expression_edit import ExpressionEdit
from desktop_app.designer.form_builder import FormBuilder
from desktop_app.designer.panel import DesignerPanel
from desktop_app.designer.properties import NEW_FORM
from desktop_app.panels.inbox import InboxPanel
from desktop_app.session import AppSession
from engine.definitions import editing
from engine.services.baton import Baton

WAIT = 10000
NAME = "vendor_onboarding"


@pytest.fixture
def designer(qtbot: Any, demo: Baton) -> Iterator[DesignerPanel]:
    session = AppSession.open(demo, "admin")
    panel = DesignerPanel(session)
    qtbot.addWidget(panel)
    panel.resize(1366, 768)  # the smallest screen it must fit
    panel.show()
    qtbot.waitUntil(lambda: panel.document.name == "customer_onboarding", timeout=WAIT)
    qtbot.waitUntil(lambda: bool(panel.catalog.queues), timeout=WAIT)
    yield panel
    tasks.wait_for_all()
    QApplication.processEvents()
    session.close()


class Admin:
    """The admin's hands: every gesture is a click, a drag or keys on a real widget."""

    def __init__(self, qtbot: Any, panel: DesignerPanel) -> None:
        self.qtbot = qtbot
        self.panel = panel
        self.view = panel.view

    # ------------------------------------------------------------ finding what is on screen

    def settle(self) -> None:
        self.qtbot.waitUntil(lambda: not self.panel.properties._pending, timeout=WAIT)
        QApplication.processEvents()

    def widget(self, kind: type, name: str) -> Any:
        self.settle()
        found = self.panel.properties.findChild(kind, name)
        assert found is not None, f"no {kind.__name__} named {name!r} in the property panel"
        self.panel.properties.ensureWidgetVisible(found)
        return found

    def on_screen(self, x: float, y: float) -> QPoint:
        self.view.ensureVisible(x - 5, y - 5, 10, 10, 30, 30)
        point = self.view.mapFromScene(QPointF(x, y))
        assert self.view.viewport().rect().contains(point)
        return point

    def box(self, element: str) -> Any:
        return self.panel.scene.layout.elements[element]

    # ------------------------------------------------------------ gestures

    def click(self, widget: QWidget) -> None:
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)

    def tick(self, box: QCheckBox) -> None:
        self.qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))

    def type_into(self, line: QLineEdit, text: str) -> None:
        line.setFocus()
        line.selectAll()
        self.qtbot.keyClicks(line, text)
        self.qtbot.keyClick(line, Qt.Key.Key_Return)

    def pick(self, combo: QComboBox, text: str) -> None:
        """Open the combo with a click, walk its list with the arrow keys, press Enter."""
        index = combo.findText(text)
        offered = [combo.itemText(i) for i in range(combo.count())]
        assert index >= 0, f"{text!r} is not offered: {offered}"
        self.click(combo)
        view = combo.view()
        self.qtbot.waitUntil(view.isVisible, timeout=WAIT)
        key = Qt.Key.Key_Down if index > view.currentIndex().row() else Qt.Key.Key_Up
        while view.currentIndex().row() != index:
            self.qtbot.keyClick(view, key)
        self.qtbot.keyClick(view, Qt.Key.Key_Return)
        self.qtbot.waitUntil(lambda: not view.isVisible(), timeout=WAIT)
        assert combo.currentText() == text

    def drag_from_palette(self, kind: str, x: float, y: float) -> None:
        entry = self.view.toolbox.entries[kind]
        target = self.on_screen(x, y)
        self.qtbot.mousePress(entry, Qt.MouseButton.LeftButton, pos=entry.rect().center())
        self.qtbot.mouseMove(self.view.viewport(), target)
        self.qtbot.mouseRelease(self.view.viewport(), Qt.MouseButton.LeftButton, pos=target)

    def drag_arrow(self, source: str, port: str, x: float, y: float) -> None:
        handle = next(
            p for p in self.panel.scene.layout.ports if (p.source, p.port) == (source, port)
        )
        start = self.on_screen(handle.x, handle.y)
        self.qtbot.mousePress(self.view.viewport(), Qt.MouseButton.LeftButton, pos=start)
        end = self.on_screen(x, y)
        self.qtbot.mouseMove(self.view.viewport(), end)
        self.qtbot.mouseRelease(self.view.viewport(), Qt.MouseButton.LeftButton, pos=end)

    def click_on_canvas(self, x: float, y: float) -> None:
        self.qtbot.mouseClick(
            self.view.viewport(), Qt.MouseButton.LeftButton, pos=self.on_screen(x, y)
        )

    def focus_canvas(self) -> None:
        """Back on the canvas (offscreen, a closed popup leaves no window active)."""
        self.panel.activateWindow()
        self.qtbot.waitUntil(self.panel.isActiveWindow, timeout=WAIT)
        self.view.setFocus()

    def rename_selected(self, new: str) -> None:
        self.qtbot.keyClick(self.view, Qt.Key.Key_F2)
        line = self.widget(QLineEdit, "nameEditor")
        self.type_into(line, new)

    def new_orchestration(self, name: str) -> None:
        """New… asks the name in a dialog: type it there and press Enter."""

        def answer() -> None:
            dialog = QApplication.activeModalWidget()
            assert isinstance(dialog, QInputDialog)
            line = dialog.findChild(QLineEdit)
            self.qtbot.keyClicks(line, name)
            self.qtbot.keyClick(line, Qt.Key.Key_Return)

        QTimer.singleShot(0, answer)
        self.click(self.panel.versions.buttons["New…"])

    def add_field(self, form: str, type_name: str) -> None:
        builder = self.widget(FormBuilder, f"forms.{form}")
        self.click(builder.add_button)
        menu = builder.type_menu
        self.qtbot.waitUntil(menu.isVisible, timeout=WAIT)
        action = next(a for a in menu.actions() if a.text() == type_name)
        self.qtbot.mouseClick(
            menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center()
        )


def test_an_admin_draws_saves_activates_and_a_queue_member_gets_the_work(
    qtbot: Any, designer: DesignerPanel, demo: Baton
) -> None:
    admin = Admin(qtbot, designer)
    document = designer.document

    hint = designer.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 768, "it fits the smallest screen"

    # A blank canvas.
    admin.new_orchestration(NAME)
    qtbot.waitUntil(lambda: document.name == NAME, timeout=WAIT)
    assert document.data["elements"] == [] and not document.read_only

    # Two stages, dragged from the palette, and renamed (their labels follow).
    end = designer.scene.layout.end
    assert end is not None
    admin.drag_from_palette("stage", end.cx, end.y - 20)
    admin.focus_canvas()
    admin.rename_selected("intake")
    intake = admin.box("intake")
    admin.drag_from_palette("stage", intake.cx, intake.bottom + 30)
    admin.focus_canvas()
    admin.rename_selected("approval")
    assert [(e["name"], e["label"]) for e in document.data["elements"]] == [
        ("intake", "Intake"),
        ("approval", "Approval"),
    ]
    assert designer.scene.items_by_key[("approval", None)].label == "Approval"

    # Two tasks side by side in the first stage: they run in parallel.
    lane = admin.box("intake")
    admin.drag_from_palette("interactive", lane.x + 260, lane.cy)
    admin.focus_canvas()
    admin.rename_selected("collect")
    admin.drag_from_palette("interactive", lane.right - 60, lane.cy)
    admin.focus_canvas()
    admin.rename_selected("verify")
    lane = admin.box("approval")
    admin.drag_from_palette("interactive", lane.x + 260, lane.cy)
    admin.focus_canvas()
    admin.rename_selected("sign_off")
    steps = [s["name"] for s in editing.steps(editing.stage(document.data, "intake"))]
    assert steps == ["collect", "verify"]
    assert editing.step(document.data, "approval", "sign_off")["label"] == "Sign off"

    # The first task gets a new form of three typed fields, and the finance queue.
    card = designer.scene.layout.steps[("intake", "collect")]
    admin.click_on_canvas(card.x + 20, card.y + 10)
    assert document.selection == ("intake", "collect")
    admin.pick(admin.widget(QComboBox, "intake.collect.form"), NEW_FORM)
    form = editing.step(document.data, "intake", "collect")["form"]
    assert form == "collect_form"
    admin.add_field(form, "Picklist")
    admin.add_field(form, "Currency")
    admin.add_field(form, "Date")
    fields = f"forms.{form}.fields"
    admin.widget(QListWidget, fields).setCurrentRow(0)
    admin.type_into(admin.widget(QLineEdit, f"{fields}[0].name"), "category")
    admin.type_into(admin.widget(QLineEdit, f"{fields}[0].options.new"), "Software")
    admin.tick(admin.widget(QCheckBox, f"{fields}[0].required"))
    admin.widget(QListWidget, fields).setCurrentRow(1)
    admin.type_into(admin.widget(QLineEdit, f"{fields}[1].name"), "amount")
    admin.tick(admin.widget(QCheckBox, f"{fields}[1].required"))
    validation = admin.widget(ExpressionEdit, f"{fields}[1].validation.expression")
    admin.type_into(validation.line, "value > 0")
    admin.type_into(
        admin.widget(QLineEdit, f"{fields}[1].validation.message"), "The amount is over zero."
    )
    admin.widget(QListWidget, fields).setCurrentRow(2)
    admin.type_into(admin.widget(QLineEdit, f"{fields}[2].name"), "start_date")
    built = editing.form(document.data, form)["fields"]
    assert [(f["name"], f["type"], f.get("label")) for f in built] == [
        ("category", "picklist", "Category"),
        ("amount", "currency", "Amount"),
        ("start_date", "date", "Start date"),
    ]
    assert built[0]["options"] == ["Option 1", "Option 2", "Software"]
    preview = admin.widget(FormBuilder, f"forms.{form}").preview
    assert preview is not None and list(preview.editors) == ["category", "amount", "start_date"]
    hint = designer.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 768
    admin.pick(admin.widget(QComboBox, "intake.collect.assignee.queue"), "finance")

    # The other tasks share the form; one is the finance queue's, one Frank's alone.
    card = designer.scene.layout.steps[("intake", "verify")]
    admin.click_on_canvas(card.x + 20, card.y + 10)
    admin.pick(admin.widget(QComboBox, "intake.verify.form"), form)
    admin.pick(admin.widget(QComboBox, "intake.verify.assignee.queue"), "finance")
    card = designer.scene.layout.steps[("approval", "sign_off")]
    admin.click_on_canvas(card.x + 20, card.y + 10)
    admin.pick(admin.widget(QComboBox, "approval.sign_off.form"), form)
    admin.pick(admin.widget(QComboBox, "approval.sign_off.assignee.user"), "frank")

    # A decision between the stages, with an outcome whose arrow is dragged back to intake.
    intake, approval = admin.box("intake"), admin.box("approval")
    admin.drag_from_palette("decision", intake.cx, (intake.bottom + approval.y) / 2)
    assert editing.element_names(document.data) == ["intake", "decide", "approval"]
    assert editing.element(document.data, "decide")["default"] == "approval"
    admin.focus_canvas()
    shortcut = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(designer.view, Qt.Key.Key_O, shortcut)  # Add outcome
    outcome = editing.element(document.data, "decide")["outcomes"][0]["name"]
    when = admin.widget(ExpressionEdit, "decide.outcomes[0].when")
    admin.type_into(when.line, "intake.collect.outputs.amount > 10000")
    assert when.problem.isHidden(), when.problem.text()
    intake = admin.box("intake")
    admin.drag_arrow("decide", f"outcome:{outcome}", intake.x + 80, intake.cy)
    qtbot.waitUntil(
        lambda: editing.element(document.data, "decide")["outcomes"][0]["next"] == "intake",
        timeout=WAIT,
    )
    loops = [e for e in designer.scene.layout.edges if e.kind == "back"]
    assert [(e.source, e.target) for e in loops] == [("decide", "intake")]

    # Valid: save, then activate.
    qtbot.waitUntil(lambda: designer.inspection_current, timeout=WAIT)
    assert designer.inspection is not None
    assert designer.inspection.valid, [p.message for p in designer.inspection.problems]
    admin.click(designer.versions.buttons["Save draft"])
    qtbot.waitUntil(lambda: not document.modified, timeout=WAIT)
    admin.click(designer.versions.buttons["Activate"])
    qtbot.waitUntil(
        lambda: {o.name: o for o in demo.definitions.list()}[NAME].active_version == 1,
        timeout=WAIT,
    )

    # A run starts; Frank, of the finance queue, sees both tasks of the first stage.
    run = demo.as_user("admin").runs.start(NAME)
    session = AppSession.open(demo, "frank")
    inbox = InboxPanel(session)
    qtbot.addWidget(inbox)
    inbox.show()
    qtbot.waitUntil(
        lambda: (
            sorted(i.step for i in inbox.model.items if i.run_id == run.id) == ["collect", "verify"]
        ),
        timeout=WAIT,
    )
    inbox.close()
    tasks.wait_for_all()
    QApplication.processEvents()
    session.close()
