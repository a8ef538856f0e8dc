"""The supervisor console at scale: how long each view's queries take on a big history.

    .venv/bin/python bench/console.py --db /tmp/console.sqlite3 --runs 1000000

Generates the history on first use (``baton demo --scale N`` does the same; a million runs
take about 11 minutes on this machine and 5.5 GB of disk), then times each view of the console
as the desktop app calls it: the count and the first page, and pages deep in the list. Each
figure is the median of ``--repeat`` calls. A benchmark prints figures; it never fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.clients.history import generate_history  # noqa: E402
from engine.services.attention import forget_usual  # noqa: E402
from engine.services.baton import Baton  # noqa: E402
from engine.services.queries import RunFilter, WorkFilter  # noqa: E402


def timed(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm: the first call also reads the pages from disk
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="/tmp/baton-console-bench.sqlite3")
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url = args.db if "://" in args.db else f"sqlite:///{args.db}"
    baton = Baton(url, actor="admin", upgrade=True)
    if baton.console.count_runs() < args.runs:
        began = time.monotonic()
        generate_history(baton, args.runs - baton.console.count_runs())
        print(f"generated the history in {time.monotonic() - began:.0f} s")
    carol = baton.as_user("carol")
    console, boards = carol.console, carol.dashboards
    runs = console.count_runs()
    items = console.count_work_items(WorkFilter(statuses=()))
    print(f"{runs:,} runs, {items:,} work items, {console.count_work_items():,} open")
    middle = console.runs(offset=runs // 2, limit=1)[0]
    filtered = RunFilter(orchestration="customer_onboarding", statuses=("InProgress",))
    month_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    recent_failures = RunFilter(statuses=("Error",), started_from=month_ago)
    checks: list[tuple[str, Callable[[], Any]]] = [
        ("runs list: count + first page", lambda: (console.count_runs(), console.runs())),
        (
            "runs list: the page after one in the middle",
            lambda: console.runs(after=(middle.started_at, middle.id)),
        ),
        ("runs list: the last page", lambda: console.runs(from_end=True)),
        (
            "filtered: onboarding in progress, count + page",
            lambda: (console.count_runs(filtered), console.runs(filtered)),
        ),
        (
            "filtered: failed runs started in the last 30 days",
            lambda: (console.count_runs(recent_failures), console.runs(recent_failures)),
        ),
        (
            "filtered: runs with work waiting on queue legal",
            lambda: (
                console.count_runs(RunFilter(assignee="legal")),
                console.runs(RunFilter(assignee="legal")),
            ),
        ),
        (
            "work items: open, by due date, count + page",
            lambda: (console.count_work_items(), console.work_items()),
        ),
        ("work items: overdue", lambda: console.work_items(WorkFilter(sla="overdue"))),
        (
            "inbox: frank's open work (his queue included)",
            lambda: (baton.work.count(user="frank"), baton.work.list(user="frank")),
        ),
        ("needs attention (steps' p95 kept from the last call)", carol.attention.report),
        (
            "needs attention (steps' p95 read afresh)",
            lambda: (forget_usual(), carol.attention.report()),
        ),
        ("dashboard: runs per day (30 days)", lambda: boards.runs_per_day(30)),
        (
            "dashboard: step durations (onboarding, 30 days)",
            lambda: boards.durations("customer_onboarding", 30),
        ),
        ("dashboard: work-item aging", boards.work_aging),
        ("dashboard: backlog by assignee and queue", boards.backlog),
        ("dashboard: SLA breaches per day (30 days)", lambda: boards.sla_breaches(30)),
        (
            "designer overlay: step health (onboarding, 90 days)",
            lambda: boards.step_health("customer_onboarding"),
        ),
        ("run detail", lambda: carol.runs.show(middle.id)),
    ]
    print(f"median of {args.repeat} (after one warm-up call):")
    for label, fn in checks:
        print(f"  {timed(fn, args.repeat) * 1000:8.1f} ms  {label}")
    baton.close()


if __name__ == "__main__":
    main()
