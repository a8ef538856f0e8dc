"""Change subscriptions: committed changes are announced, on the baton-changes thread."""

from __future__ import annotations

import contextlib
import threading

from engine.services.baton import Baton
from tests.conftest import define, people

FLOW = """
format: 1
name: flow
forms: {ok: {fields: [{name: note, type: text}]}}
elements:
  - kind: stage
    name: s
    steps: [{kind: interactive, name: t, form: ok, assignee: {user: alice}}]
"""


EVERYTHING = frozenset({"runs", "work", "background", "outbox", "records"})


class Heard:
    def __init__(self, wanted: str) -> None:
        self.wanted = wanted
        self.kinds: list[frozenset[str]] = []
        self.threads: set[str] = set()
        self.event = threading.Event()

    def __call__(self, kinds: frozenset[str]) -> None:
        self.kinds.append(kinds)
        self.threads.add(threading.current_thread().name)
        # PostgreSQL's listener announces everything once on connecting: not a real change.
        if self.wanted in kinds and kinds != EVERYTHING:
            self.event.set()


def test_a_commit_is_announced_to_subscribers(baton: Baton) -> None:
    people(baton)
    define(baton, FLOW)
    # A second, independent service on the same database stands for another process.
    other = Baton(baton.db.url, actor="admin")
    heard = Heard("work")
    unsubscribe = other.subscribe(heard)
    try:
        heard.event.clear()
        if baton.db.is_sqlite:
            other.runs.start("flow")  # SQLite announces what this process commits
        else:
            baton.runs.start("flow")  # PostgreSQL announces every process's commits
        assert heard.event.wait(timeout=30), heard.kinds
        assert any({"runs", "work"} <= k for k in heard.kinds)
        assert heard.threads == {"baton-changes"}
    finally:
        unsubscribe()
        other.close()


def test_a_rolled_back_change_is_not_announced(baton: Baton) -> None:
    from engine.definitions.objects import ObjectType
    from engine.services.errors import InvalidInput

    people(baton)
    define(baton, FLOW)
    baton.records.define_type(ObjectType.model_validate({"name": "memo", "fields": []}))
    heard = Heard("records")
    unsubscribe = baton.subscribe(heard)
    try:
        with contextlib.suppress(InvalidInput):
            baton.runs.start("flow", {"unknown": 1})  # refused: its transaction rolls back
        baton.records.create("memo", {})  # a later commit, to know announcements arrived
        assert heard.event.wait(timeout=30)
        # (On PostgreSQL the listener announces everything once when it connects.)
        announced = [k for k in heard.kinds if k != EVERYTHING]
        assert announced and all("runs" not in k for k in announced), heard.kinds
    finally:
        unsubscribe()
