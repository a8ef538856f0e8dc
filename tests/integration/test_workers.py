"""Background work that is never lost or done twice, with real worker processes: a worker
killed mid-step, workers racing, a database restart, a plugin from an installed entry point."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.services.baton import Baton
from engine.store.models import LogRow, RunRow, StepRunRow
from tests.conftest import define
from tests.slow_http import SlowServer

BATON = str(Path(sys.executable).parent / "baton")


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Check ``condition`` until it holds; fail saying ``what`` did not happen in time."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:g}s")
        pause.wait(0.1)


class Workers:
    """``baton worker`` processes, stopped (or killed) at the end of the test."""

    def __init__(self, url: str, log_dir: Path) -> None:
        self.url = url
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []
        self.files: list[object] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"worker-{len(self.processes)}.log", "wb")  # noqa: SIM115
        self.files.append(log)
        process = subprocess.Popen(
            [BATON, "--db", self.url, "worker", "--interval", "0.2", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ),
        )
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self.files:
            log.close()  # type: ignore[attr-defined]
        self.files.clear()

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.log_dir.glob("worker-*.log")))


@pytest.fixture
def workers(any_url: str, tmp_path: Path) -> Iterator[Workers]:
    group = Workers(any_url, tmp_path)
    yield group
    group.stop_all()


@pytest.fixture(params=[1, 8], ids=["calls-1", "calls-8"])
def concurrency(request: pytest.FixtureRequest) -> str:
    """``baton worker --concurrency``: external calls made one at a time, or 8 at once."""
    return str(request.param)


@pytest.fixture
def slow_server() -> Iterator[SlowServer]:
    """A remote system taking 0.1 s per request, so a worker is killed mid-call."""
    with SlowServer(0.1) as server:
        yield server


def counts(baton: Baton, status: str = "Completed") -> int:
    with baton.db.read() as session:
        return int(
            session.scalar(select(func.count()).select_from(RunRow).where(RunRow.status == status))
            or 0
        )


# ---------------------------------------------------------------- a plugin, installed


def test_a_python_action_from_an_installed_entry_point(baton: Baton) -> None:
    define(
        baton,
        """
format: 1
name: pricing
variables: [{name: amount, type: number, input: true}]
elements:
  - kind: stage
    name: price
    steps:
      - kind: background
        name: vat
        actions:
          - {type: python, action: example.vat, inputs: {amount: vars.amount}, output: price}
          - {type: python, action: example.greet, inputs: {name: "'Ada'"}, output: hello}
""",
    )
    run = baton.runs.start("pricing", {"amount": 250})
    baton.worker.run_once()
    detail = baton.runs.show(run.id)
    assert detail.run.status == "Completed"
    outputs = detail.stages[0].steps[0].outputs
    assert outputs["price"] == {"net": 250, "vat": 50.0, "gross": 300.0}
    assert outputs["hello"] == {"greeting": "Hello, Ada!"}


def test_a_plugin_that_fails_fails_the_attempt_clearly(baton: Baton) -> None:
    define(
        baton,
        """
format: 1
name: pricing
elements:
  - kind: stage
    name: price
    steps:
      - kind: background
        name: vat
        retry: {attempts: 1}
        actions: [{type: python, action: example.vat, inputs: {amount: "-5"}}]
""",
    )
    run = baton.runs.start("pricing")
    baton.worker.run_once()
    error = baton.runs.get(run.id).error or ""
    assert "Python action 'example.vat' raised ValueError: amount must not be negative" in error


# ---------------------------------------------------------------- a worker killed mid-step


def test_a_worker_killed_mid_step_is_replaced_and_the_step_completes_once(
    baton: Baton, workers: Workers, tmp_path: Path, clock: Any, concurrency: str
) -> None:
    started, release, calls = tmp_path / "started", tmp_path / "release", tmp_path / "calls"
    define(
        baton,
        f"""
format: 1
name: fragile
elements:
  - kind: stage
    name: work
    steps:
      - kind: background
        name: long_job
        actions:
          - {{type: python, action: example.wait_for_file, inputs: {{path: "'{release}'", started: "'{started}'"}}}}
          - {{type: python, action: example.record_call, inputs: {{path: "'{calls}'", token: "'done'"}}}}
""",
    )
    run = baton.runs.start("fragile")
    first = workers.start("--lease", "1", "--concurrency", concurrency)
    wait_until(started.exists, 60, "the first worker starting the step")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    # Nobody has taken the step over yet: past the lease and a poll's grace, it needs attention.
    clock.advance(dt.timedelta(minutes=3))
    (held,) = [a for a in baton.attention.report().items if a.kind == "dead_worker"]
    assert (held.run_id, held.step) == (run.id, "long_job")
    assert "stopped renewing its lease on attempt 1" in held.detail
    clock.reset()
    release.touch()
    workers.start("--lease", "1", "--concurrency", concurrency)
    wait_until(lambda: baton.runs.get(run.id).status == "Completed", 60, "the run completing")
    with baton.db.read() as session:
        step = session.scalar(select(StepRunRow).where(StepRunRow.run_id == run.id))
        assert step is not None and (step.attempt, step.lost_leases) == (2, 1)
        completions = session.scalar(
            select(func.count())
            .select_from(LogRow)
            .where(LogRow.run_id == run.id, LogRow.event == "step_completed")
        )
    assert completions == 1
    assert "lease_expired" in [e.event for e in baton.runs.show(run.id).log]
    assert calls.read_text().splitlines() == ["done"]
    assert baton.attention.report().counts["dead_worker"] == 0
    assert "step_retry" not in [e.event for e in baton.runs.show(run.id).log]


def test_workers_killed_again_and_again_spend_no_retries(
    baton: Baton, workers: Workers, slow_server: SlowServer, concurrency: str
) -> None:
    """With the default retry policy, each worker killed a few calls into its work: only the
    calls in flight are lost and made again, and no run ends in Error (a worker that leased a
    batch of steps at once lost them all, and every kill spent an attempt of each)."""
    runs, kills, calls_between = 60, 4, 5
    url = f"http://127.0.0.1:{slow_server.port}/run/{{{{run.id}}}}"
    define(
        baton,
        f"""
format: 1
name: calls
elements:
  - kind: stage
    name: work
    steps:
      - kind: background
        name: call_out
        actions: [{{type: http_request, url: "{url}", timeout_seconds: 30}}]
""",
    )
    for _ in range(runs):
        baton.runs.start("calls")
    for _ in range(kills):
        seen = slow_server.total
        worker = workers.start("--lease", "1", "--concurrency", concurrency)
        wait_until(lambda s=seen: slow_server.total >= s + calls_between, 60, "calls being made")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    workers.start("--lease", "1", "--concurrency", concurrency)
    wait_until(lambda: counts(baton) + counts(baton, "Error") == runs, 120, "every run ending")
    assert counts(baton, "Error") == 0
    assert set(slow_server.hits) == {f"/run/{n}" for n in range(1, runs + 1)}
    # Only the calls in flight at a kill (at most --concurrency of them) are made again.
    assert slow_server.total <= runs + kills * int(concurrency)
    assert "Traceback" not in workers.logs()


# ---------------------------------------------------------------- workers racing


@pytest.mark.slow
@pytest.mark.parametrize("how_many", [2, 4])
def test_workers_racing_over_a_thousand_runs_do_each_step_once(
    baton: Baton, workers: Workers, tmp_path: Path, how_many: int, concurrency: str
) -> None:
    calls = tmp_path / "calls"
    define(
        baton,
        f"""
format: 1
name: batch
elements:
  - kind: stage
    name: work
    steps:
      - kind: background
        name: call_out
        actions:
          - {{type: python, action: example.record_call, inputs: {{path: "'{calls}'", token: "text(run.id)"}}}}
      - kind: background
        name: note
        actions: [{{type: set_variables, values: {{noted: "True"}}}}]
""",
    )
    for _ in range(1000):
        baton.runs.start("batch")
    for _ in range(how_many):
        workers.start("--concurrency", concurrency)
    wait_until(lambda: counts(baton) == 1000, 300, "all 1,000 runs completing")
    tokens = calls.read_text().splitlines()
    assert len(tokens) == 1000
    assert len(set(tokens)) == 1000  # every external call made exactly once
    with baton.db.read() as session:
        per_step = session.execute(
            select(LogRow.run_id, LogRow.step, func.count())
            .where(LogRow.event == "step_completed")
            .group_by(LogRow.run_id, LogRow.step)
        ).all()
    assert len(per_step) == 2000
    assert {n for _, _, n in per_step} == {1}
    assert counts(baton, "Error") == 0  # the default retry policy: nothing spent, nothing failed
    assert "Traceback" not in workers.logs()


# ---------------------------------------------------------------- the database restarts


@pytest.mark.postgres
@pytest.mark.slow
def test_workers_carry_on_after_postgres_restarts(
    postgres_server: object, postgres_url: str, tmp_path: Path
) -> None:
    from tests.pg import PostgresServer

    assert isinstance(postgres_server, PostgresServer)
    baton = Baton(postgres_url, actor="admin", upgrade=True)
    group = Workers(postgres_url, tmp_path)
    try:
        define(
            baton,
            """
format: 1
name: steady
elements:
  - kind: stage
    name: work
    steps:
      - {kind: background, name: a, actions: [{type: set_variables, values: {a: "1"}}]}
""",
        )
        group.start()
        for _ in range(100):
            baton.runs.start("steady")
        wait_until(lambda: counts(baton) >= 1, 60, "the worker starting on the runs")
        postgres_server.restart()
        baton.db.engine.dispose()  # this test's own pooled connections died with the server
        for _ in range(100):
            baton.runs.start("steady")
        wait_until(lambda: counts(baton) == 200, 120, "all runs completing after the restart")
        assert group.processes[0].poll() is None  # the worker lived through it
    finally:
        group.stop_all()
        baton.close()
