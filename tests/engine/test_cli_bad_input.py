"""Every command, driven with bad arguments, bad files and bad databases (issue 20).

Each case asserts: a non-zero exit (2 where the command line, a file or the database itself
is unusable), one clear sentence, no traceback, and the database exactly as it was.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.pool import NullPool

from engine.cli.main import main
from engine.errors import DatabaseDamaged, InvalidInput
from engine.services.baton import Baton
from engine.store.database import resolve_url
from tests.conftest import RESOURCES

ONBOARDING = str(RESOURCES / "definitions" / "customer_onboarding.yaml")
HUGE = "99999999999999999999999"  # past 64 bits
DIGITS = "9" * 5000  # past what Python turns into text by default (4,300 digits)


def dump(url: str) -> str:
    """A checksum of every row of every table: equal before and after means unchanged."""
    engine = create_engine(resolve_url(url), poolclass=NullPool)
    digest = hashlib.sha256()
    try:
        with engine.connect() as connection:
            for table in sorted(inspect(connection).get_table_names()):
                rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
                digest.update(table.encode())
                for row in sorted(repr(tuple(r)) for r in rows):
                    digest.update(row.encode())
    finally:
        engine.dispose()
    return digest.hexdigest()


def run(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> tuple[int, str]:
    code = main(["--db", db, *args])
    out, err = capsys.readouterr()
    return code, out + err


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    assert main(["--db", str(path), "demo"]) == 0
    with sqlite3.connect(path) as connection:  # all of it in the file itself, for copying
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "baton.sqlite3"
    shutil.copy(demo_template, path)
    return str(path)


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


# One line per command that opens the database: each meets every kind of unusable file.
EVERY_COMMAND: list[list[str]] = [
    ["db", "upgrade"],
    ["db", "status"],
    ["definitions", "diff", "x", "1", "2"],
    ["definitions", "import", ONBOARDING],
    ["definitions", "export", "x"],
    ["definitions", "list"],
    ["definitions", "activate", "x"],
    ["runs", "start", "x"],
    ["runs", "list"],
    ["runs", "show", "1"],
    ["runs", "cancel", "1", "--reason", "r"],
    ["runs", "suspend", "1", "--reason", "r"],
    ["runs", "resume", "1", "--reason", "r"],
    ["runs", "resume-failed", "1", "--reason", "r"],
    ["runs", "retry", "1", "--reason", "r"],
    ["runs", "skip", "1", "--step", "s", "--reason", "r"],
    ["runs", "jump", "1", "--stage", "s", "--reason", "r"],
    ["runs", "migrate", "1", "--to-version", "2", "--reason", "r"],
    ["work", "list"],
    ["work", "complete", "1", "--user", "u"],
    ["work", "reassign", "1", "--to", "user:u", "--reason", "r"],
    ["work", "claim", "1", "--user", "u"],
    ["work", "release", "1", "--user", "u"],
    ["records", "create", "x"],
    ["records", "update", "1"],
    ["records", "list", "x"],
    ["records", "types"],
    ["records", "define", str(RESOURCES / "demo" / "object_types.yaml")],
    ["events", "publish", "e", "--key", "k"],
    ["users", "list"],
    ["users", "show", "u"],
    ["users", "create", "u"],
    ["users", "set-password", "u", "--password-stdin"],
    ["users", "set-role", "u", "admin"],
    ["users", "deactivate", "u", "--reason", "r"],
    ["users", "activate", "u"],
    ["users", "owner"],
    ["groups", "list"],
    ["groups", "create", "g"],
    ["groups", "add", "g", "u"],
    ["groups", "remove", "g", "u"],
    ["queues", "list"],
    ["queues", "create", "q"],
    ["queues", "add", "q", "u"],
    ["queues", "remove", "q", "u"],
    ["calendars", "list"],
    ["calendars", "define", "/dev/null"],
    ["calendars", "due", "1 hour"],
    ["settings", "smtp"],
    ["outbox", "list"],
    ["worker", "--once"],
    ["demo"],
]


def _damaged_files(folder: Path, template: Path) -> dict[str, Path]:
    good = template.read_bytes()
    made = {
        "random bytes": os.urandom(8192),
        "truncated": good[:3000],
        "a text file": b"hello, world\n" * 100,
        "a header then garbage": b"SQLite format 3\x00" + os.urandom(8000),
    }
    paths = {}
    for name, content in made.items():
        path = folder / f"{name.replace(' ', '_')}.sqlite3"
        path.write_bytes(content)
        paths[name] = path
    return paths


def test_every_command_on_a_damaged_or_foreign_file(
    demo_template: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n" * 1000))
    for kind, path in _damaged_files(tmp_path, demo_template).items():
        content = path.read_bytes()
        for args in EVERY_COMMAND:
            code, out = run(capsys, str(path), *args)
            assert code == 2, (kind, args, out)
            assert f"{path} is not a SQLite database, or it is damaged" in out, (kind, args, out)
            assert "Traceback" not in out
        assert path.read_bytes() == content, kind


def test_the_service_says_a_damaged_file_is_damaged(tmp_path: Path) -> None:
    """The app offers another database on this exception type."""
    path = tmp_path / "damaged.sqlite3"
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(8000))
    with pytest.raises(DatabaseDamaged, match="is not a SQLite database, or it is damaged"):
        Baton(str(path))


def test_every_command_on_a_mistyped_path_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n" * 1000))
    missing = tmp_path / "typo" / "deeper" / "baton.sqlite3"
    for args in EVERY_COMMAND:
        if args[:2] in (["db", "upgrade"], ["demo"]):
            continue  # they set a database up: that is their job
        code, out = run(capsys, str(missing), *args)
        assert code == 2, (args, out)
        assert f"there is no database at {missing}: check the path" in out, (args, out)
        assert not (tmp_path / "typo").exists(), args
    code, out = run(capsys, str(missing), "db", "upgrade")
    assert code == 0 and missing.exists()


def test_a_folder_as_the_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["runs", "list"], ["db", "status"], ["db", "upgrade"]):
        code, out = run(capsys, str(tmp_path), *args)
        assert code == 2 and f"{tmp_path} is a folder, not a database file" in out, out


def _make_read_only(path: Path) -> str:
    """The database made read-only for real (the file's mode, or for root the immutable
    flag); where neither holds, SQLite's own read-only mode."""
    path.chmod(0o444)
    if os.access(path, os.W_OK) and shutil.which("chattr"):
        subprocess.run(["chattr", "+i", str(path)], check=False, capture_output=True)
    try:
        with open(path, "r+b"):
            pass
    except OSError:
        return str(path)
    return f"sqlite:///file:{path}?mode=ro&uri=true"


def test_a_read_only_database_is_said_to_be_read_only(
    demo_template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "read_only.sqlite3"
    shutil.copy(demo_template, path)
    before = dump(str(path))
    db = _make_read_only(path)
    try:
        code, out = run(capsys, db, "runs", "list")
        assert code == 0 and "refund_request" in out  # reading is fine
        code, out = run(capsys, db, "records", "create", "customer", "--set", "name=Ro")
        assert code == 2, out
        assert "is read-only: nothing was changed" in out and "Traceback" not in out
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False, capture_output=True)
        path.chmod(0o644)
    assert dump(str(path)) == before


def test_a_database_in_a_read_only_folder_says_so(
    demo_template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A read-only mount: SQLite cannot make the -wal and -shm files it needs beside it."""
    folder = tmp_path / "mount"
    folder.mkdir()
    path = folder / "baton.sqlite3"
    shutil.copy(demo_template, path)
    folder.chmod(0o555)
    if os.access(folder, os.W_OK) and shutil.which("chattr"):  # root: the immutable flag
        subprocess.run(["chattr", "+i", str(folder)], check=False, capture_output=True)
    try:
        for args in (["runs", "list"], ["records", "create", "customer", "--set", "name=x"]):
            code, out = run(capsys, str(path), *args)
            assert code == 2, out
            assert f"cannot open {path}: SQLite could not open it or create its -wal" in out
            assert "Traceback" not in out
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=False, capture_output=True)
        folder.chmod(0o755)
    assert path.read_bytes() == demo_template.read_bytes()


def test_a_database_locked_by_another_program_at_open(
    demo_template: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("engine.store.database.BUSY_TIMEOUT_SECONDS", 0.1)
    path = tmp_path / "locked.sqlite3"
    shutil.copy(demo_template, path)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("SELECT count(*) FROM runs").fetchall()
        for args in (["runs", "list"], ["db", "status"], ["records", "types"]):
            code, out = run(capsys, str(path), *args)
            assert code == 2, out
            assert f"another program holds {path}: nothing was changed" in out
            assert "cannot reach" not in out and "Traceback" not in out
    finally:
        holder.close()


@pytest.fixture
def other_tables(tmp_path: Path) -> str:
    path = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    return str(path)


def test_db_status_on_a_foreign_or_newer_database_does_not_suggest_upgrading(
    other_tables: str, demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(demo_db) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    for db, says in (
        (other_tables, "is not a Baton database (it has other tables)"),
        (demo_db, "was set up by a newer Baton (schema 9999); update Baton to use it"),
    ):
        before = dump(db)
        for args in (["db", "status"], ["db", "upgrade"], ["runs", "list"]):
            code, out = run(capsys, db, *args)
            assert code == 2 and says in out, out
            assert "baton db upgrade" not in out
        assert dump(db) == before


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://::::/", "cannot use database URL postgresql://::::/: its port is not"),
        ("postgresql://bob:s3cret@db:port/x", "cannot use database URL postgresql://bob:***@"),
        ("mysql+nothing://x/y", "Baton uses SQLite files and postgresql:// URLs"),
    ],
)
def test_malformed_database_urls(url: str, says: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, url, "runs", "list")
    assert code == 2 and says in out and "s3cret" not in out and "Traceback" not in out


def test_db_and_as_are_taken_after_the_command_too(
    demo_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = str(tmp_path / "other.sqlite3")
    assert main(["--db", other, "db", "upgrade"]) == 0
    capsys.readouterr()
    # --db after the command wins over the one before it, and only that database is used.
    code = main(["--db", other, "runs", "list", "--db", demo_db])
    assert code == 0 and "refund_request" in capsys.readouterr().out
    code = main(["runs", "start", "nope", "--db", demo_db, "--as", "admin"])
    assert code == 1 and "no orchestration named 'nope'" in capsys.readouterr().err
    # --as after the command acts as that user: alice may not create users.
    code = main(["users", "create", "mallory", "--as", "alice", "--db", demo_db])
    assert code == 1
    assert "alice (user) cannot create users" in capsys.readouterr().err
    code = main(["worker", "--once", "--db", demo_db, "--as", "alice"])
    assert code == 1 and "cannot run the worker" in capsys.readouterr().err


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
