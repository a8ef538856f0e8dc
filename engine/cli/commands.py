"""The CLI's commands: parse arguments into service calls and print the results."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from engine.cli.output import print_json, table, when, write_file
from engine.errors import BatonError, InvalidInput

if TYPE_CHECKING:  # imported where a command runs: 'baton --help' never loads SQLAlchemy
    from engine.services.baton import Baton
    from engine.store.database import Database

_OPEN: list[Database] = []


def _opened(db: Database) -> Database:
    _OPEN.append(db)
    return db


def close_databases() -> None:
    """Close what the command opened (main calls it after every command, so an in-process
    caller is left with no connections and a SQLite file with its log checkpointed)."""
    while _OPEN:
        _OPEN.pop().dispose()


def open_baton(
    args: argparse.Namespace,
    *,
    upgrade: bool | None = None,
    create: bool = False,
    connections: int = 0,
) -> Baton:
    """The service, acting as --as USER, else as the install's owner, else as the system.

    Only the commands that set a database up (``db upgrade``, ``demo``, the first launch)
    ``create`` a SQLite file; any other command on a missing one says so and makes nothing.
    """
    from engine.services.baton import Baton
    from engine.store.database import Database

    # ``connections``: kept open to a shared database (at least the pool's own size).
    db = _opened(Database(args.db, create=create, connections=connections))
    baton = Baton(actor=args.actor, upgrade=upgrade, database=db)
    if args.actor is None:
        owner = baton.directory.owner()
        if owner:
            baton = baton.as_user(owner)
    return baton


_baton = open_baton


def _as(args: argparse.Namespace, user: str) -> Baton:
    """Work commands act as the person named by --user. The command line has no sign-in: it
    trusts whoever can reach the database (the desktop app signs people in)."""
    return open_baton(args).as_user(user)


def pairs(items: list[str], what: str) -> dict[str, str]:
    values: dict[str, str] = {}
    problems = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            problems.append(f"'{item}': write {what} as name=value")
            continue
        values[name.strip()] = value
    if problems:
        raise InvalidInput(f"cannot read the {what}s", problems)
    return values


# ---------------------------------------------------------------- db


def db_upgrade(args: argparse.Namespace) -> int:
    baton = _baton(args, upgrade=True, create=True)
    state = baton.db.schema_state()
    print(f"{baton.db.display_url} is at schema {state.current} (latest)")
    return 0


def db_status(args: argparse.Namespace) -> int:
    from engine.store.database import Database, DatabaseError

    db = _opened(Database(args.db, create=False))
    state = db.schema_state()
    problem = db.schema_problem(state)
    if problem:  # 'baton db upgrade' would refuse it too: say what it is instead
        raise DatabaseError(problem)
    info = {
        "database": db.display_url,
        "schema": state.current,
        "latest": state.head,
        "up_to_date": state.up_to_date,
    }
    if args.json:
        print_json(info)
    else:
        print(
            f"database: {info['database']}\nschema:   {state.current or '(empty)'}"
            f"{'' if state.up_to_date else f'  (latest is {state.head}: run baton db upgrade)'}"
        )
    return 0


# ---------------------------------------------------------------- definitions


def definitions_validate(args: argparse.Namespace) -> int:
    from engine.services.definitions import DefinitionsService

    failed = 0
    for path in args.files:
        try:
            definition = DefinitionsService.validate_file(path)
        except InvalidInput as exc:
            failed += 1
            print(f"{path}: {exc.message}")
            for detail in exc.details:
                print(f"  {detail}")
            continue
        print(f"{path}: ok ({definition.name}, {len(definition.stages())} stages)")
    return 1 if failed else 0


def definitions_diff(args: argparse.Namespace) -> int:
    changes = _baton(args).definitions.diff(args.name, args.old, args.new)
    print(
        f"{args.name}: version {args.old} → {args.new}: "
        f"{len(changes) or 'no'} change{'s' if len(changes) != 1 else ''}"
    )
    for change in changes:
        print(f"  {change.describe()}")
    return 0


def definitions_review(args: argparse.Namespace) -> int:
    """Design review of files: findings with severity and a fix; exit 1 on critical ones."""
    from engine.definitions import DefinitionError
    from engine.definitions.loading import load_file_located
    from engine.definitions.review import locate, review
    from engine.services.definitions import definition_error

    definitions = []
    for path in args.files:
        try:  # the raw file too: it knows the line and column of each finding
            definitions.append((path, *load_file_located(path)))
        except DefinitionError as exc:
            raise definition_error(exc) from None
    queues = _queue_members(args)
    critical = False
    for path, definition, raw in definitions:
        findings = locate(review(definition, queue_members=queues), raw)
        print(f"{path}: {len(findings) or 'no'} finding{'s' if len(findings) != 1 else ''}")
        for finding in findings:
            place = ".".join(p for p in (finding.element, finding.step) if p)
            at = f"{finding.position}: " if finding.position else ""
            print(
                f"  {at}{finding.severity.value:<8} {place + ': ' if place else ''}{finding.message}"
            )
            print(f"           fix: {finding.fix}")
            critical = critical or finding.severity.value == "critical"
    return 1 if critical else 0


def _queue_members(args: argparse.Namespace) -> dict[str, int] | None:
    """Each queue's active members, from the database when it can be read (so review can flag
    work sent to an empty queue); None, said in a line, when it cannot."""
    from engine.store.database import DatabaseError

    try:
        directory = open_baton(args).directory
        active = {u.username for u in directory.users() if u.active}
        return {q.name: sum(1 for m in q.members if m in active) for q in directory.groups("queue")}
    except (BatonError, DatabaseError) as exc:
        reason = exc.message if isinstance(exc, BatonError) else str(exc)
        print(f"note: queues are not checked for members: {reason}")
        return None


def definitions_import(args: argparse.Namespace) -> int:
    from engine.services.definitions import DefinitionsService

    # Check every file before storing any, so a bad file leaves nothing half-imported.
    problems = []
    for path in args.files:
        try:
            DefinitionsService.validate_file(path)
        except InvalidInput as exc:
            problems.append(exc)
    if problems:
        for problem in problems:
            print(problem.describe())
        return 1
    baton = _baton(args)
    for path in args.files:
        version = baton.definitions.import_file(path, activate=args.activate)
        print(f"{path}: {version.orchestration} version {version.number} ({version.status})")
    return 0


def definitions_export(args: argparse.Namespace) -> int:
    fmt = args.format or ("json" if (args.output or "").endswith(".json") else "yaml")
    text = _baton(args).definitions.export(args.name, args.version, fmt=fmt)
    if args.output:
        write_file(args.output, text)
        print(f"wrote {args.output}")
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return 0


def definitions_list(args: argparse.Namespace) -> int:
    items = _baton(args).definitions.list()
    if args.json:
        print_json(items)
        return 0
    table(
        ["NAME", "LABEL", "TYPE", "ACTIVE", "LATEST", "RUNS"],
        [
            (
                o.name,
                o.label,
                o.type,
                o.active_version or "-",
                o.latest_version,
                sum(v.runs for v in o.versions),
            )
            for o in items
        ],
        empty="no orchestrations yet: import one with baton definitions import FILE",
    )
    return 0


def definitions_activate(args: argparse.Namespace) -> int:
    version = _baton(args).definitions.activate(args.name, args.version)
    print(f"{version.orchestration} version {version.number} is active")
    return 0


def definitions_schema(args: argparse.Namespace) -> int:
    from engine.definitions import json_schema

    text = json.dumps(json_schema(), indent=2)
    if args.output:
        write_file(args.output, text + "\n")
        print(f"wrote {args.output}")
    else:
        print(text)
    return 0


# ---------------------------------------------------------------- work


def work_list(args: argparse.Namespace) -> int:
    items = _baton(args).work.list(user=args.user, include_closed=args.all)
    if args.json:
        print_json(items)
        return 0
    table(
        ["ITEM", "TITLE", "ORCHESTRATION", "RUN", "STATUS", "ASSIGNED TO", "CLAIMED BY", "DUE"],
        [
            (
                w.id,
                w.title,
                w.orchestration,
                w.run_id,
                w.status,
                f"{w.assignee_kind} {w.assignee}",
                w.claimed_by or "",
                when(w.due_at),
            )
            for w in items
        ],
        empty="no open work",
    )
    return 0


def work_complete(args: argparse.Namespace) -> int:
    item = _as(args, args.user).work.complete(
        args.item_id,
        pairs(args.values, "field"),
        user=args.user,
        outcome=args.outcome,
        comment=args.comment,
    )
    print(f"work item {item.id} ({item.title}) completed by {item.completed_by}")
    return 0


def work_claim(args: argparse.Namespace) -> int:
    item = _as(args, args.user).work.claim(args.item_id, user=args.user)
    print(f"work item {item.id} is claimed by {item.claimed_by}")
    return 0


def work_reassign(args: argparse.Namespace) -> int:
    outcomes = _baton(args).work.reassign(args.item_ids, args.to, args.reason)
    for outcome in outcomes:
        mark = "done   " if outcome.done else "refused"
        print(f"{mark} item {outcome.item_id}: {outcome.message}")
    return 0 if all(o.done for o in outcomes) else 1


def work_release(args: argparse.Namespace) -> int:
    item = _as(args, args.user).work.release(args.item_id, user=args.user)
    print(f"work item {item.id} is released to {item.assignee_kind} {item.assignee}")
    return 0


# ---------------------------------------------------------------- records


def _print_record(record: Any, as_json: bool) -> None:
    if as_json:
        print_json(record)
    else:
        print(f"{record.object_type} {record.id}: {record.title} (version {record.row_version})")


def records_create(args: argparse.Namespace) -> int:
    _print_record(_baton(args).records.create(args.object, pairs(args.values, "field")), args.json)
    return 0


def records_update(args: argparse.Namespace) -> int:
    _print_record(
        _baton(args).records.update(args.record_id, pairs(args.values, "field")), args.json
    )
    return 0


def records_list(args: argparse.Namespace) -> int:
    records = _baton(args).records.list(args.object, limit=args.limit)
    if args.json:
        print_json(records)
        return 0
    table(
        ["ID", "TITLE", "OWNER", "UPDATED"],
        [(r.id, r.title, r.owner, when(r.updated_at)) for r in records],
        empty=f"no {args.object} records",
    )
    return 0


def records_types(args: argparse.Namespace) -> int:
    types = _baton(args).records.types()
    if args.json:
        print_json(types)
        return 0
    table(
        ["NAME", "LABEL", "FIELDS"],
        [(t.name, t.label, ", ".join(f["name"] for f in t.fields)) for t in types],
    )
    return 0


def records_define(args: argparse.Namespace) -> int:
    for info in _baton(args).records.define_types_from_file(args.file):
        print(f"object type {info.name}: {len(info.fields)} fields")
    return 0


# ---------------------------------------------------------------- events, users, worker, demo


def events_publish(args: argparse.Namespace) -> int:
    data: Any = None
    if args.data:
        try:
            data = json.loads(args.data)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"--data is not valid JSON: {exc.msg} at character {exc.pos}"
            ) from None
        except ValueError as exc:  # e.g. an integer of thousands of digits
            raise InvalidInput(f"--data cannot be read: {str(exc).split(';')[0]}") from None
    event = _baton(args).events.publish(args.name, args.key, data)
    target = (
        f"delivered to step run {event.consumed_by_step_run_id}"
        if event.consumed_by_step_run_id
        else "stored until a step waits for it"
    )
    print(f"event {event.id} {event.name} [{event.key}]: {target}")
    return 0


def worker(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    # One connection for each call in flight, and for the pass, the heartbeat and the notices:
    # a smaller pool would open and close one for most transactions (a costly PostgreSQL start).
    baton = _baton(args, connections=args.concurrency + 4)
    lease = args.lease
    if args.once:
        report = baton.worker.run_once(lease_seconds=lease, concurrency=args.concurrency)
        print(
            f"ran {report.steps_run} step(s), fired {report.timers_fired} escalation(s), "
            f"sent {report.messages_sent} e-mail(s)"
        )
        for problem in report.errors:
            print(f"  problem: {problem}")
        return 1 if report.errors else 0
    stop = threading.Event()
    wake = threading.Event()

    def on_signal(*_: object) -> None:
        stop.set()
        wake.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)

    # Woken at once by new background work (from any process on PostgreSQL).
    def on_change(kinds: frozenset[str]) -> None:
        if kinds & {"background", "outbox"}:
            wake.set()

    unsubscribe = baton.subscribe(on_change)
    print(f"worker running on {baton.db.display_url}; Ctrl+C to stop", flush=True)
    pause = args.interval
    while not stop.is_set():
        wake.clear()
        try:
            report = baton.worker.run_once(lease_seconds=lease, concurrency=args.concurrency)
        except (BatonError, SQLAlchemyError, OSError) as exc:
            # The database went away (a restart, a network cut): say so, wait, carry on.
            message = exc.describe() if isinstance(exc, BatonError) else str(exc).splitlines()[0]
            print(f"problem: {message}; trying again in {pause:g}s", flush=True)
            wake.wait(pause)
            pause = min(pause * 2, 30.0)
            continue
        pause = args.interval
        for problem in report.errors:
            print(f"problem: {problem}", flush=True)
        if not report.did_anything:
            wake.wait(args.interval)
    unsubscribe()
    print("worker stopped", flush=True)
    return 0


def demo(args: argparse.Namespace) -> int:
    from engine.clients.demo import load_demo

    baton = _baton(args, create=True)
    for line in load_demo(baton):
        print(line)
    if args.scale:
        import time

        from engine.clients.history import generate_history

        began = time.monotonic()

        def progress(made: int) -> None:
            print(f"\r  {made:,} of {args.scale:,} runs", end="", file=sys.stderr, flush=True)

        lines = generate_history(baton, args.scale, days=args.days, progress=progress)
        print(file=sys.stderr)
        for line in lines:
            print(f"{line} in {time.monotonic() - began:.0f} s")
    return 0


def open_app(args: argparse.Namespace) -> int:
    """Until the desktop app lands: set up the database, load the demo once, say what next."""
    from engine.clients.demo import load_demo

    baton = _baton(args, create=True)
    if not baton.definitions.list():
        for line in load_demo(baton):
            print(line)
    print(f"\nBaton's database: {baton.db.display_url}")
    print(
        "The desktop app is not part of this build yet; the command line does everything:\n"
        "  baton work list --user alice          alice's inbox\n"
        "  baton runs list                       every run, newest first\n"
        "  baton runs show 3                     a run's stages, work and history\n"
        "  baton --help                          all commands"
    )
    return 0
