"""The standard "onboarding" workload of BENCHMARK.md, on a SQLite file (WAL).

    .venv/bin/python bench/onboarding.py              # everything, 3 repetitions, medians
    .venv/bin/python bench/onboarding.py --runs 200   # a quicker look

Durable throughput: N runs end to end, every transition committed as it happens; each
user's completion goes through the same service API the desktop uses, in its own
transaction. History: one run looping Review → Decision → Review 1,000 times, comparing the
time per loop of the first and last 100 loops. A benchmark prints figures; it never fails.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.services.baton import Baton  # noqa: E402

WORKLOAD = """
format: 1
name: onboarding
variables:
  - {name: intake_a, type: number}
  - {name: intake_b, type: number}
  - {name: activated, type: boolean}
forms:
  approval:
    fields: [{name: approved, type: checkbox}]
elements:
  - kind: stage
    name: intake
    steps:
      - {kind: background, name: set_a, actions: [{type: set_variables, values: {intake_a: "1"}}]}
      - {kind: background, name: set_b, actions: [{type: set_variables, values: {intake_b: "2"}}]}
  - kind: stage
    name: review
    max_visits: MAX_VISITS
    steps:
      - {kind: interactive, name: legal, form: approval, assignee: {user: lee}}
      - {kind: interactive, name: security, form: approval, assignee: {user: sasha}}
      - {kind: interactive, name: finance, form: approval, assignee: {user: fran}}
  - kind: decision
    name: all_approved
    outcomes:
      - name: yes_all
        when: review.legal.outputs.approved and review.security.outputs.approved and review.finance.outputs.approved
        next: activation
    default: review
  - kind: stage
    name: activation
    steps:
      - {kind: background, name: activate, actions: [{type: set_variables, values: {activated: "True"}}]}
"""
USERS = ("lee", "sasha", "fran")


def setup(path: Path, max_visits: int = 10) -> Baton:
    baton = Baton(str(path))
    for user in USERS:
        baton.directory.create_user(user)
    baton.definitions.import_text(WORKLOAD.replace("MAX_VISITS", str(max_visits)), activate=True)
    return baton


def throughput(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        baton = setup(Path(tmp) / "bench.sqlite3")
        people = {u: baton.as_user(u) for u in USERS}
        began = time.perf_counter()
        run_ids = [baton.runs.start("onboarding").id for _ in range(n)]
        baton.worker.run_once()  # both intake steps of every run
        for user in USERS:
            for item in people[user].work.list(user=user, limit=n):
                people[user].work.complete(item.id, {"approved": True}, user=user)
        baton.worker.run_once()  # activation of every run
        elapsed = time.perf_counter() - began
        done = sum(1 for r in baton.runs.list(status="Completed", limit=n))
        assert done == n, f"only {done} of {n} runs completed"
        assert len(run_ids) == n
        baton.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": elapsed,
        "runs_per_s": n / elapsed,
        "steps_per_s": 6 * n / elapsed,
        "peak_mb": peak_mb,
    }


def history(loops: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        baton = setup(Path(tmp) / "bench.sqlite3", max_visits=loops + 10)
        run = baton.runs.start("onboarding")
        baton.worker.run_once()
        times = []
        for loop in range(loops + 1):
            began = time.perf_counter()
            last = loop == loops
            for user in USERS:
                item = baton.work.list(user=user, limit=1)[0]
                baton.as_user(user).work.complete(item.id, {"approved": last})
            times.append(time.perf_counter() - began)
        baton.worker.run_once()
        assert baton.runs.get(run.id).status == "Completed"
        baton.close()
    first = statistics.mean(times[:100])
    last = statistics.mean(times[loops - 100 : loops])
    return {
        "first_100_ms": first * 1000,
        "last_100_ms": last * 1000,
        "growth_pct": (last / first - 1) * 100,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--loops", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=["throughput", "history"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "throughput":
        print(json.dumps(throughput(args.runs)))
        return
    if args.child == "history":
        print(json.dumps(history(args.loops)))
        return

    def child(kind: str) -> dict[str, float]:
        # A fresh process each time, so peak memory is the workload's own.
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                kind,
                "--runs",
                str(args.runs),
                "--loops",
                str(args.loops),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))

    results = [child("throughput") for _ in range(args.repeat)]
    median = {k: statistics.median(r[k] for r in results) for k in results[0]}
    print(f"durable throughput, SQLite file (WAL), {args.runs} runs, median of {args.repeat}:")
    print(
        f"  {median['runs_per_s']:.0f} runs/s, {median['steps_per_s']:.0f} step completions/s, "
        f"{median['seconds']:.2f} s, peak memory {median['peak_mb']:.0f} MB"
    )
    print(
        "  each run: "
        + ", ".join(f"{r['steps_per_s']:.0f}" for r in results)
        + " step completions/s"
    )
    loops = [child("history") for _ in range(args.repeat)]
    hist = {k: statistics.median(r[k] for r in loops) for k in loops[0]}
    print(f"history: one run looping {args.loops} times, median of {args.repeat}:")
    print(
        f"  first 100 loops {hist['first_100_ms']:.2f} ms/loop, last 100 {hist['last_100_ms']:.2f} ms/loop "
        f"({hist['growth_pct']:+.1f} %)"
    )


if __name__ == "__main__":
    main()
