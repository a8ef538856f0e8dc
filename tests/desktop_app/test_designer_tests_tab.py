"""The Designer's Tests tab and Try it's time travel and recording, as an admin uses them:
run the orchestration's scenarios against the draft, read a failure, see coverage on the
canvas, advance a trial's time until an escalation fires, and record a session as a scenario
that is saved and runs green — through real widgets on a real database."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QListWidget

from desktop_app import tasks
from desktop_app.designer.items import DIMMED, DIMMED_OPACITY
from desktop_app.designer.panel import DesignerPanel
from desktop_app.designer.tests_tab import ScenariosPanel
from desktop_app.session import AppSession
from engine.clients.demo import resources_dir
from engine.services.baton import Baton

WAIT = 20000
RESOURCES = resources_dir()


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


def click(qtbot: Any, widget: Any) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def click_action(qtbot: Any, designer: DesignerPanel, action: Any) -> None:
    click(qtbot, designer.toolbar.widgetForAction(action))


def click_row(qtbot: Any, listing: QListWidget, row: int) -> None:
    rect = listing.visualItemRect(listing.item(row))
    qtbot.mouseClick(listing.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert listing.currentRow() == row


def open_tests(qtbot: Any, designer: DesignerPanel) -> ScenariosPanel:
    click_action(qtbot, designer, designer.tests_action)
    tests = designer.tests
    assert designer.side.currentWidget() is tests
    return tests


def finished(tests: ScenariosPanel, summary: str) -> bool:
    return not tests.running and tests.summary.text().startswith(summary)


# A copy of two demo scenarios: one as it is, one expecting what does not happen (line 28).
COPY = """\
format: 1
orchestration: {definitions}/customer_onboarding.yaml
setup:
  directory: {demo}/directory.yaml
  calendars: {demo}/calendars.yaml
  object_types: {demo}/object_types.yaml
  now: 2026-03-06T15:00 Europe/London
scenarios:
  - name: small contract is approved
    start: {{inputs: {{customer_name: Globex, amount: 40000}}, as: alice}}
    steps:
      - complete: {{step: intake_check, as: alice, fields: {{contract_signed: true, billing_email: ap@globex.example}}}}
      - run_background: all
      - complete: {{step: legal, as: lena, fields: {{risk: low}}, outcome: approve}}
      - complete: {{step: security, as: sam, fields: {{risk: low}}, outcome: approve}}
      - complete: {{step: finance, as: frank, fields: {{risk: low}}, outcome: approve}}
      - run_background: all
      - expect: {{status: Completed}}
  - name: small contract wrongly expected canceled
    start: {{inputs: {{customer_name: Globex, amount: 40000}}, as: alice}}
    steps:
      - complete: {{step: intake_check, as: alice, fields: {{contract_signed: true, billing_email: ap@globex.example}}}}
      - run_background: all
      - complete: {{step: legal, as: lena, fields: {{risk: low}}, outcome: approve}}
      - complete: {{step: security, as: sam, fields: {{risk: low}}, outcome: approve}}
      - complete: {{step: finance, as: frank, fields: {{risk: low}}, outcome: approve}}
      - run_background: all
      - expect: {{status: Canceled}}
"""


def test_the_tests_tab_runs_the_demo_scenarios_against_the_draft(
    qtbot: Any, designer: DesignerPanel
) -> None:
    tests = open_tests(qtbot, designer)
    qtbot.waitUntil(lambda: finished(tests, "7 scenarios: 7 passed"), timeout=WAIT)
    assert "coverage 100 % (15 of 15)" in tests.summary.text()
    assert not multiprocessing.active_children(), "the draft's scenarios run in this process"
    assert tests.results.count() == 7
    assert all(tests.results.item(r).text().startswith("✓") for r in range(7))
    assert not tests.problems.isVisibleTo(tests)
    scene = designer.scene
    assert not [k for k, i in scene.items_by_key.items() if i.status == DIMMED]
    assert "reached by 7 scenarios" in (scene.items_by_key[("intake", None)].detail or "")

    # The rework scenario's path is green on the canvas, and its run's way is spelled out.
    row = next(r for r in range(7) if "reworks" in tests.results.item(r).text())
    click_row(qtbot, tests.results, row)
    assert scene.items_by_key[("rework", "address_findings")].status == "Completed"
    assert scene.items_by_key[("activation", None)].status == "Completed"
    assert "intake → review → all_approved → rework → review" in tests.failure.toPlainText()
    assert "customer_onboarding.yaml:48" in tests.failure.toPlainText()

    click(qtbot, tests.findChild(type(tests.run_button), "testsStop"))
    assert designer.side.currentWidget() is designer.properties
    assert scene.items_by_key[("intake", None)].status is None
    assert designer.tests_action.isEnabled()


def test_a_failing_scenario_is_red_with_its_line_and_coverage_dims_what_none_reached(
    qtbot: Any, designer: DesignerPanel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "onboarding_copy.yaml"
    copy.write_text(COPY.format(definitions=RESOURCES / "definitions", demo=RESOURCES / "demo"))
    tests = open_tests(qtbot, designer)
    qtbot.waitUntil(lambda: finished(tests, "7 scenarios"), timeout=WAIT)

    # Only the copy: the demo's folder is removed from the list, the copy opened.
    click_row(qtbot, tests.where, 0)
    click(qtbot, tests.remove_button)
    qtbot.waitUntil(lambda: finished(tests, "No scenario tests customer_onboarding"), timeout=WAIT)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(copy), ""))
    click(qtbot, tests.open_button)
    qtbot.waitUntil(lambda: finished(tests, "2 scenarios: 1 passed, 1 failed"), timeout=WAIT)
    assert tests.where.item(0).text() == str(copy)

    # The failing one is chosen, red, with where it failed and what was found instead.
    assert tests.results.currentRow() == 1
    assert tests.results.item(1).text().startswith("✗  small contract wrongly expected canceled")
    assert tests.results.item(1).foreground().color().name() == "#c0392b"
    failure = tests.failure.toPlainText()
    assert failure.startswith("onboarding_copy.yaml:28: expect:"), failure
    assert "expected the run Canceled; it is Completed" in failure
    scene = designer.scene
    stopped = scene.items_by_key[("activation", None)]
    assert stopped.status == "Error"
    assert stopped.detail.startswith(
        "line 28: expected the run Canceled; it is Completed\nreached by 2"
    )
    assert scene.items_by_key[("intake", "intake_check")].status == "Error"

    # Coverage: rework, senior approval, the default way and the loop back were not reached.
    assert "coverage 67 % (10 of 15)" in tests.summary.text()
    for key in (("rework", None), ("rework", "address_findings"), ("review", "senior_approval")):
        assert scene.items_by_key[key].status == DIMMED, key
        assert scene.items_by_key[key].opacity() == pytest.approx(DIMMED_OPACITY)
    assert scene.items_by_key[("review", "legal")].opacity() == 1.0
    dimmed = {(e.edge.source, e.edge.port) for e in scene.edges if e.edge and e.opacity() < 1}
    assert dimmed == {("all_approved", "default"), ("rework", "next")}
    assert "stage rework" in tests.missed.text()
    assert "never taken: default" in (scene.items_by_key[("all_approved", None)].detail or "")

    # The passing one's path is green; without coverage nothing is dimmed.
    click_row(qtbot, tests.results, 0)
    assert scene.items_by_key[("activation", None)].status == "Completed"
    assert scene.items_by_key[("rework", None)].status == DIMMED
    tests.show_coverage.click()
    assert scene.items_by_key[("rework", None)].status is None
    assert scene.items_by_key[("rework", None)].opacity() == 1.0
    assert all(e.opacity() == 1.0 for e in scene.edges)


def test_opening_a_file_that_is_no_scenario_of_this_orchestration_says_why(
    qtbot: Any, designer: DesignerPanel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tests = open_tests(qtbot, designer)
    qtbot.waitUntil(lambda: finished(tests, "7 scenarios"), timeout=WAIT)
    chosen: list[str] = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (chosen[-1], ""))
    chosen.append(str(RESOURCES / "scenarios" / "refund_request.yaml"))
    click(qtbot, tests.open_button)
    qtbot.waitUntil(tests.problems.isVisible, timeout=WAIT)
    assert tests.problems.text() == (
        "refund_request.yaml tests ../definitions/refund_request.yaml, "
        "not customer_onboarding: not added"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("format: 1\norchestration: customer_onboarding\nscenarios:\n  - nme: x\n")
    chosen.append(str(broken))
    click(qtbot, tests.open_button)
    qtbot.waitUntil(lambda: "broken.yaml" in tests.problems.text(), timeout=WAIT)
    assert "line 4" in tests.problems.text()
    chosen.append(str(RESOURCES / "definitions" / "customer_onboarding.yaml"))
    click(qtbot, tests.open_button)
    qtbot.waitUntil(lambda: "is not a scenario file" in tests.problems.text(), timeout=WAIT)
    assert tests.problems.text().startswith("customer_onboarding.yaml is not a scenario file")
    assert tests.places == [str(RESOURCES / "scenarios")], "none was added"


def test_opening_another_orchestration_shows_its_own_scenarios(
    qtbot: Any, designer: DesignerPanel
) -> None:
    tests = open_tests(qtbot, designer)
    qtbot.waitUntil(lambda: finished(tests, "7 scenarios"), timeout=WAIT)
    choice = designer.versions.orchestrations
    index = choice.findText("refund_request")
    choice.setCurrentIndex(index)
    choice.activated.emit(index)  # what a click in the popup sends
    qtbot.waitUntil(lambda: designer.document.name == "refund_request", timeout=WAIT)
    assert tests.results.count() == 0, "the other orchestration's results are gone"
    qtbot.waitUntil(lambda: designer.inspection_current, timeout=WAIT)
    click(qtbot, tests.run_button)
    qtbot.waitUntil(lambda: finished(tests, "4 scenarios: 4 passed"), timeout=WAIT)
    assert "coverage 100 %" in tests.summary.text()


def start_a_trial(qtbot: Any, designer: DesignerPanel, amount: str) -> Any:
    """Try it: start a run of the onboarding demo and do the intake check as alice."""
    click_action(qtbot, designer, designer.try_action)
    panel = designer.try_it
    assert not designer.tests_action.isEnabled(), "one side panel at a time"
    qtbot.waitUntil(
        lambda: panel.form_area.widget() is not None and panel.trial is not None, timeout=WAIT
    )
    assert not panel.advance_button.isEnabled(), "no run to travel with yet"
    inputs = panel.form_area.widget()
    inputs.editors["customer_name"].widget.setText("Umbrella")
    inputs.editors["amount"].widget.setText(amount)
    click(qtbot, inputs.buttons["start"])
    qtbot.waitUntil(
        lambda: "billing_email" in getattr(panel.form_area.widget(), "editors", {}), timeout=WAIT
    )
    form = panel.form_area.widget()
    form.editors["contract_signed"].widget.setChecked(True)
    form.editors["billing_email"].widget.setText("ap@umbrella.example")
    click(qtbot, next(iter(form.buttons.values())))
    qtbot.waitUntil(lambda: panel.items.count() == 3, timeout=WAIT)
    return panel


def history(panel: Any) -> list[str]:
    return [panel.history.item(r).text() for r in range(panel.history.count())]


def test_advance_time_in_try_it_fires_the_escalation_at_its_moment(
    qtbot: Any, designer: DesignerPanel
) -> None:
    panel = start_a_trial(qtbot, designer, "20000")
    items = [panel.items.item(r).text() for r in range(3)]
    assert any(t.endswith("queue legal") for t in items), items
    before = panel.clock.text()
    assert before.startswith("Trial time: ")

    panel.amount.setValue(2)
    assert panel.unit.currentText() == "business days"
    click(qtbot, panel.advance_button)
    qtbot.waitUntil(
        lambda: any("work_item_escalated review.legal" in t for t in history(panel)), timeout=WAIT
    )
    assert panel.clock.text() != before
    assert not any("work_item_reassigned" in t for t in history(panel)), "rung 2 is not due yet"

    panel.amount.setValue(1)
    click(qtbot, panel.advance_button)
    qtbot.waitUntil(
        lambda: any(panel.items.item(r).text().endswith("user carol") for r in range(3)),
        timeout=WAIT,
    )
    assert any("work_item_reassigned review.legal" in t for t in history(panel))

    # To the next due moment; with nothing left waiting on time, the trial says so.
    for _ in range(5):
        click(qtbot, panel.next_due)
        qtbot.waitUntil(lambda: panel.next_due.isEnabled(), timeout=WAIT)
        if panel.error.isVisible():
            break
    assert panel.error.text() == "nothing in this trial is waiting on time"
    click(qtbot, panel.findChild(type(panel.again), "tryStop"))
    assert designer.tests_action.isEnabled()


def test_a_recorded_try_it_session_is_saved_as_a_scenario_and_runs_green(
    qtbot: Any, designer: DesignerPanel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = start_a_trial(qtbot, designer, "20000")
    panel.amount.setValue(3)
    click(qtbot, panel.advance_button)
    qtbot.waitUntil(
        lambda: any(panel.items.item(r).text().endswith("user carol") for r in range(3)),
        timeout=WAIT,
    )
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("legal review escalates", True))
    click(qtbot, panel.record)

    # The trial ends; the Tests tab runs the recording with the demo's scenarios.
    tests = designer.tests
    qtbot.waitUntil(lambda: designer.side.currentWidget() is tests, timeout=WAIT)
    qtbot.waitUntil(lambda: finished(tests, "8 scenarios: 8 passed"), timeout=WAIT)
    assert panel.trial is None
    recorded = tests.results.item(7).text()
    assert recorded.startswith("✓  legal review escalates") and recorded.endswith("not saved")
    assert tests.where.item(1).text() == "the recording 'legal review escalates' (not saved)"

    target = tmp_path / "legal_escalates.yaml"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert tests.save_button.isEnabled()
    click(qtbot, tests.save_button)
    qtbot.waitUntil(lambda: target.exists() and finished(tests, "8 scenarios"), timeout=WAIT)
    qtbot.waitUntil(lambda: not tests.results.item(7).text().endswith("not saved"), timeout=WAIT)
    assert tests.summary.text().startswith("8 scenarios: 8 passed")
    assert tests.places[-1] == str(target.resolve())
    assert not tests.save_button.isEnabled()
    saved = yaml.safe_load(target.read_text())
    assert saved["orchestration"] == "customer_onboarding"
    (scenario,) = saved["scenarios"]
    assert scenario["name"] == "legal review escalates"
    assert [next(iter(s)) for s in scenario["steps"]] == [
        "complete",
        "advance",
        "run_background",
        "expect",
    ]
    assert {"step": "legal", "assigned_to": "user:carol"} in scenario["steps"][-1]["expect"]["work"]
