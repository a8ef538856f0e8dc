"""File → Import from Salesforce…: the dialog imports in the background, shows the report,
and opens the imported orchestration in the Designer as a draft with its review findings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from desktop_app import tasks
from desktop_app.designer.panel import DesignerPanel
from desktop_app.salesforce_import import SalesforceImportDialog
from desktop_app.session import AppSession
from engine.services.baton import Baton

DATA = Path(__file__).parents[1] / "engine" / "data" / "salesforce"
WAIT = 10000


@pytest.fixture
def session(db_path: Path) -> Iterator[AppSession]:
    baton = Baton(str(db_path), upgrade=True)
    baton.directory.create_user("admin", email="admin@example.com", role="admin")
    session = AppSession.open(baton, "admin")
    yield session
    tasks.wait_for_all()
    QApplication.processEvents()
    session.close()
    baton.close()


def rows(dialog: SalesforceImportDialog, title: str) -> list[list[str]]:
    for index in range(dialog.tree.topLevelItemCount()):
        top = dialog.tree.topLevelItem(index)
        assert top is not None
        if top.text(0) == title:
            return [
                [top.child(i).text(c) for c in range(5)]  # type: ignore[union-attr]
                for i in range(top.childCount())
            ]
    raise AssertionError(f"no {title} in the report")


def test_import_shows_the_report_and_opens_the_draft_in_the_designer(
    qtbot: Any, session: AppSession, tmp_path: Path
) -> None:
    designer = DesignerPanel(session)
    qtbot.addWidget(designer)
    designer.resize(1200, 800)
    designer.show()
    dialog = SalesforceImportDialog(session, lambda name: designer.versions.open(name, None))
    qtbot.addWidget(dialog)
    dialog.folder.setText(str(DATA / "loan_mdapi"))
    with qtbot.waitSignal(dialog.finished_import, timeout=WAIT):
        dialog.import_button.click()
    assert dialog.summary.text() == "1 orchestration imported as drafts."
    entries = rows(dialog, "orchestration Loan_Approval_Orchestration")
    assert [
        "filter 1: Status__c EqualTo Submitted",
        "✓ carried over",
        "record.Status__c == 'Submitted'",
        "equal to: ==",
        "flows/Loan_Approval_Orchestration.flow:19",
    ] in entries
    assert any(r[0] == "design review" and r[1] == "critical" for r in entries)
    assert dialog.imported.item(0).text() == "Loan_Approval_Orchestration — version 1 (draft)"
    # The first imported orchestration opened in the Designer, editable, with its review.
    qtbot.waitUntil(lambda: designer.document.name == "Loan_Approval_Orchestration", timeout=WAIT)
    assert not designer.document.read_only
    qtbot.waitUntil(lambda: designer.review.tree.topLevelItemCount() > 0, timeout=WAIT)

    report = tmp_path / "report.md"
    dialog.save_report(str(report))
    qtbot.waitUntil(lambda: dialog.summary.text().startswith("Report saved"), timeout=WAIT)
    assert "## orchestration: Loan_Approval_Orchestration" in report.read_text()
    tasks.wait_for_all()


def test_bad_files_are_reported_and_nothing_is_stored(qtbot: Any, session: AppSession) -> None:
    opened: list[str] = []
    dialog = SalesforceImportDialog(session, opened.append)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.finished_import, timeout=WAIT):
        dialog.start(str(DATA / "bad_inputs"))
    assert dialog.imported.count() == 0 and not opened
    assert "problems (marked ⚠) kept the rest out" in dialog.summary.text()
    bomb = rows(dialog, "unreadable")
    assert bomb[0][1] == "⚠ problem"
    # With drafts, the ones that have a shape are kept for the Designer to fix.
    dialog.drafts.setChecked(True)
    with qtbot.waitSignal(dialog.finished_import, timeout=WAIT):
        dialog.start(str(DATA / "bad_inputs"))
    assert dialog.imported.count() == 4
    assert opened == ["Dangling_References"]
