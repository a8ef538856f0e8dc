"""The worker's own failures and leases: an unexpected error is a failure of the step under
its retry policy; a lease covers one call from the moment it starts; a lease lost to a worker
that stopped responding spends no retry attempt, up to a cap of its own. Every test runs with
calls made one at a time and several at once (``concurrency``)."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from engine.definitions.model import SetVariables
from engine.runtime import actions, passes, worker
from engine.runtime.leases import MAX_LOST_LEASES, LeaseKeeper
from engine.runtime.passes import run_due
from engine.runtime.worker import StepRunner
from engine.services.baton import Baton
from engine.store.base import utcnow
from engine.store.models import RunRow, StepRunRow
from tests.conftest import define, events, flow, people
from tests.slow_http import SlowServer


@pytest.fixture(params=[1, 8], ids=["calls-1", "calls-8"])
def concurrency(request: pytest.FixtureRequest) -> int:
    """How many external calls the worker makes at once."""
    return int(request.param)


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
    baton: Baton, surprising_inline: None, concurrency: int
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
    report = baton.worker.run_once(concurrency=concurrency)
    assert report.errors == []  # the step's failure, in its run; not the worker's
    detail = baton.runs.show(broken.id)
    assert detail.run.status == "Error"
    assert detail.run.error == (
        "step 'work.job' failed: step 'work.job', action 2: unexpected KeyError: 'surprise'"
    )
    assert events(baton, broken.id).count("step_retry") == 1
    assert detail.variables.get("a") is None  # the failed attempt changed nothing
    assert {baton.runs.get(r.id).status for r in healthy} == {"Completed"}
    again = baton.worker.run_once(concurrency=concurrency)
    assert (again.steps_run, again.errors) == (0, [])


def test_a_result_that_cannot_be_stored_fails_the_attempt(baton: Baton, concurrency: int) -> None:
    define(
        baton,
        flow(
            "[{type: python, action: test.odd, output: odd}]",
            retry="retry: {attempts: 3, backoff_seconds: 0}",
        ),
    )
    run = baton.runs.start("flow")
    report = baton.worker.run_once(concurrency=concurrency)
    assert report.errors == []
    detail = baton.runs.show(run.id)
    assert detail.run.status == "Error"
    assert detail.run.error is not None
    assert detail.run.error.startswith("step 'work.job' failed: unexpected ")
    assert "not JSON serializable" in detail.run.error
    assert events(baton, run.id).count("step_retry") == 2
    assert step_row(baton, run.id).attempt == 3


def test_a_call_raising_something_unexpected_fails_the_attempt(
    baton: Baton, concurrency: int
) -> None:
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
        report = baton.worker.run_once(concurrency=concurrency)
    assert report.errors == []
    detail = baton.runs.show(run.id)
    assert detail.run.status == "Error"
    assert detail.run.error is not None
    assert detail.run.error.startswith("step 'work.job' failed: unexpected ValueError: ")
    assert events(baton, run.id).count("step_retry") == 1
    assert server.hits["/huge"] == 2


def test_database_trouble_leaves_the_step_to_be_tried_again(
    baton: Baton, monkeypatch: pytest.MonkeyPatch, concurrency: int
) -> None:
    define(baton, flow('[{type: set_variables, values: {a: "1"}}]'))
    run = baton.runs.start("flow")

    def unreachable(*_: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    with monkeypatch.context() as patch:
        patch.setattr(worker, "run_inline", unreachable)
        report = baton.worker.run_once(concurrency=concurrency)
    assert len(report.errors) == 1 and "server closed the connection" in report.errors[0]
    assert baton.runs.get(run.id).status == "InProgress"
    assert "step_retry" not in events(baton, run.id)
    assert baton.worker.run_once(concurrency=concurrency).errors == []
    assert baton.runs.get(run.id).status == "Completed"
    assert step_row(baton, run.id).attempt == 1


# ---------------------------------------------------------------- one lease per call


@pytest.fixture
def slow_server() -> Iterator[SlowServer]:
    with SlowServer(0.3) as server:
        yield server


def test_each_call_is_leased_from_its_own_start_and_made_once(
    baton: Baton, slow_server: SlowServer, concurrency: int
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
            problems.extend(
                run_due(baton.db, owner=owner, lease=lease, concurrency=concurrency).errors
            )
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


def test_a_lost_lease_spends_no_retry_attempt(baton: Baton, clock: Any, concurrency: int) -> None:
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
    baton.worker.run_once(concurrency=concurrency)
    detail = baton.runs.show(run.id)
    assert detail.run.status == "Error"
    assert detail.run.error is not None and f"{url} failed" in detail.run.error
    log = events(baton, run.id)
    assert (log.count("lease_expired"), log.count("step_retry")) == (2, 1)
    row = step_row(baton, run.id)
    assert (row.attempt, row.lost_leases) == (4, 2)  # the fencing number still grew


def test_a_step_losing_too_many_leases_fails_with_that_reason(
    baton: Baton, clock: Any, concurrency: int
) -> None:
    define(baton, flow("[{type: python, action: test.greet}]"))
    run = baton.runs.start("flow")  # the default retry policy
    for n in range(MAX_LOST_LEASES):
        lose_lease(baton, run.id, f"dead-{n}", clock)
    assert baton.runs.get(run.id).status == "InProgress"
    baton.worker.run_once(concurrency=concurrency)
    detail = baton.runs.show(run.id)
    assert detail.run.status == "Error"
    assert detail.run.error == (
        f"step 'work.job' failed: the worker running it stopped responding {MAX_LOST_LEASES} times"
    )
    assert events(baton, run.id).count("lease_expired") == MAX_LOST_LEASES
    assert "step_retry" not in events(baton, run.id)


def test_a_retried_step_starts_counting_lost_leases_afresh(
    baton: Baton, clock: Any, concurrency: int
) -> None:
    define(baton, flow("[{type: python, action: test.greet}]"))
    run = baton.runs.start("flow")
    for n in range(MAX_LOST_LEASES):
        lose_lease(baton, run.id, f"dead-{n}", clock)
    baton.worker.run_once(concurrency=concurrency)
    assert baton.runs.get(run.id).status == "Error"
    baton.runs.retry_step(run.id, "the workers are fixed")
    for n in range(MAX_LOST_LEASES - 1):
        lose_lease(baton, run.id, f"again-{n}", clock)
    baton.worker.run_once(concurrency=concurrency)
    assert baton.runs.get(run.id).status == "Completed"
    assert step_row(baton, run.id).lost_leases == MAX_LOST_LEASES - 1


# ---------------------------------------------------------------- calls side by side


class BarrierServer:
    """Holds each GET until ``width`` requests are in flight together (or 10 s pass), and
    counts the most that ever were: a worker making its calls one after another never has
    more than one in flight."""

    def __init__(self, width: int) -> None:
        self.hits: Counter[str] = Counter()
        self.in_flight = 0
        self.peak = 0
        gathered = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real services answer

            def do_GET(self) -> None:
                with gathered:
                    server.hits[self.path] += 1
                    server.in_flight += 1
                    server.peak = max(server.peak, server.in_flight)
                    gathered.notify_all()
                    gathered.wait_for(lambda: server.peak >= width, timeout=10)
                body = b'{"together": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with gathered:
                    server.in_flight -= 1

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, name="barrier-http")
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def test_a_worker_makes_as_many_calls_at_once_as_its_concurrency(baton: Baton) -> None:
    """16 calls to a service that holds each until 8 are in flight: 8 are made at once, never
    more, each once (called one after another, before issue 18, only one was ever in flight)."""
    server = BarrierServer(8)
    try:
        url = f"http://127.0.0.1:{server.port}/run/{{{{run.id}}}}"
        define(
            baton,
            flow(
                f'[{{type: http_request, url: "{url}", timeout_seconds: 20, output: answer}}]',
                retry="retry: {attempts: 1}",
            ),
        )
        runs = [baton.runs.start("flow").id for _ in range(16)]
        report = baton.worker.run_once(concurrency=8)
    finally:
        server.close()
    assert (report.steps_run, report.errors) == (16, [])
    assert {baton.runs.get(r).status for r in runs} == {"Completed"}
    assert dict(server.hits) == {f"/run/{r}": 1 for r in runs}
    assert server.peak == 8  # as many at once as the concurrency, and no more


def test_a_plugin_that_never_returns_is_abandoned_at_its_timeout(baton: Baton) -> None:
    """A hanging plugin fails its attempt at the step's timeout and frees its slot: the other
    steps go on beside it and the pass ends. Its thread is left running, named as abandoned."""
    release = threading.Event()
    installed = {
        "test.hang": FakeEntryPoint(lambda: release.wait(60)),
        "test.greet": FakeEntryPoint(lambda: {"greeting": "hello"}),
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(actions, "plugin_actions", lambda: installed)
        define(
            baton,
            flow(
                "[{type: python, action: test.hang}]", retry="retry: {attempts: 1}", name="hang"
            ).replace("name: job", "name: job\n        timeout_seconds: 0.5"),
        )
        define(baton, flow("[{type: python, action: test.greet}]"))
        hung = baton.runs.start("hang")
        quick = [baton.runs.start("flow").id for _ in range(6)]
        try:
            report = baton.worker.run_once(concurrency=2)
            abandoned = [t for t in threading.enumerate() if "(abandoned after 0.5 s)" in t.name]
        finally:
            release.set()
        for thread in abandoned:
            thread.join()
    assert report.errors == []
    assert {baton.runs.get(r).status for r in quick} == {"Completed"}
    detail = baton.runs.get(hung.id)
    assert detail.status == "Error"
    assert detail.error == (
        "step 'work.job' failed: Python action 'test.hang' did not finish within 0.5 seconds"
    )
    assert [t.name for t in abandoned] == ["baton-action-test.hang (abandoned after 0.5 s)"]


# ---------------------------------------------------------------- one heartbeat


def test_one_heartbeat_renews_the_leases_of_every_call_in_flight_and_no_other(
    baton: Baton, clock: Any
) -> None:
    define(baton, flow("[{type: python, action: test.greet}]"))
    runs = [baton.runs.start("flow").id for _ in range(4)]
    lease = dt.timedelta(seconds=30)
    claimed: dict[int, int] = {}
    for run_id, owner in zip(runs, ["me", "me", "me", "someone else"], strict=True):
        step_run_id = step_row(baton, run_id).id
        with baton.db.write() as session:
            result = StepRunner(baton.db, step_run_id, owner, lease).advance(session, None)
        assert isinstance(result, tuple)
        claimed[step_run_id] = result[0]
    mine, fenced, kept, other = claimed
    keeper = LeaseKeeper(baton.db, "me", lease)
    for step_run_id, attempt in claimed.items():
        keeper.hold(step_run_id, attempt if step_run_id != fenced else attempt + 1)
    try:
        clock.advance(dt.timedelta(seconds=20))
        before = utcnow()
        assert keeper.renew() == 2  # not the other worker's, not an attempt taken over
        after = utcnow()
    finally:
        keeper.close()
    with baton.db.read() as session:
        rows = {r.id: r for r in session.scalars(select(StepRunRow))}
    for step_run_id in (mine, kept):
        row = rows[step_run_id]
        assert row.lease_expires_at is not None
        assert before + lease <= row.lease_expires_at <= after + lease
        assert row.available_at == row.lease_expires_at
    for step_run_id in (fenced, other):  # as claimed, 20 s ago
        expires = rows[step_run_id].lease_expires_at
        assert expires is not None and expires < before + lease - dt.timedelta(seconds=19)


# ---------------------------------------------------------------- one lock order


@pytest.mark.postgres
def test_a_worker_and_a_completion_on_one_run_never_deadlock(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person completes the step that ends the stage (discontinuing its background step)
    while a worker takes that background step. The worker used to lock the step and then
    the run, the completion the run and then the step: each waited for the other until
    PostgreSQL broke the deadlock by failing one. Now both lock the run first."""
    baton = Baton(postgres_url, actor="admin", upgrade=True)
    alice = Baton(postgres_url, actor="alice")
    try:
        people(baton)
        define(
            baton,
            """
format: 1
name: race
forms:
  ok: {fields: [{name: note, type: text}]}
elements:
  - kind: stage
    name: work
    exit: {when: steps, steps: [review]}
    steps:
      - {kind: interactive, name: review, form: ok, assignee: {user: alice}}
      - {kind: background, name: calc, actions: [{type: set_variables, values: {x: "1"}}]}
""",
        )
        run = baton.runs.start("race")
        (item,) = alice.work.list(limit=5)
        entered, go = threading.Event(), threading.Event()
        real_prefetch, real_batch = passes.prefetch_runs, passes._run_batch
        problems: list[str] = []

        def prefetch(*args: Any, **kwargs: Any) -> Any:
            entered.set()  # about to lock the runs of the batch
            go.wait(10)
            return real_prefetch(*args, **kwargs)

        def batch(*args: Any, **kwargs: Any) -> Any:
            try:
                return real_batch(*args, **kwargs)
            except Exception as exc:
                problems.append(f"worker: {type(exc).__name__}: {exc}")
                raise

        monkeypatch.setattr(passes, "prefetch_runs", prefetch)
        monkeypatch.setattr(passes, "_run_batch", batch)

        def complete() -> None:
            try:
                alice.work.complete(item.id, {"note": "done"})
            except Exception as exc:  # reported by the test: a thread cannot fail it
                problems.append(f"completion: {type(exc).__name__}: {exc}")

        passing = threading.Thread(target=lambda: problems.extend(run_due(baton.db).errors))
        passing.start()
        assert entered.wait(10)
        completing = threading.Thread(target=complete)
        completing.start()
        # Let the worker go on once the completion is done or waits for a lock it holds.
        deadline = time.monotonic() + 10
        pause = threading.Event()
        while (
            completing.is_alive() and not waiting_for_a_lock(baton) and time.monotonic() < deadline
        ):
            pause.wait(0.02)
        go.set()
        completing.join()
        passing.join()
        assert problems == []
        detail = baton.runs.show(run.id)
        assert detail.run.status == "Completed"
        assert [s.status for s in detail.stages[0].steps] == ["Completed", "Discontinued"]
    finally:
        alice.close()
        baton.close()


def waiting_for_a_lock(baton: Baton) -> bool:
    """Whether some other session of this database waits for a row lock now."""
    with baton.db.engine.connect() as connection:
        return bool(
            connection.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            ).scalar()
        )


def test_a_call_still_out_when_a_supervisor_retried_the_step_is_fenced_out(
    baton: Baton, clock: Any
) -> None:
    """The attempt number is the fencing token and never goes back: a retried step's first
    attempt once was attempt 1 again, so a worker whose call for the old attempt 1 was still
    out (hung past its lease) had its stale result taken for the new attempt's."""
    define(baton, flow("[{type: python, action: test.greet, output: greeting}]"))
    run = baton.runs.start("flow")
    step_run_id = step_row(baton, run.id).id
    lease = dt.timedelta(seconds=30)
    with baton.db.write() as session:
        hung = StepRunner(baton.db, step_run_id, "w", lease).advance(session, None)
    assert isinstance(hung, tuple)  # worker w's call hangs, past its lease
    clock.advance(lease + dt.timedelta(seconds=1))
    for n in range(MAX_LOST_LEASES - 1):
        lose_lease(baton, run.id, f"dead-{n}", clock)
    baton.worker.run_once()
    assert baton.runs.get(run.id).status == "Error"  # stopped responding too often
    baton.runs.retry_step(run.id, "the workers are fixed")
    with baton.db.write() as session:  # worker w takes the retried step's fresh attempt
        fresh = StepRunner(baton.db, step_run_id, "w", lease).advance(session, None)
    assert isinstance(fresh, tuple) and fresh[0] > hung[0]
    # The hung call returns at last: its answer belongs to an attempt long gone.
    stale = (hung[0], worker._Outcome(hung[1], "stale"))
    with baton.db.write() as session:
        assert StepRunner(baton.db, step_run_id, "w", lease).advance(session, stale) is None
    row = step_row(baton, run.id)
    assert (row.status, row.attempt, row.lease_owner) == ("InProgress", fresh[0], "w")
    assert row.attempt - row.attempt_base == 1  # the retry policy counts this attempt first
    with baton.db.write() as session:  # the fresh call's answer is the one taken
        done = (fresh[0], worker._Outcome(fresh[1], "hello"))
        assert StepRunner(baton.db, step_run_id, "w", lease).advance(session, done) is True
    assert step_row(baton, run.id).outputs == {"greeting": "hello"}
