"""Start-up times: the desktop app to its first painted main window, and the command line.

    .venv/bin/python bench/startup.py              # 10 launches of each, medians
    .venv/bin/python bench/startup.py --times 5

Each launch is a fresh process, timed from just before it is spawned to the moment it
says so on its output (``baton --smoke`` prints the first paint of the main window as it
happens). "warm": the same data directory each time (its database made by a first launch
that is not counted); "first launch": a new, empty data directory each time, so the
database is created and the demo loaded. The command line: ``baton --help``, a mistyped
command, and ``baton work list --user alice`` on the demo database. Qt runs offscreen.
A benchmark prints figures; it never fails.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BATON = [sys.executable, "-m", "desktop_app.launcher"]
ROOT = Path(__file__).resolve().parents[1]  # --root: another checkout, to compare with


def _env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "BATON_DATABASE_URL": "",
    }


def painted(home: Path) -> tuple[float, float]:
    """Seconds from spawning ``baton --smoke`` to its first paint: (outside, its own)."""
    began = time.perf_counter()
    process = subprocess.Popen(
        [*BATON, "--smoke"],
        cwd=ROOT,
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    outside = own = float("nan")
    for line in process.stdout:
        if "painted" in line:
            outside = time.perf_counter() - began
            own = float(line.split("painted ")[1].split(" s")[0])
    process.wait()
    return outside, own


def command(home: Path, *args: str) -> float:
    began = time.perf_counter()
    subprocess.run(
        [*BATON, *args],
        cwd=ROOT,
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - began


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s (" + ", ".join(f"{v:.2f}" for v in values) + ")"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--times", type=int, default=10)
    parser.add_argument("--root", type=Path, help="time another checkout of Baton")
    args = parser.parse_args()
    global ROOT
    ROOT = args.root or ROOT
    with tempfile.TemporaryDirectory() as tmp:
        warm_home = Path(tmp) / "warm"
        painted(warm_home)  # makes the database and loads the demo: not counted
        warm = [painted(warm_home) for _ in range(args.times)]
        first = [painted(Path(tmp) / f"first{n}") for n in range(args.times)]
        help_times = [command(warm_home, "--help") for _ in range(args.times)]
        errors = [command(warm_home, "work", "lst") for _ in range(args.times)]
        lists = [command(warm_home, "work", "list", "--user", "alice") for _ in range(args.times)]
    print(f"desktop, process start to first painted main window, median of {args.times}:")
    print(f"  warm          {_median([w[0] for w in warm])}  (goal 1.0 s)")
    print(f"  first launch  {_median([f[0] for f in first])}  (goal 1.5 s)")
    print(
        f"  (the app's own timer, from the launcher's first line: warm "
        f"{statistics.median(w[1] for w in warm):.3f} s, first "
        f"{statistics.median(f[1] for f in first):.3f} s)"
    )
    print(f"command line, median of {args.times}:")
    print(f"  baton --help                    {_median(help_times)}  (goal 0.15 s)")
    print(f"  baton work lst (usage error)    {_median(errors)}  (goal 0.15 s)")
    print(f"  baton work list --user alice    {_median(lists)}  (goal 0.5 s)")


if __name__ == "__main__":
    main()
