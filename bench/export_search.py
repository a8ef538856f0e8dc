"""CSV export of every run, and searching runs by what is in them, on a big history.

    .venv/bin/python bench/export_search.py --db /tmp/console.sqlite3
    .venv/bin/python bench/export_search.py --db postgresql+psycopg://…/baton

Uses a history made by ``bench/console.py`` or ``baton demo --scale N`` (it generates none).
The export writes every run to a CSV file exactly as the desktop's Export does (the engine's
keyset pages, the desktop's columns, the csv module) and reports rows/s and the process's
peak memory. Each search is timed as the Runs list asks it: the first page, then the count
(the list shows the page as soon as it comes; the count follows). Median of ``--repeat``
after one warm-up call. A benchmark prints figures; it never fails.
"""

from __future__ import annotations

import argparse
import csv
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_app.console.export import PAGE, RUN_COLUMNS  # noqa: E402
from engine.services.baton import Baton  # noqa: E402
from engine.services.queries import RunFilter  # noqa: E402


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    result = fn()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples), result


def export(baton: Baton, limit: int | None) -> None:
    console = baton.as_user("carol").console
    values = [value for _, value in RUN_COLUMNS]
    written = 0
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "runs.csv"
        began = time.perf_counter()
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow([title for title, _ in RUN_COLUMNS])
            for page in console.stream_runs(RunFilter(), page_size=PAGE):
                writer.writerows([[value(row) for value in values] for row in page])
                written += len(page)
                if limit and written >= limit:
                    break
        took = time.perf_counter() - began
        size = path.stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"export: {written:,} runs in {took:.1f} s = {written / took:,.0f} rows/s, "
        f"{size / 1e6:.0f} MB of CSV, peak memory {peak:.0f} MB ({before:.0f} MB before)"
    )


def searches(baton: Baton, repeat: int) -> None:
    console = baton.as_user("carol").console
    checks = [
        (
            "variable customer_name = Globex 100002 (one run)",
            RunFilter(variable="customer_name", variable_value="Globex 100002"),
        ),
        ("variable amount = 155000", RunFilter(variable="amount", variable_value="155000")),
        (
            "variable customer_name = nobody (no match)",
            RunFilter(variable="customer_name", variable_value="nobody"),
        ),
        ("any variable mentions 'Globex'", RunFilter(variable_value="Globex")),
        (
            "record field industry = Finance",
            RunFilter(record_field="industry", record_value="Finance"),
        ),
        (
            "record field status = Submitted",
            RunFilter(record_field="status", record_value="Submitted"),
        ),
        ("error mentions 'deactivated'", RunFilter(error_text="deactivated")),
        (
            "failed + error mentions 'deactivated'",
            RunFilter(statuses=("Error",), error_text="deactivated"),
        ),
    ]
    print(f"median of {repeat} (after one warm-up call):")
    for label, f in checks:
        page, rows = timed(lambda f=f: console.runs(f), repeat)
        count, total = timed(lambda f=f: console.count_runs(f), max(1, repeat // 2))
        print(
            f"  first page {page * 1000:7.0f} ms ({len(rows):3d} rows) · count "
            f"{count * 1000:7.0f} ms ({total:,})  {label}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="export at most this many runs")
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args()
    url = args.db if "://" in args.db else f"sqlite:///{args.db}"
    baton = Baton(url, actor="admin", upgrade=True)
    print(f"{baton.console.count_runs():,} runs")
    if not args.skip_export:
        export(baton, args.limit or None)
    searches(baton, args.repeat)
    baton.close()


if __name__ == "__main__":
    main()
