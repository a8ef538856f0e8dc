"""The IO-bound workload (issue 18): background steps that wait on another system.

    .venv/bin/python bench/io_bound.py                 # SQLite: concurrency 1, 4, 16, 64;
                                                       # PostgreSQL: 1, 2, 4 workers
    .venv/bin/python bench/io_bound.py --only sqlite --runs 200

Each of N runs has one background step making one HTTP GET to a local server (started here
on 127.0.0.1, keep-alive) that answers after 200 ms. ``baton worker`` processes do the steps.
The runs are started before any worker, so starting them is not timed. Two figures, from the
runs' own end times: steps per second from the workers' start to the last completed run, and
steady, over the middle 80 % of the runs (every worker is up by then: a worker's start, half a
second of imports, weighs more on a shorter run of more workers). Concurrency 1 makes its calls one
after another (5 a second at best), so it runs ``--sequential-runs`` runs (100) rather than N.
The server counts the requests for each run: each must equal that step's attempts (a call is
made once per attempt, never twice), which the script checks and prints.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from engine.services.baton import Baton  # noqa: E402
from engine.store.models import RunRow, StepRunRow  # noqa: E402

BATON = str(Path(sys.executable).parent / "baton")
DELAY = 0.2

FLOW = """
format: 1
name: io_bound
elements:
  - kind: stage
    name: call
    steps:
      - kind: background
        name: remote
        actions:
          - {type: http_request, url: "URL/run/{{run.id}}", timeout_seconds: 30, output: answer}
"""


class Service:
    """Answers every GET after DELAY seconds (HTTP/1.1 keep-alive), counting paths."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        pause = threading.Event()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # as real servers: no 40 ms delayed-ACK stall

            def do_GET(self) -> None:
                with service.lock:
                    service.hits[self.path] += 1
                pause.wait(DELAY)
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 256
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def one(url: str, service: Service, runs: int, workers: int, concurrency: int) -> dict[str, float]:
    baton = Baton(url, upgrade=True)
    try:
        baton.definitions.import_text(FLOW.replace("URL", service.url), activate=True)
        for _ in range(runs):
            baton.runs.start("io_bound")
        with service.lock:
            service.hits.clear()
        began = time.time()
        cpu_before, server_before = os.times(), _server_cpu()
        processes = [
            subprocess.Popen(
                [
                    BATON,
                    "--db",
                    url,
                    "worker",
                    "--interval",
                    "0.1",
                    "--concurrency",
                    f"{concurrency}",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        pause = threading.Event()
        try:
            while _count(baton, RunRow.status == "Completed") < runs:
                if any(p.poll() is not None for p in processes):
                    raise SystemExit("a worker process stopped before the runs were done")
                pause.wait(0.1)  # the times come from the runs themselves, not from here
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)
        cpu_after, server_after = os.times(), _server_cpu()
        workers_cpu = (cpu_after.children_user - cpu_before.children_user) + (
            cpu_after.children_system - cpu_before.children_system
        )
        with baton.db.read() as session:
            attempts = dict(session.execute(select(StepRunRow.run_id, StepRunRow.attempt)).all())
            ended = sorted(
                t.timestamp() for t in session.scalars(select(RunRow.ended_at)) if t is not None
            )
        with service.lock:
            calls = {int(path.rsplit("/", 1)[1]): n for path, n in service.hits.items()}
        if calls != attempts:
            extra = {
                r: (calls.get(r), attempts.get(r)) for r in attempts if calls.get(r) != attempts[r]
            }
            raise SystemExit(f"calls differ from attempts (run: calls, attempts): {extra}")
        elapsed = ended[-1] - began
        # Steady: the middle 80 % of the runs, once every worker is up and before the last
        # calls drain (a worker's start, some 0.5 s of imports, is not what it does per second).
        low, high = len(ended) // 10, len(ended) * 9 // 10 - 1
        return {
            "steps_per_s": runs / elapsed,
            "steady_per_s": (high - low) / (ended[high] - ended[low]),
            "seconds": elapsed,
            "workers_ms": workers_cpu * 1000 / runs,
            "server_ms": (server_after - server_before) * 1000 / runs
            if url.startswith("postgresql")
            else 0.0,
            "calls": sum(calls.values()),
            "attempts": sum(attempts.values()),
        }
    finally:
        baton.close()


def _server_cpu() -> float:
    """Seconds of processor the PostgreSQL server's processes have used (Linux; else 0)."""
    total = 0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended meanwhile
        # Its own time and that of its ended children (a connection's process ends with it).
        total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


def _count(baton: Baton, condition: Any) -> int:
    with baton.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(RunRow).where(condition)) or 0)


def _show(label: str, result: dict[str, float], runs: int) -> None:
    print(
        f"  {label}: {result['steps_per_s']:.1f} steps/s ({runs} runs in {result['seconds']:.2f} s;"
        f" steady {result['steady_per_s']:.1f} steps/s; processor per step: workers"
        f" {result['workers_ms']:.1f} ms"
        + (f", database server {result['server_ms']:.1f} ms" if result["server_ms"] else "")
        + ";"
        f" HTTP calls {result['calls']:.0f} = attempts {result['attempts']:.0f})",
        flush=True,
    )


@contextmanager
def sqlite_urls() -> Iterator[Callable[[], str]]:
    with tempfile.TemporaryDirectory(prefix="baton-io-") as folder:
        made = iter(range(1_000_000))
        yield lambda: str(Path(folder) / f"io-{next(made)}.sqlite3")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--sequential-runs", type=int, default=100)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--pg-concurrency", type=int, default=16)
    args = parser.parse_args()
    service = Service()
    try:
        if args.only != "postgresql":
            print("SQLite file, one worker process:", flush=True)
            with sqlite_urls() as new_url:
                for concurrency in (1, 4, 16, 64):
                    runs = args.sequential_runs if concurrency == 1 else args.runs
                    result = one(new_url(), service, runs, 1, concurrency)
                    _show(f"--concurrency {concurrency}", result, runs)
        if args.only != "sqlite":
            from tests.pg import PostgresServer

            server = PostgresServer()
            server.start()
            try:
                print(
                    f"PostgreSQL, worker processes at --concurrency {args.pg_concurrency}:",
                    flush=True,
                )
                alone: dict[str, float] = {}
                for workers in (1, 2, 4):
                    result = one(
                        server.new_database(), service, args.runs, workers, args.pg_concurrency
                    )
                    alone = alone or result
                    _show(f"{workers} worker(s)", result, args.runs)
                    if workers > 1:
                        print(
                            f"    against one worker: {result['steps_per_s'] / alone['steps_per_s']:.2f}×"
                            f", steady {result['steady_per_s'] / alone['steady_per_s']:.2f}×",
                            flush=True,
                        )
            finally:
                server.stop()
    finally:
        service.close()


if __name__ == "__main__":
    main()
