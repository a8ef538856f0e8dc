"""``baton``: the command line. Every command goes through the service API.

With no command it opens the desktop app.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

# Only what building the parser needs: each command imports the engine it uses when it runs,
# so 'baton --help' and a mistyped argument answer without loading SQLAlchemy.
from engine.cli import arguments, commands, people
from engine.cli import runs as runs_cli
from engine.cli import salesforce as salesforce_cli
from engine.cli import scenarios as scenarios_cli
from engine.cli.output import UsageError, error
from engine.errors import BatonError
from engine.files import UnreadableFile

Handler = Callable[[argparse.Namespace], int]


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for programs")


def _global_options(parser: argparse.ArgumentParser, default: Any) -> argparse.ArgumentParser:
    parser.add_argument(
        "--db",
        metavar="URL",
        default=default,
        help="database URL or SQLite file (default: $BATON_DATABASE_URL, "
        "else baton.sqlite3 in your data directory)",
    )
    parser.add_argument(
        "--as",
        dest="actor",
        metavar="USER",
        default=default,
        help="act as this user (recorded in the log)",
    )
    return parser


# --db and --as are taken after the command too (``baton runs start X --as admin``). Their
# default there is SUPPRESS, so a command that does not repeat them keeps the ones given
# before it.
_AFTER = _global_options(argparse.ArgumentParser(add_help=False), argparse.SUPPRESS)


def _add(sub: Any, name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help_text, description=help_text, parents=[_AFTER]
    )
    parser.set_defaults(handler=handler)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baton",
        description="Baton: long-running business processes that pass between people and systems.",
        epilog="With no command, baton opens the desktop app.",
    )
    _global_options(parser, None)
    groups = parser.add_subparsers(dest="group", metavar="COMMAND")

    db = groups.add_parser("db", help="the database").add_subparsers(dest="command", required=True)
    _add(db, "upgrade", commands.db_upgrade, "create or upgrade the database schema")
    _json_flag(_add(db, "status", commands.db_status, "show the database and its schema version"))

    defs = groups.add_parser("definitions", help="orchestration definitions").add_subparsers(
        dest="command", required=True
    )
    p = _add(
        defs,
        "validate",
        commands.definitions_validate,
        "check definition files; exit 1 on problems",
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p = _add(defs, "diff", commands.definitions_diff, "what changed between two versions")
    p.add_argument("name")
    p.add_argument("old", type=arguments.version, metavar="OLD")
    p.add_argument("new", type=arguments.version, metavar="NEW")
    p = _add(defs, "review", commands.definitions_review, "design review: what will run badly")
    p.add_argument("files", nargs="+", metavar="FILE")
    p = _add(
        defs, "import", commands.definitions_import, "store definition files as new draft versions"
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--activate", action="store_true", help="activate the imported versions")
    salesforce_cli.add_parser(defs, _add)
    p = _add(defs, "export", commands.definitions_export, "write a version out as a file")
    p.add_argument("name")
    p.add_argument("--version", type=arguments.version, help="version number (default: the latest)")
    p.add_argument(
        "-o", "--output", metavar="FILE", help="file to write (default: standard output)"
    )
    p.add_argument(
        "--format", choices=["yaml", "json"], help="default: from the file name, else yaml"
    )
    _json_flag(
        _add(defs, "list", commands.definitions_list, "list orchestrations and their versions")
    )
    p = _add(defs, "activate", commands.definitions_activate, "make a version the one new runs use")
    p.add_argument("name")
    p.add_argument("--version", type=arguments.version, help="version number (default: the latest)")
    p = _add(
        defs, "schema", commands.definitions_schema, "print the JSON Schema of definition files"
    )
    p.add_argument("-o", "--output", metavar="FILE")

    runs = groups.add_parser("runs", help="orchestration runs").add_subparsers(
        dest="command", required=True
    )
    p = _add(runs, "start", runs_cli.runs_start, "start a run of an orchestration's active version")
    p.add_argument("name")
    p.add_argument(
        "--input", action="append", default=[], metavar="NAME=VALUE", help="an input variable"
    )
    p.add_argument(
        "--record", type=arguments.ident, metavar="ID", help="the record the run is about"
    )
    _json_flag(p)
    p = _add(runs, "list", runs_cli.runs_list, "list runs, newest first")
    p.add_argument("--status", help="InProgress, Suspended, Completed, Canceled or Error")
    p.add_argument("--orchestration", metavar="NAME")
    p.add_argument("--limit", type=arguments.limit, default=50)
    _json_flag(p)
    p = _add(runs, "show", runs_cli.runs_show, "a run's stages, steps, work and history")
    p.add_argument("run_id", type=arguments.ident, metavar="RUN_ID")
    _json_flag(p)
    for name, handler, help_text in (
        ("cancel", runs_cli.runs_cancel, "cancel runs"),
        (
            "suspend",
            runs_cli.runs_suspend,
            "suspend runs: no step starts or finishes until resumed",
        ),
        ("resume", runs_cli.runs_resume, "resume suspended runs"),
        (
            "resume-failed",
            runs_cli.runs_resume_failed,
            "resume failed runs: the failed steps of the stage they failed in run again",
        ),
        ("retry", runs_cli.runs_retry, "retry a failed step, resuming its run"),
        ("skip", runs_cli.runs_skip, "skip a step of the current stage, supplying its outputs"),
        ("jump", runs_cli.runs_jump, "leave the current stage and enter another"),
        ("migrate", runs_cli.runs_migrate, "move runs to another activated version"),
    ):
        p = _add(runs, name, handler, help_text)
        p.add_argument(
            "run_ids",
            type=arguments.ident,
            nargs="+",
            metavar="RUN_ID",
            help="one run, or several: each is done or refused on its own",
        )
        p.add_argument("--reason", required=True, help="why: kept in each run's log")
        if name == "retry":
            p.add_argument("--step", help="which failed step (default: every failed one)")
        if name == "skip":
            p.add_argument("--step", required=True)
            p.add_argument(
                "--output",
                action="append",
                default=[],
                metavar="NAME=VALUE",
                help="an output of the skipped step; the value is read as JSON where it can be",
            )
        if name == "jump":
            p.add_argument("--stage", required=True, help="the stage to enter")
        if name == "migrate":
            p.add_argument("--to-version", type=arguments.version, required=True, metavar="N")
    p = _add(runs, "set", runs_cli.runs_set, "change a run's variables (then retry what failed)")
    p.add_argument("run_id", type=arguments.ident, metavar="RUN_ID")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="values")
    p.add_argument("--reason", required=True, help="why: kept in the run's log")

    work = groups.add_parser("work", help="work items").add_subparsers(
        dest="command", required=True
    )
    p = _add(
        work, "list", commands.work_list, "open work items (of a user, their groups and queues)"
    )
    p.add_argument("--user", metavar="U")
    p.add_argument("--all", action="store_true", help="include completed and canceled items")
    _json_flag(p)
    p = _add(work, "complete", commands.work_complete, "submit a work item's form")
    p.add_argument("item_id", type=arguments.ident, metavar="ITEM_ID")
    p.add_argument("--user", required=True, metavar="U")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", dest="values")
    p.add_argument("--outcome", help="the form's outcome button, e.g. approve")
    p.add_argument("--comment", metavar="C")
    p = _add(work, "reassign", commands.work_reassign, "give work items to someone else")
    p.add_argument("item_ids", type=arguments.ident, nargs="+", metavar="ITEM_ID")
    p.add_argument("--to", required=True, help="user:NAME, queue:NAME or group:NAME")
    p.add_argument("--reason", required=True)
    for name, handler in (("claim", commands.work_claim), ("release", commands.work_release)):
        p = _add(work, name, handler, f"{name} a group or queue item")
        p.add_argument("item_id", type=arguments.ident, metavar="ITEM_ID")
        p.add_argument("--user", required=True, metavar="U")

    records = groups.add_parser("records", help="records").add_subparsers(
        dest="command", required=True
    )
    p = _add(records, "create", commands.records_create, "create a record (fires record triggers)")
    p.add_argument("object")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", dest="values")
    _json_flag(p)
    p = _add(records, "update", commands.records_update, "update a record (fires record triggers)")
    p.add_argument("record_id", type=arguments.ident, metavar="ID")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", dest="values")
    _json_flag(p)
    p = _add(records, "list", commands.records_list, "list records of an object type")
    p.add_argument("object")
    p.add_argument("--limit", type=arguments.limit, default=100)
    _json_flag(p)
    _json_flag(_add(records, "types", commands.records_types, "list object types"))
    p = _add(
        records, "define", commands.records_define, "create or replace object types from a file"
    )
    p.add_argument("file")

    events = groups.add_parser("events", help="external events").add_subparsers(
        dest="command", required=True
    )
    p = _add(
        events, "publish", commands.events_publish, "publish an event to the step waiting for it"
    )
    p.add_argument("name")
    p.add_argument("--key", required=True, help="correlation key")
    p.add_argument("--data", help="a JSON object")

    people.add_parsers(groups, _add, _json_flag)
    scenarios_cli.add_parser(groups, [_AFTER])

    p = groups.add_parser(
        "worker", help="run background steps, timers and e-mail", parents=[_AFTER]
    )
    p.set_defaults(handler=commands.worker)
    p.add_argument("--once", action="store_true", help="do everything due now, then exit")
    p.add_argument(
        "--interval",
        type=arguments.interval,
        default=1.0,
        help="seconds between passes, 0.1 to 3600 (default 1)",
    )
    p.add_argument(
        "--lease",
        type=arguments.lease,
        help="seconds a step is held between heartbeats, 1 to 3600 (default 30)",
    )
    p.add_argument(
        "--concurrency",
        type=arguments.concurrency,
        default=16,
        help="external actions (HTTP, Python) run at once, 1 to 256 (default 16)",
    )

    p = groups.add_parser(
        "demo", help="load the demo orchestrations, people, records and runs", parents=[_AFTER]
    )
    p.add_argument(
        "--scale",
        type=arguments.whole(0, 10_000_000),
        default=0,
        metavar="N",
        help="also generate N runs of history (failures, loops, overdue work) for the console",
    )
    p.add_argument(
        "--days",
        type=arguments.whole(1, 36_500),
        default=180,
        help="over how many days (default 180)",
    )
    p.set_defaults(handler=commands.demo)
    return parser


def _not_text(argv: Sequence[str]) -> str | None:
    """Bytes on the command line that are not UTF-8 reach Python as lone surrogates, which no
    database can store: say which argument, before anything is opened."""
    for number, arg in enumerate(argv, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "backslashreplace").decode("ascii", "replace")
            return f"argument {number} ({shown[:60]}) is not UTF-8 text"
        if "\x00" in arg:
            return f"argument {number} holds a NUL character"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    problem = _not_text(sys.argv[1:] if argv is None else argv)
    if problem:
        error(problem)
        return 2
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse has printed: its exit code
        return exc.code if isinstance(exc.code, int) else 2
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None and args.group is not None:
        error(f"name a command: see baton {args.group} --help")
        return 2
    from sqlalchemy.exc import SQLAlchemyError

    from engine.store.database import DatabaseError, explain

    # The one place where what went wrong becomes a message: bad input and unusable databases
    # or files are exit 2 with one sentence; a refusal by the service keeps its own code.
    try:
        return int((handler or commands.open_app)(args))
    except BatonError as exc:
        error(exc.describe())
        return exc.exit_code
    except (DatabaseError, UnreadableFile, UsageError) as exc:
        error(str(exc))
        return 2
    except SQLAlchemyError as exc:  # met after opening: a file damaged since, a lost server
        error(explain(exc, describe_db(args), "the database {place} failed: {text}"))
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    finally:
        commands.close_databases()


def describe_db(args: argparse.Namespace) -> str:
    from engine.store.database import describe_url, resolve_url, sqlite_file

    url = resolve_url(args.db)
    return sqlite_file(url) or describe_url(url)


if __name__ == "__main__":
    sys.exit(main())
