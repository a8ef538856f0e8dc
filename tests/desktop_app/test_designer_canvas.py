"""Drawing the flow on the canvas with the mouse: drag from the palette onto the canvas, drag an
arrow from a stage or decision to where it goes; outcome labels never overlap; titles fit or
show whole in a tooltip."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QApplication, QLineEdit, QListWidget, QPushButton

from desktop_app import tasks
from desktop_app.designer import commands
from desktop_app.designer import layout as geometry
from desktop_app.designer.items import LEGIBLE, PortItem, fit_text
from desktop_app.designer.panel import DesignerPanel
from desktop_app.designer.view import CanvasView
from desktop_app.session import AppSession
from engine.definitions import editing
from engine.services.baton import Baton

WAIT = 10000


@pytest.fixture
def designer(qtbot: Any, demo: Baton) -> Iterator[DesignerPanel]:
    session = AppSession.open(demo, "admin")
    panel = DesignerPanel(session)
    qtbot.addWidget(panel)
    panel.resize(1366, 768)
    panel.show()
    qtbot.waitUntil(lambda: panel.document.name == "customer_onboarding", timeout=WAIT)
    qtbot.mouseClick(panel.versions.buttons["Edit a copy"], Qt.MouseButton.LeftButton)
    yield panel
    tasks.wait_for_all()
    QApplication.processEvents()
    session.close()


def on_screen(view: CanvasView, x: float, y: float) -> QPoint:
    """Where scene point (x, y) is in the viewport, scrolled into view first."""
    view.ensureVisible(x - 5, y - 5, 10, 10, 20, 20)
    point = view.mapFromScene(QPointF(x, y))
    assert view.viewport().rect().contains(point), "the point is not on the screen"
    return point


def drag_from_palette(qtbot: Any, view: CanvasView, kind: str, x: float, y: float) -> None:
    entry = view.toolbox.entries[kind]
    target = on_screen(view, x, y)
    qtbot.mousePress(entry, Qt.MouseButton.LeftButton, pos=entry.rect().center())
    qtbot.mouseMove(view.viewport(), target)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=target)


def drag_arrow(qtbot: Any, view: CanvasView, port: geometry.Port, x: float, y: float) -> None:
    start = on_screen(view, port.x, port.y)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    end = on_screen(view, x, y)
    start = view.mapFromScene(QPointF(port.x, port.y))
    qtbot.mouseMove(view.viewport(), (start + end) / 2)
    qtbot.mouseMove(view.viewport(), end)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)


def port(panel: DesignerPanel, source: str, name: str) -> geometry.Port:
    return next(p for p in panel.scene.layout.ports if (p.source, p.port) == (source, name))


def box(panel: DesignerPanel, element: str) -> geometry.Box:
    return panel.scene.layout.elements[element]


def test_dragging_from_the_palette_adds_where_it_is_let_go(
    qtbot: Any, designer: DesignerPanel
) -> None:
    view, document = designer.view, designer.document
    intake, review = box(designer, "intake"), box(designer, "review")
    between = (intake.bottom + review.y) / 2
    drag_from_palette(qtbot, view, "stage", intake.cx, between)
    names = editing.element_names(document.data)
    assert names[:3] == ["intake", "new_stage", "review"]
    assert document.stack.count() == 1 and document.selection == ("new_stage", None)

    lane = box(designer, "new_stage")
    drag_from_palette(qtbot, view, "interactive", lane.x + 300, lane.y + lane.h / 2)
    drag_from_palette(qtbot, view, "background", lane.x + 240, lane.y + lane.h / 2)
    steps = editing.steps(editing.stage(document.data, "new_stage"))
    assert [(s["name"], s["kind"]) for s in steps] == [
        ("new_action", "background"),
        ("new_task", "interactive"),
    ], "let go left of the task, the action goes before it"
    assert document.stack.count() == 3

    activation = box(designer, "activation")
    drag_from_palette(qtbot, view, "decision", activation.cx, activation.bottom + 20)
    assert editing.element_names(document.data)[-1] == "decide"

    # a step let go outside any lane is refused with the reason; nothing changes
    said: list[str] = []
    designer.status.connect(said.append)
    right = designer.scene.sceneRect().right() - 10
    drag_from_palette(qtbot, view, "interactive", right, intake.y + 5)
    assert said and "onto a stage's lane" in said[-1]
    assert document.stack.count() == 4
    # clicking an entry without dragging adds after the selection, like the tool bar
    document.select(("intake", None))
    entry = view.toolbox.entries["stage"]
    qtbot.mouseClick(entry, Qt.MouseButton.LeftButton, pos=entry.rect().center())
    assert editing.element_names(document.data)[1] == "new_stage_2"


def test_dragging_an_arrow_connects_a_stage_or_a_decision(
    qtbot: Any, designer: DesignerPanel
) -> None:
    view, document = designer.view, designer.document
    handles = {(p.port.source, p.port.port) for p in designer.scene.ports}
    assert ("intake", "next") in handles and ("all_approved", "default") in handles
    assert all(isinstance(p, PortItem) for p in designer.scene.ports)

    activation = box(designer, "activation")
    drag_arrow(qtbot, view, port(designer, "intake", "next"), activation.x + 60, activation.cy)
    qtbot.waitUntil(lambda: editing.element(document.data, "intake").get("next") == "activation")
    assert document.stack.undoText() == "Connect intake next to activation"

    decision = editing.element(document.data, "all_approved")
    outcome = decision["outcomes"][0]["name"]
    end = designer.scene.layout.end
    assert end is not None
    drag_arrow(qtbot, view, port(designer, "all_approved", f"outcome:{outcome}"), end.cx, end.cy)
    qtbot.waitUntil(
        lambda: editing.element(document.data, "all_approved")["outcomes"][0]["next"] == "end"
    )
    # let go on a card: the arrow goes to the card's stage
    card = designer.scene.layout.steps[("review", "legal")]
    drag_arrow(qtbot, view, port(designer, "all_approved", "default"), card.cx, card.cy)
    qtbot.waitUntil(lambda: editing.element(document.data, "all_approved")["default"] == "review")
    count = document.stack.count()

    said: list[str] = []
    designer.status.connect(said.append)
    left = designer.scene.sceneRect().left() + 10
    drag_arrow(qtbot, view, port(designer, "intake", "next"), left, box(designer, "intake").y)
    assert said and "Let go of the arrow on a stage" in said[-1]
    assert document.stack.count() == count

    # a read-only version offers no handles and no palette (a newcomer dragged from a palette
    # that was only greyed and nothing happened), and the canvas takes its room
    margin = view.viewportMargins().left()
    document.set_read_only(True)
    assert designer.scene.ports == [] and not view.toolbox.isVisible()
    assert view.viewportMargins().left() == 0 < margin
    document.set_read_only(False)
    assert view.toolbox.isVisible() and view.viewportMargins().left() == margin


def test_a_decisions_outcome_labels_never_overlap() -> None:
    outcomes = [
        {"name": f"outcome_{i}", "label": f"Outcome number {i}", "when": "True", "next": target}
        for i, target in enumerate(["first", "third", "end", "first", "second", "third", "end"])
    ]
    data = {
        "elements": [
            {"kind": "stage", "name": "first", "steps": [{"kind": "interactive", "name": "a"}]},
            {"kind": "decision", "name": "choose", "outcomes": outcomes, "default": "second"},
            {"kind": "stage", "name": "second", "steps": [{"kind": "interactive", "name": "b"}]},
            {"kind": "stage", "name": "third", "steps": [{"kind": "interactive", "name": "c"}]},
        ]
    }
    layout = geometry.compute(data)
    labels = [e.label_box for e in layout.edges if e.source == "choose"]
    assert len(labels) == 8 and all(labels)
    for a, b in itertools.combinations(labels, 2):
        assert a is not None and b is not None
        apart = a.right <= b.x or b.right <= a.x or a.bottom <= b.y or b.bottom <= a.y
        assert apart, f"{a} overlaps {b}"
    diamond = layout.elements["choose"]
    starts = [e.points[0][1] for e in layout.edges if e.source == "choose"]
    assert all(diamond.y <= y <= diamond.bottom for y in starts), "they leave the diamond"
    ports = [(p.x, p.y) for p in layout.ports if p.source == "choose"]
    assert len(set(ports)) == len(ports) == 8, "each outcome has a handle of its own"


def test_card_titles_show_whole_in_the_tooltip_and_fit_legibly_at_fit(
    qtbot: Any, designer: DesignerPanel
) -> None:
    long = "Check the customer's credit history with every bureau we work with"
    designer.document.select(("review", "legal"))
    designer.push(lambda: commands.SetProperty(designer.document, "review.legal", "label", long))
    card = designer.scene.items_by_key[("review", "legal")]
    assert card.toolTip().splitlines()[0] == long
    lane = designer.scene.items_by_key[("review", None)]
    assert lane.toolTip().splitlines()[0] == "Review"

    designer.view.fit()
    scale = designer.view.zoom
    assert scale < 0.6
    width, height = geometry.STEP_W - 28, geometry.STEP_H - 8
    font, lines = fit_text("Record the request", width, height, 20, LEGIBLE / scale)
    assert " ".join(lines) == "Record the request", "a short title wraps whole"
    assert font.pointSizeF() * scale >= LEGIBLE
    font, lines = fit_text(long, width, height, 20, LEGIBLE / scale)
    assert font.pointSizeF() * scale >= LEGIBLE - 1e-6, "never shrunk below legible"
    assert lines[-1].endswith("…"), "what does not fit is cut, and the tooltip has it all"
    metrics = QFontMetricsF(font)
    assert all(metrics.horizontalAdvance(line) <= width for line in lines)
    assert len(lines) * metrics.lineSpacing() <= height + 1e-6
    # at 100 % a two-line title wraps at the card's own size
    font, lines = fit_text("Record the customer request", 144, 30, 10, LEGIBLE)
    assert " ".join(lines) == "Record the customer request" and font.pointSizeF() >= LEGIBLE


def test_renaming_updates_the_label_shown_when_it_was_derived(
    qtbot: Any, designer: DesignerPanel
) -> None:
    designer.add_stage()
    assert designer.scene.items_by_key[("new_stage", None)].label == "New stage"
    designer.properties.rebuild()
    name = designer.properties.findChild(QLineEdit, "nameEditor")
    name.setFocus()
    name.selectAll()
    qtbot.keyClicks(name, "credit_check")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    assert designer.scene.items_by_key[("credit_check", None)].label == "Credit check"


def test_renaming_an_outcome_relabels_its_arrow(qtbot: Any, designer: DesignerPanel) -> None:
    designer.document.select(("all_approved", None))
    designer.add_outcome()
    designer.properties.rebuild()
    rows = designer.properties.findChild(QListWidget, "all_approved.outcomes.list")
    rows.setCurrentRow(rows.count() - 1)
    row = rows.count() - 1
    line = designer.properties.findChild(QLineEdit, f"all_approved.outcomes[{row}].name")
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, "too_risky")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    outcome = editing.element(designer.document.data, "all_approved")["outcomes"][row]
    assert (outcome["name"], outcome["label"]) == ("too_risky", "Too risky")
    labels = [e.label for e in designer.scene.layout.edges if e.source == "all_approved"]
    assert "Too risky" in labels
    handle = next(p for p in designer.scene.ports if p.port.port == "outcome:too_risky")
    assert handle.toolTip() == "Drag onto where all_approved goes when “Too risky”"


def test_an_outcome_added_in_the_panel_is_named_and_labelled_as_an_outcome(
    qtbot: Any, designer: DesignerPanel
) -> None:
    # A newcomer's outcomes came as item_1 and item_2 with no label: the arrow read item_1.
    designer.document.select(("all_approved", None))
    designer.properties.rebuild()
    before = len(editing.element(designer.document.data, "all_approved")["outcomes"])
    add = designer.properties.findChild(QPushButton, "all_approved.outcomes.Add")
    assert add is not None
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            len(editing.element(designer.document.data, "all_approved")["outcomes"]) == before + 1
        ),
        timeout=5000,
    )
    added = editing.element(designer.document.data, "all_approved")["outcomes"][-1]
    number = before + 1
    assert (added["name"], added["label"]) == (f"outcome_{number}", f"Outcome {number}")
    labels = [e.label for e in designer.scene.layout.edges if e.source == "all_approved"]
    assert f"Outcome {number}" in labels


def test_a_palette_drag_is_followed_while_qt_sends_it_to_the_entry(
    qtbot: Any, designer: DesignerPanel
) -> None:
    """With the button down, Qt sends the moves and the release to the entry pressed, not to
    the canvas under the pointer: the entry hands them on to the canvas."""
    view = designer.view
    intake, review = box(designer, "intake"), box(designer, "review")
    target = on_screen(view, intake.cx, (intake.bottom + review.y) / 2)
    entry = view.toolbox.entries["decision"]
    there = entry.mapFromGlobal(view.viewport().mapToGlobal(target))
    qtbot.mousePress(entry, Qt.MouseButton.LeftButton, pos=entry.rect().center())
    qtbot.mouseMove(entry, there)
    assert view._ghost is not None and view._ghost.isVisible(), "the canvas shows where it goes"
    qtbot.mouseRelease(entry, Qt.MouseButton.LeftButton, pos=there)
    assert editing.element_names(designer.document.data)[1] == "decide"
    assert view._ghost is None and view.placing is None
