"""Needs attention shows a stalled stage (issue 14) in a group of its own, saying what is wrong."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desktop_app.console.attention import AttentionView
from desktop_app.session import AppSession
from engine.services.baton import Baton
from tests.conftest import define
from tests.engine.test_stage_race import FLOW, leave_in_a_finished_stage

WAIT = 15000


@pytest.fixture
def carol(demo: Baton) -> Iterator[AppSession]:
    session = AppSession.open(demo, "carol")
    yield session
    session.close()


def test_a_stalled_stage_is_listed_under_its_own_reason(
    qtbot, carol: AppSession, demo: Baton
) -> None:  # type: ignore[no-untyped-def]
    admin = demo.as_user("admin")
    define(admin, FLOW)
    run_id = admin.runs.start("race").id
    admin.worker.run_once()
    [item] = [w.id for w in admin.work.list(user="alice") if w.run_id == run_id]
    leave_in_a_finished_stage(admin, run_id, item)

    view = AttentionView(carol, open_run=lambda _: None)
    qtbot.addWidget(view)
    view.refresh()
    qtbot.waitUntil(lambda: view.report is not None, timeout=WAIT)
    tree = view.tree
    groups = {
        tree.topLevelItem(i).text(0): tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
    }
    group = groups["Stalled stage — 1"]
    assert group.isExpanded() and group.childCount() == 1
    row = group.child(0)
    assert [row.text(c) for c in range(3)] == [str(run_id), "race", "work"]
    assert row.text(3) and "the stage has not exited" in row.text(4)
    assert "1 stalled stage" in view.summary.text()
