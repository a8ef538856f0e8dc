"""People, hand-offs, calendars, mail settings and the outbox through the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.engine.test_cli import Cli

CALENDARS = """
calendars:
  - name: london
    timezone: Europe/London
    default: true
    hours: {mon: [["09:00", "17:00"]], tue: [["09:00", "17:00"]], wed: [["09:00", "17:00"]],
            thu: [["09:00", "17:00"]], fri: [["09:00", "17:00"]]}
    holidays: ["2026-12-25"]
"""


@pytest.fixture
def cli(db_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(db_path, capsys)


def test_users_groups_and_queues(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "created admin root" in cli("users", "create", "root", "--role", "admin")
    cli("users", "owner", "root")
    cli("users", "create", "alice", "--name", "Alice Martin", "--email", "alice@example.com")
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    cli("users", "create", "bob", "--email", "bob@example.com", "--password-stdin")
    assert "bob is now supervisor" in cli("users", "set-role", "bob", "supervisor")
    cli("queues", "create", "legal", "--label", "Legal")
    assert "legal: alice, bob" in cli("queues", "add", "legal", "alice") + cli(
        "queues", "add", "legal", "bob"
    )
    assert "legal: alice" in cli("queues", "remove", "legal", "bob")
    cli("groups", "create", "security")
    listed = json.loads(cli("users", "list", "--json"))
    assert {u["username"]: u["role"] for u in listed} == {
        "alice": "user",
        "bob": "supervisor",
        "root": "admin",
    }
    assert "queues: legal" in cli("users", "show", "alice")
    assert "legal" in cli("queues", "list") and "security" in cli("groups", "list")
    # As alice (a user) the admin commands are refused, clearly.
    refused = cli("--as", "alice", "users", "create", "mallory", code=1)
    assert "alice (user) cannot create users: that needs the admin role" in refused


def test_reassign_deactivate_and_the_history_says_who_and_why(cli: Cli) -> None:
    cli("demo")
    cli("users", "owner", "admin")
    item = json.loads(cli("work", "list", "--user", "frank", "--json"))[0]
    out = cli(
        "work",
        "reassign",
        str(item["id"]),
        "99999",
        "--to",
        "user:omar",
        "--reason",
        "Frank is at the audit",
        code=1,
    )
    assert f"done    item {item['id']}: reassigned to user omar" in out
    assert "refused item 99999: no work item with id 99999" in out
    deactivated = cli("users", "deactivate", "omar", "--reason", "Parental leave")
    assert "omar deactivated" in deactivated and "1 work item(s) flagged" in deactivated
    history = cli("runs", "show", str(item["run_id"]))
    assert "admin" in history and "work item reassigned" in history
    assert "Frank is at the audit" in history
    assert "work item flagged" in history and "Parental leave" in history


def test_calendars_from_a_file(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "calendars.yaml"
    path.write_text(CALENDARS)
    assert "calendar london (Europe/London) — the default" in cli("calendars", "define", str(path))
    assert "london" in cli("calendars", "list")
    due = cli("calendars", "due", "2 business days", "--from", "2026-12-24T10:00:00+00:00")
    assert "2026-12-29T10:00:00+00:00" in due  # the 25th is a holiday, then a weekend
    path.write_text("calendars:\n  - {name: x, timezone: Nowhere/City, hours: {}}\n")
    assert "'Nowhere/City' is not a known time zone" in cli(
        "calendars", "define", str(path), code=1
    )


def test_mail_settings_and_outbox(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("demo")
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret password\n"))
    out = cli(
        "settings",
        "smtp",
        "--host",
        "mail.example.com",
        "--port",
        "465",
        "--security",
        "ssl",
        "--username",
        "baton",
        "--password-stdin",
        "--sender",
        "baton@example.com",
    )
    assert "mail goes through mail.example.com:465 (ssl)" in out
    shown = cli("settings", "smtp")
    assert "mail.example.com" in shown and "s3cret" not in shown
    pending = cli("outbox", "list", "--status", "pending")
    assert "[Baton] New work" in pending
