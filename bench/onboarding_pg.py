"""The standard "onboarding" workload on PostgreSQL, with 1 and with 2 worker processes.

    .venv/bin/python bench/onboarding_pg.py            # 1,000 runs, 1 and 2 workers, ×3
    .venv/bin/python bench/onboarding_pg.py --runs 200 --repeat 1

A throwaway PostgreSQL server is started in a temporary directory (as the suite does). The
benchmark process starts the runs and does the users' completions through the service API,
each in its own transaction; `baton worker` processes do the background steps, woken by
LISTEN/NOTIFY. Timing covers everything from the first start to the last completed run.
"""

from __future__ import annotations

import argparse
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.onboarding import USERS, WORKLOAD  # noqa: E402
from engine.services.baton import Baton  # noqa: E402
from tests.pg import PostgresServer  # noqa: E402

BATON = str(Path(sys.executable).parent / "baton")


def one(server: PostgresServer, runs: int, workers: int) -> dict[str, float]:
    url = server.new_database()
    baton = Baton(url, upgrade=True)
    for user in USERS:
        baton.directory.create_user(user)
    baton.definitions.import_text(WORKLOAD.replace("MAX_VISITS", "10"), activate=True)
    people = {u: baton.as_user(u) for u in USERS}
    processes = [
        subprocess.Popen(
            [BATON, "--db", url, "worker", "--interval", "0.1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    pause = threading.Event()
    try:
        began = time.perf_counter()
        for _ in range(runs):
            baton.runs.start("onboarding")
        done = 0
        while done < 3 * runs:
            progressed = False
            for user in USERS:
                for item in people[user].work.list(user=user, limit=500):
                    people[user].work.complete(item.id, {"approved": True})
                    done += 1
                    progressed = True
            if not progressed:
                pause.wait(0.01)
        while len(baton.runs.list(status="Completed", limit=runs)) < runs:
            pause.wait(0.01)
        elapsed = time.perf_counter() - began
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        baton.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": elapsed,
        "runs_per_s": runs / elapsed,
        "steps_per_s": 6 * runs / elapsed,
        "peak_mb": peak_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    server = PostgresServer()
    server.start()
    try:
        for workers in (1, 2):
            results = [one(server, args.runs, workers) for _ in range(args.repeat)]
            median = {k: statistics.median(r[k] for r in results) for k in results[0]}
            print(
                f"PostgreSQL, {workers} worker process(es), {args.runs} runs, median of {args.repeat}:"
            )
            print(
                f"  {median['runs_per_s']:.0f} runs/s, {median['steps_per_s']:.0f} step completions/s, "
                f"{median['seconds']:.2f} s (runs: "
                + ", ".join(f"{r['steps_per_s']:.0f}" for r in results)
                + " completions/s)"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
