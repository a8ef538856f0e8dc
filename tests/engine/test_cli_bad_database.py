"""A wrong database at the command line: damaged, foreign, newer, read-only, locked, a folder,
a mistyped path or URL. Each gets one clear sentence and a non-zero exit, and nothing is
created or changed."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.errors import DatabaseDamaged
from engine.services.baton import Baton
from tests.conftest import RESOURCES
from tests.engine.cli_helpers import dump, run

ONBOARDING = str(RESOURCES / "definitions" / "customer_onboarding.yaml")
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
