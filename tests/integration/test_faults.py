"""Faults around the work: a cause fixed while a step retries, a locked SQLite file, a full disk."""

from __future__ import annotations

import datetime as dt
import http.server
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from engine.definitions.objects import ObjectType
from engine.errors import StoreUnavailable
from engine.services.baton import Baton
from engine.store.models import RecordRow
from tests.conftest import define


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Ok(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"accepted": true}')

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def service_later() -> Iterator[tuple[int, Any]]:
    """A port where an HTTP service is not running yet; call the second item to start it."""
    port = free_port()
    servers: list[http.server.HTTPServer] = []

    def start() -> None:
        server = http.server.HTTPServer(("127.0.0.1", port), Ok)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)

    yield port, start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_failing_step_resumes_once_its_cause_is_fixed(
    baton: Baton, clock: Any, service_later: tuple[int, Any]
) -> None:
    port, start_service = service_later
    define(
        baton,
        f"""
format: 1
name: notify_erp
elements:
  - kind: stage
    name: send
    steps:
      - kind: background
        name: post
        retry: {{attempts: 5, backoff_seconds: 60}}
        actions:
          - {{type: http_request, method: POST, url: "http://127.0.0.1:{port}/orders", body: "{{'id': run.id}}", output: reply}}
""",
    )
    run = baton.runs.start("notify_erp")
    baton.worker.run_once()
    assert baton.runs.get(run.id).status == "InProgress"
    retries = [e for e in baton.runs.show(run.id).log if e.event == "step_retry"]
    assert len(retries) == 1 and "failed" in (retries[0].message or "")
    start_service()  # the cause is fixed
    clock.advance(dt.timedelta(minutes=2))
    baton.worker.run_once()
    detail = baton.runs.show(run.id)
    assert detail.run.status == "Completed"
    assert detail.stages[0].steps[0].outputs["reply"] == {"status": 200, "body": {"accepted": True}}


def _records(baton: Baton) -> int:
    with baton.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(RecordRow)) or 0)


@pytest.fixture
def sqlite_baton(db_path: Path) -> Iterator[Baton]:
    baton = Baton(str(db_path), actor="admin")
    baton.records.define_type(
        ObjectType.model_validate(
            {"name": "note", "fields": [{"name": "text", "type": "long_text"}]}
        )
    )
    yield baton
    baton.close()


def test_a_locked_sqlite_file_is_a_clear_error_and_loses_nothing(
    sqlite_baton: Baton, db_path: Path
) -> None:
    baton = sqlite_baton
    baton.records.create("note", {"text": "before"})

    @event.listens_for(baton.db.engine, "connect")
    def short_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=200")  # the default waits 15 s

    baton.db.engine.dispose()
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the file
    try:
        with pytest.raises(
            StoreUnavailable, match="is locked by another program; nothing was changed"
        ):
            baton.records.create("note", {"text": "while locked"})
    finally:
        other.execute("ROLLBACK")
        other.close()
    baton.records.create("note", {"text": "after"})
    assert [r.data["text"] for r in baton.records.list("note")] == ["after", "before"]


def test_a_full_disk_is_a_clear_error_and_loses_nothing(sqlite_baton: Baton) -> None:
    baton = sqlite_baton
    baton.records.create("note", {"text": "kept"})
    with baton.db.read() as session:
        pages = session.connection().exec_driver_sql("PRAGMA page_count").scalar()

    @event.listens_for(baton.db.engine, "connect")
    def tiny_disk(dbapi_connection: Any, _record: Any) -> None:
        # SQLite's own "database or disk is full": the file may not grow past its size now.
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    baton.db.engine.dispose()

    def fill() -> None:
        for _ in range(20):
            baton.records.create("note", {"text": "x" * 50_000})

    with pytest.raises(StoreUnavailable, match="is full; nothing was changed"):
        fill()
    written = _records(baton)
    event.remove(baton.db.engine, "connect", tiny_disk)
    baton.db.engine.dispose()
    texts = [r.data["text"] for r in baton.records.list("note", limit=100)]
    assert "kept" in texts and len(texts) == written
