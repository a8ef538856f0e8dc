"""The worker's own failures and leases: an unexpected error is a failure of the step under
its retry policy; a lease covers one call from the moment it starts; a lease lost to a worker
that stopped responding spends no retry attempt, up to a cap of its own."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from engine.definitions.model import SetVariables
from engine.runtime import actions, worker
from engine.runtime.worker import MAX_LOST_LEASES, StepRunner, run_due
from engine.services.baton import Baton
from engine.store.models import RunRow, StepRunRow
from tests.conftest import define, events
from tests.slow_http import SlowServer


def flow(actions_yaml: str, *, retry: str = "", name: str = "flow") -> str:
    return f"""
format: 1
name: {name}
elements:
  - kind: stage
    name: work
    steps:
      - kind: background
        name: job
        {retry}
        actions: {actions_yaml}
"""


def step_row(baton: Baton, run_id: int) -> StepRunRow:
    with baton.db.read() as session:
        row = session.scalar(select(StepRunRow).where(StepRunRow.run_id == run_id))
        assert row is not None
        return row


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------- unexpected errors


class FakeEntryPoint:
    """A Python action as an installed entry point would give it."""

    def __init__(self, function: Any) -> None:
        self.function = function

    def load(self) -> Any:
        return self.function


@pytest.fixture(autouse=True)
def plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python actions: ``test.greet`` works; ``test.odd`` returns a value that cannot be
    stored (a set), so the step's progress raises at commit, deterministically, something
    that is no ActionFailed."""
    installed = {
        "test.greet": FakeEntryPoint(lambda: {"greeting": "hello"}),
        "test.odd": FakeEntryPoint(lambda: {1, 2}),
    }
    monkeypatch.setattr(actions, "plugin_actions", lambda: installed)


@pytest.fixture
def surprising_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A set_variables action naming ``surprise`` raises a KeyError inside the transaction,
    as a bug in an inline action would."""
    real = worker.run_inline

    def run_inline(engine: Any, row: Any, action: Any, where: str) -> Any:
        if isinstance(action, SetVariables) and "surprise" in action.values:
            raise KeyError("surprise")
        return real(engine, row, action, where)

    monkeypatch.setattr(worker, "run_inline", run_inline)


def test_an_unexpected_error_inline_is_retried_then_errors_with_its_message(
    baton: Baton, surprising_inline: None
) -> None:
    define(
        baton,
        flow(
            '[{type: set_variables, values: {a: "1"}}, {type: set_variables, values: {surprise: "2"}}]',
            retry="retry: {attempts: 2, backoff_seconds: 0}",
        ),
    )
    define(baton, flow('[{type: set_variables, values: {fine: "1"}}]', name="healthy"))
    broken = baton.runs.start("flow")
    healthy = [baton.runs.start("healthy") for _ in range(3)]
    report = baton.worker.run_once()
    assert report.errors == []  # the step's failure, in its run; not the worker's
    detail = baton.runs.show(broken.id)
    assert detail.run.status == "Error"
    assert detail.run.error == (
        "step 'work.job' failed: step 'work.job', action 2: unexpected KeyError: 'surprise'"
    )
    assert events(baton, broken.id).count("step_retry") == 1
    assert detail.variables.get("a") is None  # the failed attempt changed nothing
    assert {baton.runs.get(r.id).status for r in healthy} == {"Completed"}
    again = baton.worker.run_once()
    assert (again.steps_run, again.errors) == (0, [])


def test_a_result_that_cannot_be_stored_fails_the_attempt(baton: Baton) -> None:
    define(
        baton,
        flow(
            "[{type: python, action: test.odd, output: odd}]",
            retry="retry: {attempts: 3, backoff_seconds: 0}",
        ),
    )
    run = baton.runs.start("flow")
    report = baton.worker.run_once()
    assert report.errors == []
    detail = baton.runs.show(run.id)
    assert detail.run.status == "Error"
    assert detail.run.error is not None
    assert detail.run.error.startswith("step 'work.job' failed: unexpected ")
    assert "not JSON serializable" in detail.run.error
    assert events(baton, run.id).count("step_retry") == 2
    assert step_row(baton, run.id).attempt == 3


def test_a_call_raising_something_unexpected_fails_the_attempt(baton: Baton) -> None:
    """An answer Python cannot even read (a 5,000-digit number) is a failed attempt, not a
    call whose lease lapses and is taken over and made again and again."""
    with SlowServer(0, body=b"1" * 5000) as server:
        url = f"http://127.0.0.1:{server.port}/huge"
        define(
            baton,
            flow(
                f'[{{type: http_request, url: "{url}", timeout_seconds: 10}}]',
                retry="retry: {attempts: 2, backoff_seconds: 0}",
            ),
        )
        run = baton.runs.start("flow")
        report = baton.worker.run_once()
    assert report.errors == []
    detail = baton.runs.show(run.id)
    assert detail.run.status == "Error"
    assert detail.run.error is not None
    assert detail.run.error.startswith("step 'work.job' failed: unexpected ValueError: ")
    assert events(baton, run.id).count("step_retry") == 1
    assert server.hits["/huge"] == 2


def test_database_trouble_leaves_the_step_to_be_tried_again(
    baton: Baton, monkeypatch: pytest.MonkeyPatch
) -> None:
    define(baton, flow('[{type: set_variables, values: {a: "1"}}]'))
    run = baton.runs.start("flow")

    def unreachable(*_: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    with monkeypatch.context() as patch:
        patch.setattr(worker, "run_inline", unreachable)
        report = baton.worker.run_once()
    assert len(report.errors) == 1 and "server closed the connection" in report.errors[0]
    assert baton.runs.get(run.id).status == "InProgress"
    assert "step_retry" not in events(baton, run.id)
    assert baton.worker.run_once().errors == []
    assert baton.runs.get(run.id).status == "Completed"
    assert step_row(baton, run.id).attempt == 1


# ---------------------------------------------------------------- one lease per call


@pytest.fixture
def slow_server() -> Iterator[SlowServer]:
    with SlowServer(0.3) as server:
        yield server


def test_each_call_is_leased_from_its_own_start_and_made_once(
    baton: Baton, slow_server: SlowServer
) -> None:
    """Two workers with a 1 s lease over 12 calls of 0.3 s each: a worker that leased a whole
    batch up front let the later leases lapse while it called the earlier ones, and the other
    worker took those over and called them again."""
    url = f"http://127.0.0.1:{slow_server.port}/run/{{{{run.id}}}}"
    define(baton, flow(f'[{{type: http_request, url: "{url}", timeout_seconds: 10}}]'))
    runs = [baton.runs.start("flow").id for _ in range(12)]
    lease = dt.timedelta(seconds=1)
    problems: list[str] = []
    give_up = time.monotonic() + 60

    def unfinished() -> bool:
        with baton.db.read() as session:
            left = session.scalar(
                select(func.count()).select_from(RunRow).where(RunRow.status == "InProgress")
            )
        return bool(left) and time.monotonic() < give_up

    def work(owner: str) -> None:
        pause = threading.Event()
        while unfinished():
            problems.extend(run_due(baton.db, owner=owner, lease=lease).errors)
            pause.wait(0.05)  # as a worker polls between passes

    workers = [threading.Thread(target=work, args=(name,)) for name in ("one", "two")]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert problems == []
    assert {baton.runs.get(r).status for r in runs} == {"Completed"}
    assert dict(slow_server.hits) == {f"/run/{r}": 1 for r in runs}
    assert all("lease_expired" not in events(baton, r) for r in runs)


# ---------------------------------------------------------------- lost leases


def lose_lease(baton: Baton, run_id: int, owner: str, clock: Any) -> None:
    """A worker claims the step's call and dies before finishing it; the lease runs out."""
    step_run_id = step_row(baton, run_id).id
    with baton.db.write() as session:
        claimed = StepRunner(baton.db, step_run_id, owner, dt.timedelta(seconds=30)).advance(
            session, None
        )
    assert isinstance(claimed, tuple), "the step's call was not claimed"
    clock.advance(dt.timedelta(seconds=31))


def test_a_lost_lease_spends_no_retry_attempt(baton: Baton, clock: Any) -> None:
    url = f"http://127.0.0.1:{closed_port()}/hook"
    define(
        baton,
        flow(
            f'[{{type: http_request, url: "{url}", timeout_seconds: 2}}]',
            retry="retry: {attempts: 2, backoff_seconds: 0}",
        ),
    )
    run = baton.runs.start("flow")
    lose_lease(baton, run.id, "dead-1", clock)
    lose_lease(baton, run.id, "dead-2", clock)  # takes it over, and dies too
    assert step_row(baton, run.id).status == "InProgress"
    # A live worker takes it over again; the call fails twice: both retry attempts are left.
    baton.worker.run_once()
    detail = baton.runs.show(run.id)
    assert detail.run.status == "Error"
    assert detail.run.error is not None and f"{url} failed" in detail.run.error
    log = events(baton, run.id)
    assert (log.count("lease_expired"), log.count("step_retry")) == (2, 1)
    row = step_row(baton, run.id)
    assert (row.attempt, row.lost_leases) == (4, 2)  # the fencing number still grew


def test_a_step_losing_too_many_leases_fails_with_that_reason(baton: Baton, clock: Any) -> None:
    define(baton, flow("[{type: python, action: test.greet}]"))
    run = baton.runs.start("flow")  # the default retry policy
    for n in range(MAX_LOST_LEASES):
        lose_lease(baton, run.id, f"dead-{n}", clock)
    assert baton.runs.get(run.id).status == "InProgress"
    baton.worker.run_once()
    detail = baton.runs.show(run.id)
    assert detail.run.status == "Error"
    assert detail.run.error == (
        f"step 'work.job' failed: the worker running it stopped responding {MAX_LOST_LEASES} times"
    )
    assert events(baton, run.id).count("lease_expired") == MAX_LOST_LEASES
    assert "step_retry" not in events(baton, run.id)


def test_a_retried_step_starts_counting_lost_leases_afresh(baton: Baton, clock: Any) -> None:
    define(baton, flow("[{type: python, action: test.greet}]"))
    run = baton.runs.start("flow")
    for n in range(MAX_LOST_LEASES):
        lose_lease(baton, run.id, f"dead-{n}", clock)
    baton.worker.run_once()
    assert baton.runs.get(run.id).status == "Error"
    baton.runs.retry_step(run.id, "the workers are fixed")
    for n in range(MAX_LOST_LEASES - 1):
        lose_lease(baton, run.id, f"again-{n}", clock)
    baton.worker.run_once()
    assert baton.runs.get(run.id).status == "Completed"
    assert step_row(baton, run.id).lost_leases == MAX_LOST_LEASES - 1
