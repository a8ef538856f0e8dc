"""The console's queries: paged runs and work by filter, saved views, needs attention,
dashboards, and the generated history they are measured on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.clients.history import generate_history
from engine.errors import InvalidInput, NotFound, PermissionDenied
from engine.services import dashboards
from engine.services.baton import Baton
from engine.services.queries import RunFilter, WorkFilter
from engine.store.models import StepRunRow
from tests.conftest import define, people


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Baton:
    path = Path(tmp_path_factory.mktemp("history")) / "baton.sqlite3"
    baton = Baton(str(path), actor="admin", upgrade=True)
    generate_history(baton, 1500, days=60, seed=3)
    return baton


@pytest.fixture
def carol(history: Baton) -> Baton:
    return history.as_user("carol")


def test_the_generated_history_is_varied(carol: Baton) -> None:
    statuses = {
        s: carol.console.count_runs(RunFilter(statuses=(s,)))
        for s in ("Completed", "Error", "Canceled", "InProgress")
    }
    assert all(count > 0 for count in statuses.values()), statuses
    assert carol.console.count_runs() >= 1500
    assert carol.console.count_work_items(WorkFilter(statuses=())) > 1500
    assert carol.console.count_work_items(WorkFilter(sla="overdue")) > 0
    looped = carol.console.runs(
        RunFilter(orchestration="customer_onboarding", stage="rework"), limit=5
    )
    assert looped and all(r.current_element == "rework" for r in looped)


def test_the_generated_history_never_runs_backwards_or_ahead(history: Baton) -> None:
    now = dt.datetime.now(dt.UTC)
    with history.db.read() as session:
        steps = session.execute(
            select(StepRunRow.started_at, StepRunRow.ended_at, StepRunRow.status)
        ).all()
    assert steps and all(started <= now for started, _, _ in steps if started is not None)
    assert all(ended >= started for started, ended, _ in steps if started and ended)
    assert all(ended is None for _, ended, status in steps if status == "InProgress")


def test_keyset_pages_match_offset_pages_in_both_directions(carol: Baton) -> None:
    f = RunFilter(statuses=("Completed",))
    by_offset = [r.id for r in carol.console.runs(f, limit=120)]
    first = carol.console.runs(f, limit=40)
    after = carol.console.runs(f, limit=40, after=(first[-1].started_at, first[-1].id))
    before = carol.console.runs(f, limit=40, before=(after[0].started_at, after[0].id))
    assert [r.id for r in first + after] == by_offset[:80]
    assert [r.id for r in before] == by_offset[:40]
    total = carol.console.count_runs(f)
    tail = carol.console.runs(f, limit=10, from_end=True)
    assert [r.id for r in tail] == [
        r.id for r in carol.console.runs(f, limit=10, offset=total - 10)
    ]
    ascending = carol.console.runs(RunFilter(sort="id", descending=False), limit=5)
    assert [r.id for r in ascending] == sorted(r.id for r in ascending) and ascending[0].id == 1


def test_run_filters(carol: Baton) -> None:
    f = RunFilter(orchestration="refund_request", statuses=("InProgress",))
    rows = carol.console.runs(f, limit=50)
    assert rows and {(r.orchestration, r.status) for r in rows} == {
        ("refund_request", "InProgress")
    }
    assert carol.console.count_runs(f) < carol.console.count_runs(
        RunFilter(orchestration="refund_request")
    )
    assert carol.console.count_runs(RunFilter(orchestration="refund_request", version=9)) == 0
    week = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    recent = carol.console.runs(RunFilter(started_from=week), limit=1000)
    assert recent and all(r.started_at >= week for r in recent)
    legal = carol.console.runs(RunFilter(assignee="legal"), limit=1000)
    for run in legal[:5]:
        items = carol.runs.show(run.id).work_items
        assert any(w.assignee == "legal" and w.status in ("Assigned", "Claimed") for w in items)
    with pytest.raises(InvalidInput, match="not a run status"):
        carol.console.runs(RunFilter(statuses=("Bogus",)))
    with pytest.raises(NotFound, match="no orchestration"):
        carol.console.count_runs(RunFilter(orchestration="nope"))


def test_work_item_filters_and_sla(carol: Baton) -> None:
    overdue = carol.console.work_items(WorkFilter(sla="overdue"), limit=100)
    now = dt.datetime.now(dt.UTC)
    assert overdue and all(w.due_at is not None and w.due_at < now for w in overdue)
    assert [w.due_at for w in overdue] == sorted(w.due_at for w in overdue if w.due_at)
    frank = carol.console.work_items(WorkFilter(assignee="frank"), limit=100)
    assert frank and all("frank" in (w.assignee, w.claimed_by) for w in frank)
    done = carol.console.work_items(
        WorkFilter(statuses=("Completed",), sort="created", descending=True), limit=20
    )
    more = carol.console.work_items(
        WorkFilter(statuses=("Completed",), sort="created", descending=True),
        limit=20,
        after=(done[-1].created_at, done[-1].id),
    )
    assert done[-1].created_at >= more[0].created_at and not {w.id for w in done} & {
        w.id for w in more
    }
    with pytest.raises(InvalidInput, match="SLA"):
        carol.console.work_items(WorkFilter(sla="late-ish"))


def test_saved_views_belong_to_their_owner(history: Baton) -> None:
    carol, admin = history.as_user("carol"), history.as_user("admin")
    f = RunFilter(orchestration="customer_onboarding", statuses=("Error",))
    carol.console.save_view("runs", "Failed onboarding", f)
    carol.console.save_view("runs", "Failed onboarding", f)  # overwritten, not doubled
    [view] = carol.console.views("runs")
    assert RunFilter.from_json(view.query) == f
    assert admin.console.views("runs") == []
    with pytest.raises(PermissionDenied):
        history.as_user("alice").console.views("runs")
    carol.console.delete_view("runs", "Failed onboarding")
    with pytest.raises(NotFound):
        carol.console.delete_view("runs", "Failed onboarding")


def test_needs_attention_names_each_reason(carol: Baton) -> None:
    report = carol.attention.report(limit=20)
    assert report.counts["failed"] > 0 and report.counts["overdue"] > 0
    assert report.counts["slow"] > 0
    failed = next(a for a in report.items if a.kind == "failed")
    assert failed.detail == carol.runs.get(failed.run_id).error
    overdue = next(a for a in report.items if a.kind == "overdue")
    assert "overdue with" in overdue.detail and overdue.work_item_id
    slow = [a for a in report.items if a.kind == "slow"]
    assert slow == sorted(slow, key=lambda a: a.since)  # the longest waiting first
    assert all(carol.runs.get(a.run_id).status == "InProgress" for a in slow)
    assert "95 % of its runs took under" in slow[0].detail
    # A suspended run is not stuck: somebody stopped it on purpose.
    first = slow[0].run_id
    everything = carol.attention.report(limit=10_000).items
    late_steps = sum(a.kind == "slow" and a.run_id == first for a in everything)
    carol.runs.suspend(first, "Waiting for the customer")
    try:
        again = carol.attention.report(limit=20)
        assert first not in {a.run_id for a in again.items if a.kind == "slow"}
        assert again.counts["slow"] == report.counts["slow"] - late_steps
    finally:
        carol.runs.resume(first, "The customer is back")


def test_dashboards_add_up(carol: Baton) -> None:
    days = carol.dashboards.runs_per_day(30)
    assert len(days) == 30 and sum(d.started for d in days) > 0
    recent = dt.datetime.now(dt.UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    ) - dt.timedelta(days=29)
    assert sum(d.started for d in days) == carol.console.count_runs(RunFilter(started_from=recent))
    stats = carol.dashboards.durations("customer_onboarding", 60)
    legal = next(s for s in stats if s.step == "legal")
    assert legal.count > 0 and legal.median_seconds <= legal.p95_seconds  # type: ignore[operator]
    assert any(s.step is None and s.stage == "review" for s in stats)
    aging = carol.dashboards.work_aging()
    assert sum(count for _, count, _ in aging) == carol.console.count_work_items()
    backlog = carol.dashboards.backlog()
    assert backlog == sorted(backlog, key=lambda b: -b.open)
    health = carol.dashboards.step_health("customer_onboarding")
    assert any(h.failures for h in health) and all(0 <= h.failure_rate <= 1 for h in health)
    sla = carol.dashboards.sla_breaches(30)
    assert all(d.breached <= d.due for d in sla)
    with pytest.raises(PermissionDenied):
        carol.as_user("alice").dashboards.backlog()


def test_history_is_written_the_same_on_both_databases(any_url: str) -> None:
    """The generator writes through the driver: text for SQLite, native types and jsonb for
    PostgreSQL, then moves the id sequences past what it wrote."""
    baton = Baton(any_url, actor="admin", upgrade=True)
    try:
        generate_history(baton, 120, days=20, seed=11)
        generate_history(baton, 30, days=20, seed=12)  # appends after what is there
        console = baton.as_user("carol").console
        assert console.count_runs() >= 150
        refunds = console.runs(RunFilter(orchestration="refund_request"), limit=5)
        assert refunds and all(r.record_id for r in refunds)
        record = baton.records.get(refunds[0].record_id)  # type: ignore[arg-type]
        assert record.data["status"] == "Submitted"  # as the trigger's criteria wants
        detail = baton.runs.show(refunds[0].id)
        assert detail.stages and isinstance(detail.variables, dict)
        # The engine's own inserts never collide with the generated rows: on PostgreSQL they
        # use ids drawn before (a process keeps a block of them), then the moved sequence.
        before = console.count_runs()
        for n in range(40):
            baton.runs.start("customer_onboarding", {"customer_name": f"After {n}", "amount": 10})
        assert console.count_runs() == before + 40
    finally:
        baton.close()


QUICK_AND_SLOW = """
format: 1
name: check
forms: {ok: {fields: [{name: note, type: text}]}}
elements:
  - kind: stage
    name: main
    steps:
      - {kind: interactive, name: look, form: ok, assignee: {user: alice}}
"""


def test_step_times_are_sampled_over_the_whole_window(
    baton: Baton, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step that took ten days a month ago and minutes today: the latest runs alone would
    say it is quick, because the slow ones of today have not finished yet."""
    people(baton)
    define(baton, QUICK_AND_SLOW)
    monkeypatch.setattr(dashboards, "SAMPLE", 20)

    def run_for(days: float) -> None:
        run = baton.runs.start("check")
        clock.advance(dt.timedelta(days=days))
        (item,) = baton.runs.show(run.id).work_items
        baton.as_user("alice").work.complete(item.id, {"note": "done"})

    for _ in range(3):
        run_for(10)  # each takes ten days
    clock.advance(dt.timedelta(days=20))
    for _ in range(30):
        run_for(0.001)  # today's take a minute or two
    stats = baton.as_user("carol").dashboards.durations("check", 60)
    (look,) = [s for s in stats if s.step == "look"]
    assert look.p95_seconds is not None and look.p95_seconds > 9 * 86400
    health = baton.as_user("carol").dashboards.step_health("check", 60)
    assert health[0].average_seconds is not None and health[0].average_seconds > 86400
