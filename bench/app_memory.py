"""The desktop app's memory on a big history: resident memory after visiting every panel.

    .venv/bin/python bench/app_memory.py --db /tmp/console.sqlite3 --runs 1000000

Makes the history on first use, as ``bench/console.py`` does (``baton demo --scale N``: a
million runs take about ten minutes and 5.6 GB). Then, in a fresh process each time, the app
as it starts for its owner (Qt offscreen, the embedded engine running, as in the app): it shows
every panel in turn, and each tab of Runs and Admin, and waits until what the panel asked of
the database has answered. It prints, for each, the resident memory then and the seconds the
panel took to settle, and at the end the peak resident memory of the process (``VmHWM``).
Medians of ``--repeat`` processes. A benchmark prints figures; it never fails.

Resident memory counts the pages of the database file SQLite has read through its memory map
(``mmap_size``, up to 256 MB) and its page cache (up to 64 MB): both are the operating system's
to take back, and both fill on any history bigger than they are.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETTLE = 0.5  # seconds with no background call in flight: the panel has what it asked for
LIMIT = 300.0  # seconds a panel may take to settle before it is reported as not settled
# Resident memory, and its two parts: the process's own (Python's objects, Qt's, SQLite's
# page cache) and pages of files (the database read through its memory map, the libraries).
MEMORY = {"rss": "VmRSS", "own": "RssAnon", "files": "RssFile"}


def _status(field: str) -> float:
    """A line of /proc/self/status, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(url: str, home: Path) -> dict[str, Any]:
    os.environ.update(
        {
            "QT_QPA_PLATFORM": "offscreen",
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"),
        }
    )
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QTabWidget

    from desktop_app import tasks
    from desktop_app.app import app_settings, open_database
    from desktop_app.engine_runner import EmbeddedEngine
    from desktop_app.session import AppSession
    from desktop_app.shell import PANELS, MainWindow

    _app = QApplication([])  # alive while the panels are shown
    began = time.perf_counter()
    baton, owner, _ = open_database(url)
    engine = EmbeddedEngine(baton)
    window = MainWindow(AppSession(baton, owner), app_settings(), engine)
    window.resize(1366, 768)
    window.show()
    engine.start()

    def settle(start: float | None = None) -> float:
        """Seconds from ``start`` (now) until no background call has been in flight for
        SETTLE seconds."""
        start = time.perf_counter() if start is None else start
        quiet_since: float | None = None
        while time.perf_counter() - start < LIMIT:
            loop = QEventLoop()
            QTimer.singleShot(20, loop.quit)
            loop.exec()
            now = time.perf_counter()
            if tasks._alive:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= SETTLE:
                return quiet_since - start
        return float("inf")

    def memory() -> dict[str, float]:
        return {name: _status(field) for name, field in MEMORY.items()}

    steps: list[dict[str, Any]] = [
        {"view": "Inbox, from the start", "s": settle(began), **memory()}
    ]
    for row, title in enumerate(PANELS):
        if not window.may_see(row):
            continue
        window.navigation.setCurrentRow(row)
        views: list[tuple[str, int | None]] = [(title, None)]
        panel = window.stack.widget(row)
        tabs = getattr(panel, "tabs", None)
        if isinstance(tabs, QTabWidget):
            views = [(f"{title}: {tabs.tabText(i)}", i) for i in range(tabs.count())]
        for name, tab in views:
            if tab is not None and tabs is not None:
                tabs.setCurrentIndex(tab)
            steps.append({"view": name, "s": settle(), **memory()})
    peak = _status("VmHWM")
    engine.stop()
    window.close()
    tasks.wait_for_all()
    baton.close()
    return {"steps": steps, "peak_mb": peak}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="/tmp/baton-console-bench.sqlite3")
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = args.db if "://" in args.db else f"sqlite:///{args.db}"
    if args.child:
        print(json.dumps(child(url, Path(args.home))))
        return

    from engine.clients.history import generate_history
    from engine.services.baton import Baton

    baton = Baton(url, actor="admin", upgrade=True)
    if baton.console.count_runs() < args.runs:
        generate_history(baton, args.runs - baton.console.count_runs())
    runs = baton.console.count_runs()
    baton.close()
    import tempfile

    results = []
    with tempfile.TemporaryDirectory() as home:
        for _ in range(args.repeat):
            out = subprocess.run(
                [sys.executable, __file__, "--child", "--db", args.db, "--home", home],
                check=True,
                capture_output=True,
                text=True,
            )
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"the desktop app on {runs:,} runs, median of {args.repeat} processes:")
    print(f"  {'view':<28} {'settled after':>14} {'resident':>9} {'own':>7} {'files':>7}")
    for i, step in enumerate(results[0]["steps"]):
        seconds = statistics.median(r["steps"][i]["s"] for r in results)
        mb = {k: statistics.median(r["steps"][i][k] for r in results) for k in MEMORY}
        print(
            f"  {step['view']:<28} {seconds:>12.2f} s {mb['rss']:>6.0f} MB"
            f" {mb['own']:>4.0f} MB {mb['files']:>4.0f} MB"
        )
    peaks = [r["peak_mb"] for r in results]
    print(
        f"  peak resident memory {statistics.median(peaks):.0f} MB ("
        + ", ".join(f"{p:.0f}" for p in peaks)
        + ")"
    )


if __name__ == "__main__":
    main()
