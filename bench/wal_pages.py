"""What one completion writes to a SQLite file: its WAL frames, by table and index.

    .venv/bin/python bench/wal_pages.py                # 300 completions of the onboarding workload
    .venv/bin/python bench/wal_pages.py --runs 100

Sets up the onboarding workload (bench/onboarding.py) up to its reviews, empties the WAL
(a TRUNCATE checkpoint) and turns automatic checkpoints off, so every frame written stays
in the file; then the reviewers complete their work items through the service API, each in
its own transaction. Each frame holds one page; the pages are named by SQLite's ``dbstat``
table. Every page a transaction changes is written whole (4 KB) at its commit, so this is
what the commit costs, B-tree by B-tree. A benchmark prints figures; it never fails.
"""

from __future__ import annotations

import argparse
import sqlite3
import struct
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from onboarding import USERS, setup  # noqa: E402

WAL_HEADER, FRAME_HEADER = 32, 24


def frames(wal: Path) -> Counter[int]:
    """How many frames of the WAL hold each page number."""
    data = wal.read_bytes()
    page_size = struct.unpack(">I", data[8:12])[0]
    pages: Counter[int] = Counter()
    at = WAL_HEADER
    while at + FRAME_HEADER + page_size <= len(data):
        pages[struct.unpack(">I", data[at : at + 4])[0]] += 1
        at += FRAME_HEADER + page_size
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=100, help="runs; 3 completions each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        baton = setup(path)
        for _ in range(args.runs):
            baton.runs.start("onboarding")
        baton.worker.run_once()
        people = {u: baton.as_user(u) for u in USERS}
        items = {u: people[u].work.list(user=u, limit=args.runs) for u in USERS}
        baton.db.engine.dispose()  # every connection from here on is made with the pragma below
        watch = sqlite3.connect(path)
        watch.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        from sqlalchemy import event

        event.listen(
            baton.db.engine,
            "connect",
            lambda connection, _record: connection.execute("PRAGMA wal_autocheckpoint=0"),
        )
        done = 0
        for user in USERS:
            for item in items[user]:
                people[user].work.complete(item.id, {"approved": True}, user=user)
                done += 1
        pages = frames(path.with_name(path.name + "-wal"))
        names = dict(watch.execute("SELECT pageno, name FROM dbstat").fetchall())
        by_tree: Counter[str] = Counter()
        for page, count in pages.items():
            by_tree[names.get(page, "(other)")] += count
        baton.close()
        watch.close()
    total = sum(pages.values())
    print(f"{done} completions wrote {total} WAL frames: {total / done:.2f} pages each")
    for name, count in by_tree.most_common():
        print(f"  {count / done:6.2f}  {name}")


if __name__ == "__main__":
    main()
