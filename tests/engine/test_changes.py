"""Change subscriptions: committed changes are announced, on the baton-changes thread."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import update

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


EVERYTHING = frozenset({"runs", "work", "background", "outbox", "records", "directory"})


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
    from engine.errors import InvalidInput

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


# ------------------------------------------------------------ every write path announces

PATHS_FLOW = """
format: 1
name: paths
forms: {ok: {fields: [{name: note, type: text}]}}
elements:
  - kind: stage
    name: s
    steps:
      - {kind: interactive, name: mine, form: ok, assignee: {user: alice}}
      - {kind: interactive, name: shared, form: ok, assignee: {queue: legal}}
      - kind: background
        name: paid
        actions: [{type: wait_for_event, event: paid, key: "'K-' + text(run.id)"}]
"""


class Notices:
    """What subscribers of one Baton hear from now on."""

    def __init__(self, baton: Baton) -> None:
        self.kinds: list[frozenset[str]] = []
        self.changed = threading.Condition()
        self.unsubscribe = baton.subscribe(self)
        if not baton.db.is_sqlite:  # LISTEN is up once the listener announces everything
            assert self.connected(), "the change listener never connected"
            with self.changed:
                self.kinds.clear()

    def __call__(self, kinds: frozenset[str]) -> None:
        with self.changed:
            self.kinds.append(kinds)
            self.changed.notify_all()

    def wait_for(self, wanted: frozenset[str]) -> bool:
        """Whether a notice carrying ``wanted`` arrives. "Everything" (a listener connecting,
        another process's unspecified change) does not count: it says nothing about a path."""
        with self.changed:
            return self.changed.wait_for(
                lambda: any(wanted <= k and k != EVERYTHING for k in self.kinds), timeout=15
            )

    def connected(self) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: EVERYTHING in self.kinds, timeout=15)


class Scene:
    """A run of PATHS_FLOW, its two work items, and a memo type."""

    def __init__(self, baton: Baton) -> None:
        from engine.definitions.objects import ObjectType

        people(baton)
        define(baton, PATHS_FLOW)
        baton.records.define_type(ObjectType.model_validate({"name": "memo", "fields": []}))
        self.baton = baton
        self.run = baton.runs.start("paths")
        items = {w.step: w.id for w in baton.runs.show(self.run.id).work_items}
        self.mine, self.shared = items["mine"], items["shared"]

    def claimed(self) -> Scene:
        self.baton.as_user("bob").work.claim(self.shared)
        return self

    def waiting(self) -> Scene:
        self.baton.worker.run_once()  # the background step now waits for its event
        return self


def _demo_history(baton: Baton) -> None:
    from engine.clients.history import generate_history

    generate_history(baton, 40, days=10, seed=5)


def _demo(baton: Baton) -> None:
    from engine.clients.demo import load_demo

    load_demo(baton)


# (path, set-up, the write, the kinds its notice must carry)
WRITE_PATHS: list[tuple[str, Callable[[Baton], Any], Callable[[Any], Any], set[str]]] = [
    ("start", Scene, lambda s: s.baton.runs.start("paths"), {"runs", "work", "background"}),
    (
        "complete",
        Scene,
        lambda s: s.baton.as_user("alice").work.complete(s.mine, {"note": "done"}),
        {"runs", "work"},
    ),
    ("claim", Scene, lambda s: s.baton.as_user("bob").work.claim(s.shared), {"work"}),
    (
        "release",
        lambda b: Scene(b).claimed(),
        lambda s: s.baton.as_user("bob").work.release(s.shared),
        {"work"},
    ),
    (
        "reassign",
        Scene,
        lambda s: s.baton.work.reassign([s.mine], "user:dave", "alice is away"),
        {"work", "outbox"},
    ),
    (
        "deactivate",
        lambda b: Scene(b).claimed(),
        lambda s: s.baton.directory.deactivate("bob", "left the company"),
        {"work"},
    ),
    (
        "intervention",
        Scene,
        lambda s: s.baton.runs.cancel(s.run.id, "not needed"),
        {"runs", "work"},
    ),
    ("records save", Scene, lambda s: s.baton.records.create("memo", {}), {"records"}),
    ("worker pass", Scene, lambda s: s.baton.worker.run_once(), {"runs", "background"}),
    (
        "publish event",
        lambda b: Scene(b).waiting(),
        lambda s: s.baton.events.publish("paid", f"K-{s.run.id}"),
        {"runs", "background"},
    ),
    ("demo --scale", _demo, lambda b: _demo_history(b), {"runs", "work", "records"}),
]


@pytest.mark.parametrize(
    ("set_up", "write", "kinds"),
    [pytest.param(s, w, k, id=name) for name, s, w, k in WRITE_PATHS],
)
def test_every_write_path_announces_what_it_changed(
    baton: Baton,
    set_up: Callable[[Baton], Any],
    write: Callable[[Any], Any],
    kinds: set[str],
) -> None:
    scene = set_up(baton)
    heard = Notices(baton)
    try:
        write(scene if scene is not None else baton)
        assert heard.wait_for(frozenset(kinds)), heard.kinds
    finally:
        heard.unsubscribe()


def test_deactivating_a_user_releases_their_claim_and_announces_it(baton: Baton) -> None:
    scene = Scene(baton).claimed()
    heard = Notices(baton)
    try:
        assert baton.directory.deactivate("bob", "left the company").claims_released == 1
        assert heard.wait_for(frozenset({"work"})), heard.kinds
    finally:
        heard.unsubscribe()
    item = baton.work.get(scene.shared)
    assert (item.status, item.claimed_by) == ("Assigned", None)


def test_writing_a_runtime_row_through_the_orm_is_refused(baton: Baton) -> None:
    from engine.store.changes import UntrackedWrite
    from engine.store.models import RunRow, WorkItemRow

    scene = Scene(baton)

    def change_an_item() -> None:
        with baton.db.write() as session:
            session.get_one(WorkItemRow, scene.mine).flag = "look at this"

    def update_every_item() -> None:
        with baton.db.write() as session:
            session.execute(update(WorkItemRow).values(flag="look at this"))

    def delete_the_run() -> None:
        with baton.db.write() as session:
            session.delete(session.get_one(RunRow, scene.run.id))

    def change_the_run_while_reading() -> None:
        with baton.db.read() as session:  # a read session commits too
            session.get_one(RunRow, scene.run.id).error = "invented"
            session.flush()

    for write, refusal in [
        (change_an_item, "changes a work_items row through the ORM"),
        (update_every_item, "updates a work_items row through the ORM"),
        (delete_the_run, "deletes a runs row through the ORM"),
        (change_the_run_while_reading, "changes a runs row through the ORM"),
    ]:
        with pytest.raises(UntrackedWrite, match=refusal):
            write()
    assert baton.work.get(scene.mine).flag is None  # nothing was written
    assert baton.runs.get(scene.run.id).status == "InProgress"
    with baton.db.write() as session:  # reading them through the ORM stays fine
        assert session.get_one(WorkItemRow, scene.mine).id == scene.mine


class Everything:
    """Counts the announcements of every kind (what a change by another process gives)."""

    def __init__(self) -> None:
        self.kinds: list[frozenset[str]] = []
        self.event = threading.Event()

    def __call__(self, kinds: frozenset[str]) -> None:
        self.kinds.append(kinds)
        if kinds == EVERYTHING:
            self.event.set()


def test_sqlite_hears_commits_made_by_another_process(db_path: Any) -> None:
    """A `baton` command (another process) on the same file reaches an open app unasked."""
    import subprocess
    import sys
    from pathlib import Path

    baton = Baton(str(db_path), actor="admin", upgrade=True)
    people(baton)
    define(baton, FLOW)
    heard = Everything()
    unsubscribe = baton.subscribe(heard)
    try:
        cli = str(Path(sys.executable).parent / "baton")
        subprocess.run(
            [cli, "--db", str(db_path), "--as", "admin", "runs", "start", "flow"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        assert heard.event.wait(timeout=30), heard.kinds
    finally:
        unsubscribe()
        baton.close()


def test_sqlite_does_not_echo_its_own_commits(db_path: Any) -> None:
    """A commit of this process is announced once, with what it changed: never again as a
    change 'by someone else' when the file is next looked at."""
    from engine.store import changes

    baton = Baton(str(db_path), actor="admin", upgrade=True)
    people(baton)
    define(baton, FLOW)
    heard = Everything()
    mine = Heard("work")
    unsubscribe = [baton.subscribe(heard), baton.subscribe(mine)]
    try:
        for _ in range(3):
            mine.event.clear()
            baton.runs.start("flow")
            assert mine.event.wait(timeout=30)
        # Two polls later nothing was announced as a change by another process.
        polled = threading.Event()
        original = baton.db.announcer._poll_others
        count = {"n": 0}

        def counting() -> None:
            original()
            count["n"] += 1
            if count["n"] >= 2:
                polled.set()

        baton.db.announcer._poll_others = counting  # type: ignore[method-assign]
        assert polled.wait(timeout=changes.POLL_SECONDS * 4)
        assert EVERYTHING not in heard.kinds, heard.kinds
    finally:
        for stop in unsubscribe:
            stop()
        baton.close()


# ------------------------------------------------------------ what a notice says: ids, origin


class Heard2:
    """Every notice one Baton's subscribers hear, to wait for one that matches."""

    def __init__(self, baton: Baton) -> None:
        self.notices: list[Any] = []
        self.changed = threading.Condition()
        self.unsubscribe = baton.subscribe(self)
        if not baton.db.is_sqlite:  # LISTEN is up once the listener announces everything
            assert self.first(lambda c: c == EVERYTHING) is not None, "never connected"

    def __call__(self, change: Any) -> None:
        with self.changed:
            self.notices.append(change)
            self.changed.notify_all()

    def first(self, wanted: Callable[[Any], bool]) -> Any:
        with self.changed:
            self.changed.wait_for(lambda: any(wanted(c) for c in self.notices), timeout=15)
            return next((c for c in self.notices if wanted(c)), None)


def test_a_notice_carries_the_ids_written_and_who_caused_it(baton: Baton) -> None:
    from engine.store.changes import Change, acting_for

    scene = Scene(baton)
    heard = Heard2(baton)
    try:
        with acting_for("inbox:alice:1"):
            baton.as_user("alice").work.complete(scene.mine, {"note": "done"})
        done = heard.first(lambda c: c.origin == "inbox:alice:1")
        assert isinstance(done, Change) and {"runs", "work"} <= done, heard.notices
        assert done.ids["work"] == {scene.mine}
        assert done.ids["runs"] == {scene.run.id}
        assert done.touches("work", scene.mine) and not done.touches("work", scene.shared)

        started = baton.runs.start("paths")  # nobody said who: no origin
        fresh = heard.first(lambda c: started.id in c.ids.get("runs", ()))
        assert fresh is not None and fresh.origin is None, heard.notices
        items = {w.id for w in baton.runs.show(started.id).work_items}
        assert fresh.ids["work"] == items and len(items) == 2
        assert "background" in fresh.ids  # the step that waits for its event, by step run id
        assert "records" not in fresh.ids
    finally:
        heard.unsubscribe()


def test_past_max_ids_a_notice_names_no_rows_of_that_kind(
    baton: Baton, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.store import changes

    Scene(baton)
    monkeypatch.setattr(changes, "MAX_IDS", 1)
    heard = Heard2(baton)
    try:
        with changes.acting_for("bulk"):
            run = baton.runs.start("paths")  # one run, two work items
        bulk = heard.first(lambda c: c.origin == "bulk")
        assert bulk is not None and "work" in bulk, heard.notices
        assert bulk.ids["runs"] == {run.id}
        assert "work" not in bulk.ids  # two items, past the bound: "some work changed"
        assert bulk.rows("work") is None and bulk.touches("work", 12345)
        assert bulk.rows("records") == frozenset()
    finally:
        heard.unsubscribe()


def test_a_notice_fits_postgresqls_payload_limit_and_reads_older_ones() -> None:
    from engine.store.changes import PAYLOAD_LIMIT, Change

    huge = Change(
        {"runs", "work"}, {"runs": range(10**12, 10**12 + 3000), "work": [7]}, origin="me"
    )
    payload = huge.payload()
    assert len(payload.encode()) < PAYLOAD_LIMIT
    back = Change.parse(payload)
    assert back == {"runs", "work"} and dict(back.ids) == {"work": {7}} and back.origin == "me"
    older = Change.parse("runs,work")  # a process of an older version
    assert older == {"runs", "work"} and not older.ids and older.origin is None
    # … and such a process, splitting a notice on commas, still finds every kind in it.
    assert {"runs", "work"} <= set(payload.split(","))
    assert Change.parse("work,{not json") == {"work"} and not Change.parse("work,{x").ids
    assert Change.parse("{not json") == EVERYTHING


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda b: b.directory.create_user("omar"), id="person"),
        pytest.param(lambda b: b.directory.create_group("queue", "night"), id="queue"),
        pytest.param(lambda b: b.directory.add_member("queue", "legal", "alice"), id="member"),
        pytest.param(
            lambda b: b.calendars.define(
                "night", timezone="Europe/London", hours={"mon": [["09:00", "17:00"]]}
            ),
            id="calendar",
        ),
    ],
)
def test_changes_to_the_directory_are_announced(
    baton: Baton, write: Callable[[Baton], Any]
) -> None:
    people(baton)
    heard = Notices(baton)
    try:
        write(baton)
        assert heard.wait_for(frozenset({"directory"})), heard.kinds
    finally:
        heard.unsubscribe()
