"""Memory of one process working the onboarding workload for 10,000 step completions.

    .venv/bin/python bench/worker_memory.py             # 10,000 steps, resident memory each 1,000
    .venv/bin/python bench/worker_memory.py --steps 30000

The process does what a worker and its users do in bench/onboarding.py, in rounds of 100
runs (600 step completions): start the runs, ``worker.run_once`` for the intake steps, the
three users' completions through the service API, ``worker.run_once`` for the activation.
It prints its resident memory (not the peak) after each 1,000 steps and the growth from the
first thousand to the last, and beside it the Python objects alive (``sys.getallocatedblocks``
after a collection): resident memory also holds SQLite's page cache (up to 64 MB) and the
memory-mapped database file (up to 256 MB), which grow with the file, not with leaks.
Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from onboarding import USERS, setup

PAGE = os.sysconf("SC_PAGE_SIZE")


def resident_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * PAGE / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=10_000)
    args = parser.parse_args()
    batch = 100
    with tempfile.TemporaryDirectory() as tmp:
        baton = setup(Path(tmp) / "memory.sqlite3")
        people = {u: baton.as_user(u) for u in USERS}
        done, marks, next_mark = 0, [], 1000
        while done < args.steps:
            for _ in range(batch):
                baton.runs.start("onboarding")
            baton.worker.run_once()
            for user in USERS:
                for item in people[user].work.list(user=user, limit=batch):
                    people[user].work.complete(item.id, {"approved": True}, user=user)
            baton.worker.run_once()
            done += 6 * batch
            while done >= next_mark:
                gc.collect()
                marks.append((next_mark, resident_mb(), sys.getallocatedblocks()))
                next_mark += 1000
        file_mb = (Path(tmp) / "memory.sqlite3").stat().st_size / 2**20
        baton.close()
    print(f"resident memory of one process, onboarding workload, {args.steps:,} step completions:")
    print("  " + ", ".join(f"{steps // 1000}k {mb:.0f} MB" for steps, mb, _ in marks))
    (_, first, blocks_first), (_, last, blocks_last) = marks[0], marks[-1]
    print(
        f"  resident after 1,000: {first:.1f} MB; at the end: {last:.1f} MB ({last - first:+.1f} MB)"
    )
    print(f"  the database file at the end: {file_mb:.1f} MB (mapped, and cached up to 64 MB)")
    print(
        f"  Python blocks after 1,000: {blocks_first:,}; at the end: {blocks_last:,} "
        f"({(blocks_last / blocks_first - 1) * 100:+.1f} %)"
    )


if __name__ == "__main__":
    main()
