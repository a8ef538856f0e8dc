"""Every command, driven with bad arguments and bad files (issue 20; bad databases: ``test_cli_bad_database``).

Each case asserts: a non-zero exit (2 where the command line, a file or the database itself
is unusable), one clear sentence, no traceback, and the database exactly as it was.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from engine.cli.main import main
from engine.errors import InvalidInput
from engine.services.baton import Baton
from engine.store.database import resolve_url
from tests.engine.cli_helpers import dump, run

HUGE = "99999999999999999999999"  # past 64 bits
DIGITS = "9" * 5000  # past what Python turns into text by default (4,300 digits)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """Bad input files, each named for what is wrong with it."""
    folder = tmp_path / "files"
    folder.mkdir()
    types = "format: 1\nobject_types:\n  - name: gadget\n"
    write = {
        "not_utf8.yaml": b"format: 1\nobject_types:\n  - name: x\xff\xfe\n",
        "control.yaml": b"format: 1\nobject_types:\n  - name: a\x01b\n",
        "nul.yaml": b"format: 1\nobject_types:\n  - name: a\x00b\n",
        "surrogate.json": b'{"format": 1, "object_types": [{"name": "\\ud800"}]}',
        "big_int.yaml": (types + f"    fields:\n      - {{name: n, default: {DIGITS}}}\n").encode(),
        "long_label.yaml": (types + f"    label: {'L' * 300}\n").encode(),
        "cal_not_utf8.yaml": b"calendars:\n  - name: \xff\n    timezone: UTC\n",
        "cal_control.yaml": b"calendars:\n  - name: a\x07\n    timezone: UTC\n",
        "cal_per_day.yaml": b"calendars:\n  - {name: x, timezone: UTC, hours_per_day: lots}\n",
        "cal_hours.yaml": b"calendars:\n  - {name: x, timezone: UTC, hours: [1, 2]}\n",
        "cal_holidays.yaml": b"calendars:\n  - {name: x, timezone: UTC, holidays: 5}\n",
        "cal_long.yaml": f"calendars:\n  - {{name: {'c' * 300}, timezone: UTC}}\n".encode(),
        "def_not_utf8.yaml": b"format: 1\nname: \xff\xfe\n",
    }
    for name, content in write.items():
        (folder / name).write_bytes(content)
    (folder / "a_folder").mkdir()
    return folder


# (arguments, exit code, a fragment of the message). {files} and {tmp} are filled in.
CASES: list[tuple[list[str], int, str]] = [
    # ids, limits and versions the database cannot hold, negative limits
    (["runs", "show", HUGE], 2, "argument RUN_ID: 99999999999999999999999 is out of range"),
    (["runs", "show", "-1"], 2, "out of range"),
    (["runs", "show", "x"], 2, "'x' is not an id"),
    (["runs", "list", "--limit", HUGE], 2, "out of range: use 1 to 1,000,000"),
    (["runs", "list", "--limit", "-5"], 2, "out of range"),
    (["runs", "list", "--status", "Running"], 1, "'Running' is not a run status"),
    (["runs", "start", "customer_onboarding", "--record", HUGE], 2, "out of range"),
    (["runs", "cancel", HUGE, "--reason", "x"], 2, "out of range"),
    (["runs", "suspend", "3", HUGE, "--reason", "x"], 2, "out of range"),
    (["runs", "resume", HUGE, "--reason", "x"], 2, "out of range"),
    (["runs", "resume-failed", HUGE, "--reason", "x"], 2, "out of range"),
    (["runs", "retry", HUGE, "--reason", "x"], 2, "out of range"),
    (["runs", "skip", HUGE, "--step", "s", "--reason", "x"], 2, "out of range"),
    (["runs", "jump", HUGE, "--stage", "s", "--reason", "x"], 2, "out of range"),
    (["runs", "migrate", "3", "--to-version", HUGE, "--reason", "x"], 2, "out of range"),
    (["work", "complete", HUGE, "--user", "alice"], 2, "out of range"),
    (["work", "claim", HUGE, "--user", "alice"], 2, "out of range"),
    (["work", "release", HUGE, "--user", "alice"], 2, "out of range"),
    (["work", "reassign", HUGE, "--to", "user:bob", "--reason", "x"], 2, "out of range"),
    (["work", "list", "--user", "nobody"], 1, "no user named 'nobody'"),
    (["records", "update", HUGE, "--set", "x=1"], 2, "out of range"),
    (["records", "list", "customer", "--limit", "-1"], 2, "out of range"),
    (["records", "list", "customer", "--limit", HUGE], 2, "out of range"),
    (["records", "types", "extra"], 2, "unrecognized arguments: extra"),
    (["definitions", "export", "customer_onboarding", "--version", HUGE], 2, "out of range"),
    (["definitions", "activate", "customer_onboarding", "--version", "0"], 2, "out of range"),
    (["definitions", "diff", "customer_onboarding", "1", HUGE], 2, "out of range"),
    (["definitions", "list", "--bogus"], 2, "unrecognized arguments: --bogus"),
    # numbers beyond what a field or JSON holds; values longer than their column
    (
        ["records", "create", "customer", "--set", "name=Big", "--set", "annual_revenue=1e5000"],
        1,
        "annual_revenue: '1e5000' is too large: a number must be between -10^18 and 10^18",
    ),
    (
        ["records", "create", "customer", "--set", "name=Big", "--set", f"annual_revenue={DIGITS}"],
        1,
        "(5,000 characters) is too large",
    ),
    (
        ["records", "create", "customer", "--set", "name=Big", "--set", f"owner={'o' * 300}"],
        1,
        "owner: is 300 characters long; at most 100 fit",
    ),
    (
        ["runs", "start", "customer_onboarding", "--input", "name=X", "--input", "amount=1e5000"],
        1,
        "amount: '1e5000' is too large",
    ),
    (
        ["events", "publish", "e", "--key", "k", "--data", f'{{"a": {DIGITS}}}'],
        1,
        "--data cannot be read: Exceeds the limit (4300 digits)",
    ),
    (
        ["events", "publish", "e", "--key", "k", "--data", '{"a": 1e5000}'],
        1,
        "data.a: inf is not a number that can be stored",
    ),
    (
        ["events", "publish", "e", "--key", "k", "--data", '{"a": "\\ud800"}'],
        1,
        "data.a: contains a character that is not text (a lone surrogate",
    ),
    (
        ["events", "publish", "e" * 300, "--key", "k"],
        1,
        "name: is 300 characters long; at most 100",
    ),
    (["events", "publish", "e", "--key", "k" * 301], 1, "key: is 301 characters long; at most 300"),
    (["events", "publish", "e", "--key", "k", "--data", "[1]"], 1, "must be a JSON object"),
    # output paths that do not exist or are folders
    (
        ["definitions", "export", "customer_onboarding", "-o", "{tmp}/nowhere/x.yaml"],
        2,
        "cannot write {tmp}/nowhere/x.yaml: there is no folder {tmp}/nowhere",
    ),
    (["definitions", "export", "customer_onboarding", "-o", "{tmp}"], 2, "it is a folder"),
    (["definitions", "schema", "-o", "{tmp}/nowhere/s.json"], 2, "there is no folder"),
    (["definitions", "schema", "-o", "/"], 2, "cannot write /: it is a folder"),
    # files that are not text, hold control characters, NUL, lone surrogates, huge numbers
    (["records", "define", "{files}/not_utf8.yaml"], 1, "not_utf8.yaml is not UTF-8 text"),
    (
        ["records", "define", "{files}/control.yaml"],
        1,
        "control.yaml is not valid YAML: line 3, column 12: character #x0001 is not allowed",
    ),
    (["records", "define", "{files}/nul.yaml"], 1, "character #x0000 is not allowed"),
    (
        ["records", "define", "{files}/surrogate.json"],
        1,
        "object_types[0].name: contains a character that is not text",
    ),
    (["records", "define", "{files}/big_int.yaml"], 1, "big_int.yaml cannot be read: Exceeds"),
    (
        ["records", "define", "{files}/long_label.yaml"],
        1,
        "label: is 300 characters long; at most 200 fit",
    ),
    (["records", "define", "{files}/a_folder"], 1, "a_folder is a folder, not a file"),
    (["records", "define", "{files}/missing.yaml"], 1, "cannot read {files}/missing.yaml"),
    (["calendars", "define", "{files}/cal_not_utf8.yaml"], 1, "is not UTF-8 text"),
    (["calendars", "define", "{files}/cal_control.yaml"], 1, "character #x0007 is not allowed"),
    (
        ["calendars", "define", "{files}/cal_per_day.yaml"],
        1,
        "calendars[0].hours_per_day: 'lots' is not a number of hours",
    ),
    (["calendars", "define", "{files}/cal_hours.yaml"], 1, "calendars[0].hours: write"),
    (["calendars", "define", "{files}/cal_holidays.yaml"], 1, "calendars[0].holidays: write"),
    (["calendars", "define", "{files}/cal_long.yaml"], 1, "name: is 300 characters long"),
    (["calendars", "due", "2 business days", "--calendar", "nope"], 1, "no business calendar"),
    (["calendars", "due", "2 business days", "--from", "soon"], 1, "is not an ISO date"),
    (["calendars", "list", "--bogus"], 2, "unrecognized arguments"),
    (["definitions", "validate", "{files}/def_not_utf8.yaml"], 1, "is not UTF-8 text"),
    (["definitions", "review", "{files}/missing.yaml"], 1, "missing.yaml"),
    (["definitions", "import", "{files}/a_folder"], 1, "the file is a folder, not a file"),
    # people: quiet successes that should not be, and unknown names
    (["groups", "remove", "security", "alice"], 1, "alice is not a member of group security"),
    (["queues", "remove", "legal", "frank"], 1, "frank is not a member of queue legal"),
    (["queues", "add", "legal", "nobody"], 1, "no user named 'nobody'"),
    (["groups", "create", "security"], 1, "group 'security' already exists"),
    (["groups", "list", "--bogus"], 2, "unrecognized arguments"),
    (["queues", "list", "--bogus"], 2, "unrecognized arguments"),
    (["users", "create", "x", "--role", "boss"], 2, "invalid choice: 'boss'"),
    (["users", "create", "x", "--name", "N" * 300], 1, "display_name: is 300 characters long"),
    (["groups", "create", "g", "--label", "L" * 300], 1, "label: is 300 characters long; at most"),
    (["users", "show", "nobody"], 1, "no user named 'nobody'"),
    (["users", "list", "--bogus"], 2, "unrecognized arguments"),
    (["users", "set-role", "nobody", "admin"], 1, "no user named 'nobody'"),
    (["users", "set-password", "nobody", "--password-stdin"], 1, "no user named 'nobody'"),
    (["users", "deactivate", "nobody", "--reason", "x"], 1, "no user named 'nobody'"),
    (["users", "activate", "nobody"], 1, "no user named 'nobody'"),
    (["users", "owner", "nobody"], 1, "no user named 'nobody'"),
    (["settings", "smtp", "--host", "h", "--port", HUGE], 2, "out of range: use 1 to 65,535"),
    (["outbox", "list", "--status", "bogus"], 2, "invalid choice: 'bogus'"),
    (
        ["settings", "smtp", "--host", "h", "--ca-file", "{tmp}/none.pem"],
        2,
        "cannot read {tmp}/none",
    ),
    (["settings", "smtp", "--host", "h", "--ca-file", "{files}/a_folder"], 2, "is a folder"),
    # the worker and the demo: no negative, zero or absurd numbers
    (
        ["worker", "--once", "--lease", "-5"],
        2,
        "argument --lease: -5 is out of range: use 1 to 3600 seconds",
    ),
    (["worker", "--once", "--lease", "0"], 2, "out of range"),
    (["worker", "--once", "--lease", "nan"], 2, "out of range"),
    (["worker", "--once", "--interval", "0"], 2, "argument --interval: 0 is out of range"),
    (["worker", "--once", "--interval", "1e400"], 2, "out of range"),
    (
        ["worker", "--once", "--concurrency", "0"],
        2,
        "argument --concurrency: 0 is out of range: use 1 to 256",
    ),
    (["worker", "--once", "--concurrency", "1000"], 2, "out of range"),
    (["worker", "--once", "--concurrency", "4.5"], 2, "is not a whole number"),
    (["demo", "--scale", "-5"], 2, "argument --scale: -5 is out of range"),
    (["demo", "--days", "0"], 2, "argument --days: 0 is out of range"),
    # bytes on the command line that are not UTF-8 reach Python as lone surrogates
    (["runs", "start", "\udcff"], 2, "argument 5 (\\udcff) is not UTF-8 text"),
    (["groups", "create", "g", "--label", "\udcfe"], 2, "is not UTF-8 text"),
]


def _fill(value: str, tmp: Path, files: Path) -> str:
    return value.replace("{tmp}", str(tmp)).replace("{files}", str(files))


@pytest.mark.parametrize(
    ("args", "code", "fragment"), CASES, ids=[" ".join(c[0])[:60] for c in CASES]
)
def test_bad_arguments_and_files(
    args: list[str],
    code: int,
    fragment: str,
    demo_db: str,
    files: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    before = dump(demo_db)
    got, out = run(capsys, demo_db, *(_fill(a, tmp_path, files) for a in args))
    assert got == code, out
    assert _fill(fragment, tmp_path, files) in out
    assert "Traceback" not in out
    assert dump(demo_db) == before


def test_the_worker_service_refuses_a_lease_out_of_range(demo_db: str) -> None:
    baton = Baton(demo_db, actor="admin")
    try:
        for lease in (-5.0, 0.0, float("nan"), float("inf"), 1e9):
            with pytest.raises(InvalidInput, match="out of range"):
                baton.worker.run_once(lease_seconds=lease)
        for concurrency in (0, -1, 257):
            with pytest.raises(InvalidInput, match="out of range: use 1 to 256"):
                baton.worker.run_once(concurrency=concurrency)
    finally:
        baton.close()


# ------------------------------------------------------------ the same on PostgreSQL


def test_every_row_a_service_saves_is_checked_against_its_columns(baton: Baton) -> None:
    """Not only the services that check their input: a row the ORM flushes is checked too,
    so SQLite refuses what PostgreSQL would, naming the column and its length."""
    with pytest.raises(InvalidInput) as refused:
        baton.directory.create_group("group", "g", label="L" * 300)
    assert refused.value.message == "the group cannot be saved"
    assert refused.value.details == ["label: is 300 characters long; at most 200 fit"]
    with pytest.raises(InvalidInput, match="cannot be saved") as refused:
        baton.directory.create_user("x", display_name="a\x00b")
    assert refused.value.details == [
        "display_name: contains a NUL character (\\x00), which cannot be stored"
    ]
    assert not baton.directory.groups("group") and not baton.directory.users()


@pytest.fixture
def pg_demo(postgres_url: str) -> str:
    assert main(["--db", postgres_url, "demo"]) == 0
    return postgres_url


PG_CASES: Sequence[tuple[list[str], str]] = [
    (["events", "publish", "e" * 101, "--key", "k"], "name: is 101 characters long; at most 100"),
    (["events", "publish", "e", "--key", "k" * 301], "key: is 301 characters long; at most 300"),
    (
        ["events", "publish", "e", "--key", "k", "--data", '{"a": "x\\u0000y"}'],
        "data.a: contains a NUL character",
    ),
    (["events", "publish", "e", "--key", "k", "--data", '{"a": 1e5000}'], "data.a: inf is not"),
    (
        ["records", "create", "customer", "--set", "name=Big", "--set", f"owner={'o' * 300}"],
        "owner: is 300 characters long; at most 100 fit",
    ),
    (
        ["records", "create", "customer", "--set", "name=Big", "--set", "annual_revenue=1e5000"],
        "is too large",
    ),
    (["records", "list", "customer", "--limit", "-1"], "out of range"),
    (["runs", "show", HUGE], "out of range"),
    (["groups", "create", "g", "--label", "L" * 300], "label: is 300 characters long; at most 200"),
    (["users", "create", "x", "--name", "N" * 300], "display_name: is 300 characters long"),
]


@pytest.mark.postgres
def test_postgresql_refuses_alike(
    pg_demo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long_label = tmp_path / "long.yaml"
    long_label.write_text(f"format: 1\nobject_types:\n  - name: gadget\n    label: {'L' * 300}\n")
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text(f"calendars:\n  - {{name: {'c' * 300}, timezone: UTC}}\n")
    cases = [
        *PG_CASES,
        (["records", "define", str(long_label)], "label: is 300 characters long; at most 200"),
        (["calendars", "define", str(calendar)], "name: is 300 characters long; at most 100"),
    ]
    before = dump(pg_demo)
    absent = pg_demo.rsplit("/", 1)[0] + "/no_such_database"
    code, out = run(capsys, absent, "runs", "list")
    assert code == 2 and "cannot reach the database postgresql://" in out, out
    assert 'database "no_such_database" does not exist' in out and "Traceback" not in out
    for args, says in cases:
        code, out = run(capsys, pg_demo, *args)
        assert code in (1, 2), (args, out)
        assert says in out and "Traceback" not in out, (args, out)
    assert dump(pg_demo) == before
    engine = create_engine(resolve_url(pg_demo), poolclass=NullPool)
    with engine.connect() as connection:  # nothing half-written either
        assert (
            connection.execute(select(text("count(*)")).select_from(text("events"))).scalar() == 0
        )
    engine.dispose()
