"""The ``baton`` command line, driven as a person would type it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.main import main
from tests.conftest import RESOURCES

ONBOARDING = str(RESOURCES / "definitions" / "customer_onboarding.yaml")
DATA = Path(__file__).parent / "data"


class Cli:
    """``baton --db DB …`` in this process, on a database set up as ``baton db upgrade`` does
    (only set-up commands create one; the others refuse a missing file)."""

    def __init__(
        self, db: Path, capsys: pytest.CaptureFixture[str], *, create: bool = True
    ) -> None:
        self.db = db
        self.capsys = capsys
        if create and not db.exists():
            self("db", "upgrade")

    def __call__(self, *args: str, code: int = 0) -> str:
        result = main(["--db", str(self.db), *args])
        out, err = self.capsys.readouterr()
        assert result == code, f"exit {result}\nstdout:\n{out}\nstderr:\n{err}"
        assert "Traceback" not in out + err
        return out + err

    def json(self, *args: str) -> object:
        return json.loads(self(*args, "--json"))


@pytest.fixture
def cli(db_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(db_path, capsys)


def test_db_upgrade_and_status(cli: Cli) -> None:
    from engine.store.database import head_revision

    assert f"is at schema {head_revision()} (latest)" in cli("db", "upgrade")
    status = cli.json("db", "status")
    assert isinstance(status, dict) and status["up_to_date"] is True


def test_validate_accepts_every_resource(cli: Cli) -> None:
    files = sorted(str(p) for p in (RESOURCES / "definitions").glob("*.yaml"))
    out = cli("definitions", "validate", *files)
    assert out.count(": ok (") == len(files)


def test_validate_reports_ten_located_messages(cli: Cli) -> None:
    out = cli("definitions", "validate", str(DATA / "ten_mistakes.yaml"), code=1)
    assert "has 10 problems" in out
    assert sum(1 for line in out.splitlines() if line.strip().startswith("line ")) == 10


def test_import_list_export_activate_schema(cli: Cli, tmp_path: Path) -> None:
    assert "customer_onboarding version 1 (draft)" in cli("definitions", "import", ONBOARDING)
    # Importing the same text again makes no new version.
    assert "customer_onboarding version 1 (draft)" in cli("definitions", "import", ONBOARDING)
    listed = cli.json("definitions", "list")
    assert isinstance(listed, list) and listed[0]["active_version"] is None
    assert "version 1 is active" in cli("definitions", "activate", "customer_onboarding")
    exported = tmp_path / "out.json"
    cli("definitions", "export", "customer_onboarding", "-o", str(exported))
    assert json.loads(exported.read_text())["name"] == "customer_onboarding"
    assert "format: 1" in cli("definitions", "export", "customer_onboarding", "--version", "1")
    schema = json.loads(cli("definitions", "schema"))
    assert "elements" in schema["properties"]


def test_import_is_all_or_nothing(cli: Cli) -> None:
    out = cli("definitions", "import", ONBOARDING, str(DATA / "ten_mistakes.yaml"), code=1)
    assert "10 problems" in out
    assert "no orchestrations yet" in cli("definitions", "list")


def test_a_whole_story(cli: Cli) -> None:
    cli("demo")
    assert "already loaded" in cli("demo")
    runs = cli.json(
        "runs", "list", "--status", "InProgress", "--orchestration", "customer_onboarding"
    )
    assert isinstance(runs, list) and runs
    started = cli.json(
        "runs",
        "start",
        "customer_onboarding",
        "--input",
        "customer_name=Hooli",
        "--input",
        "amount=5000",
    )
    assert isinstance(started, dict)
    run_id = str(started["id"])
    cli("worker", "--once")
    items = cli.json("work", "list", "--user", "alice")
    assert isinstance(items, list)
    mine = [i for i in items if str(i["run_id"]) == run_id]
    assert mine and mine[0]["step"] == "intake_check"
    item = str(mine[0]["id"])
    refused = cli(
        "work", "complete", item, "--user", "alice", "--set", "contract_signed=yes", code=1
    )
    assert "billing_email: is required" in refused
    cli(
        "work",
        "complete",
        item,
        "--user",
        "alice",
        "--set",
        "contract_signed=yes",
        "--set",
        "billing_email=ap@hooli.example",
        "--comment",
        "All there",
    )
    again = cli(
        "work",
        "complete",
        item,
        "--user",
        "alice",
        "--set",
        "contract_signed=yes",
        "--set",
        "billing_email=ap@hooli.example",
        code=1,
    )
    assert "already completed by alice" in again
    shown = cli("runs", "show", run_id)
    assert "review: InProgress" in shown and "work item completed" in shown and "All there" in shown
    assert "is Canceled" in cli("runs", "cancel", run_id, "--reason", "Duplicate request")
    assert "already Canceled" in cli("runs", "cancel", run_id, "--reason", "again", code=1)


def test_records_and_triggers(cli: Cli) -> None:
    cli("demo")
    created = cli.json(
        "records",
        "create",
        "refund_request",
        "--set",
        "order_number=SO-1",
        "--set",
        "customer_email=a@b.example",
        "--set",
        "amount=20",
        "--set",
        "status=Submitted",
    )
    assert isinstance(created, dict)
    record_id = str(created["id"])
    refund_runs = cli.json("runs", "list", "--orchestration", "refund_request")
    assert isinstance(refund_runs, list)
    assert any(str(r["record_id"]) == record_id for r in refund_runs)
    updated = cli.json("records", "update", record_id, "--set", "reason=Late")
    assert isinstance(updated, dict) and updated["data"]["reason"] == "Late"
    assert "SO-1" in cli("records", "list", "refund_request")
    assert "refund_request" in cli("records", "types")
    bad = cli(
        "records", "create", "refund_request", "--set", "amount=lots", "--set", "colour=red", code=1
    )
    assert "amount: 'lots' is not a number" in bad and "has no field 'colour'" in bad


def test_events_publish(cli: Cli) -> None:
    cli("db", "upgrade")
    assert "stored until a step waits for it" in cli(
        "events", "publish", "payment_received", "--key", "SO-1", "--data", '{"paid": true}'
    )
    assert "not valid JSON" in cli(
        "events", "publish", "x", "--key", "k", "--data", "{nope", code=1
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["runs", "start", "nope"], "no orchestration named 'nope'"),
        (["runs", "show", "999"], "no run with id 999"),
        (["runs", "list", "--status", "Running"], "'Running' is not a run status"),
        (["work", "complete", "999", "--user", "alice"], "no work item with id 999"),
        (["records", "list", "invoice"], "no object type named 'invoice'"),
        (["runs", "start", "customer_onboarding", "--input", "oops"], "write input as name=value"),
        (["definitions", "activate", "customer_onbording"], "did you mean 'customer_onboarding'"),
    ],
)
def test_mistakes_get_clear_messages(cli: Cli, args: list[str], fragment: str) -> None:
    cli("definitions", "import", ONBOARDING, "--activate")
    assert fragment in cli(*args, code=1)


def test_inputs_are_checked(cli: Cli) -> None:
    cli("definitions", "import", ONBOARDING, "--activate")
    out = cli(
        "runs",
        "start",
        "customer_onboarding",
        "--input",
        "amount=many",
        "--input",
        "colour=red",
        code=1,
    )
    assert "amount: 'many' is not a number" in out
    assert "colour: not an input" in out
    assert "customer_name: is required" in out


def test_console_script_runs(tmp_path: Path) -> None:
    # The console script installed beside this Python (the project's venv).
    baton = shutil.which("baton", path=str(Path(sys.executable).parent))
    assert baton is not None, "the console script is not installed"
    db = str(tmp_path / "x.sqlite3")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [baton, "--db", db, *args], capture_output=True, text=True, timeout=60, check=False
        )

    missing = run("definitions", "list")
    assert missing.returncode == 2 and "there is no database at" in missing.stderr
    assert not Path(db).exists()
    assert run("db", "upgrade").returncode == 0
    result = run("definitions", "list")
    assert result.returncode == 0, result.stderr
    assert "no orchestrations yet" in result.stdout


def test_design_review_from_the_command_line(cli: Cli, tmp_path: Path) -> None:
    cli("demo")  # people in every queue the demo's orchestrations use
    assert "no findings" in cli("definitions", "review", ONBOARDING)
    risky = tmp_path / "risky.yaml"
    risky.write_text(
        Path(ONBOARDING).read_text().replace("error_recipients: [ops@example.com]\n", "")
    )
    out = cli("definitions", "review", str(risky), code=1)
    assert "critical nobody is told when a run fails" in out
    assert "fix: add error_recipients" in out


def test_version_diff_from_the_command_line(cli: Cli, tmp_path: Path) -> None:
    cli("definitions", "import", ONBOARDING, "--activate")
    changed = tmp_path / "v2.yaml"
    changed.write_text(
        Path(ONBOARDING)
        .read_text()
        .replace(
            "due: 1 business day\n        priority: high",
            "due: 4 business hours\n        priority: high",
        )
    )
    cli("definitions", "import", str(changed))
    out = cli("definitions", "diff", "customer_onboarding", "1", "2")
    assert "version 1 → 2: 1 change" in out
    assert "changed  step intake.intake_check: due: 1 business day → 4 business hours" in out


def _start_onboarding(cli: Cli, name: str) -> str:
    run = cli.json(
        "runs",
        "start",
        "customer_onboarding",
        "--input",
        f"customer_name={name}",
        "--input",
        "amount=5000",
    )
    assert isinstance(run, dict)
    return str(run["id"])


def test_interventions_one_run_and_several(cli: Cli) -> None:
    cli("demo")
    ids = [_start_onboarding(cli, f"Customer {n}") for n in range(2)]
    cli("worker", "--once")
    out = cli("runs", "suspend", *ids, "--reason", "Customer on hold")
    assert out.count("done: the run is now Suspended") == 2 and "2 done, 0 refused" in out
    # Several runs: one refused does not stop the others, and the exit code says so.
    out = cli("runs", "resume", ids[0], "--reason", "Back")
    assert f"run {ids[0]} is InProgress at intake" in out
    out = cli("runs", "suspend", *ids, "--reason", "Again", code=1)
    assert f"run {ids[0]}: done" in out and f"run {ids[1]}: refused: " in out
    assert "only a run in progress can be suspended" in out and "1 done, 1 refused" in out
    cli("runs", "resume", *ids, "--reason", "Released")
    # One run: a refusal is an error with its reason.
    assert "only a failed run can be resumed" in cli(
        "runs", "resume-failed", ids[0], "--reason", "x", code=1
    )
    out = cli(
        "runs",
        "skip",
        ids[0],
        "--step",
        "intake_check",
        "--output",
        "contract_signed=true",
        "--output",
        "billing_email=ap@example.com",
        "--reason",
        "Checked by phone",
    )
    assert "is InProgress at review" in out
    shown = cli.json("runs", "show", ids[0])
    intake = shown["stages"][0]  # type: ignore[index]
    skipped = next(s for s in intake["steps"] if s["step"] == "intake_check")
    assert skipped["status"] == "Skipped"
    assert skipped["outputs"] == {"contract_signed": True, "billing_email": "ap@example.com"}
    assert "is InProgress at activation" in cli(
        "runs", "jump", ids[1], "--stage", "activation", "--reason", "Approved elsewhere"
    )
    assert "has no stage 'nowhere'" in cli(
        "runs", "jump", ids[1], "--stage", "nowhere", "--reason", "x", code=1
    )
    assert "a reason" in cli("runs", "cancel", ids[1], "--reason", " ", code=1)
    out = cli("runs", "migrate", ids[1], "--to-version", "2", "--reason", "x", code=1)
    assert "customer_onboarding has no version 2" in out


def test_review_reads_the_queues_from_the_database_and_says_when_it_cannot(
    cli: Cli, tmp_path: Path
) -> None:
    # Issue 20.11: "work sent to a queue with no members" never fired from the command line.
    cli("users", "create", "bob")
    cli("queues", "create", "legal")
    out = cli("definitions", "review", ONBOARDING, code=1)
    assert "critical review.legal: step 'review.legal' goes to queue 'legal', which has no " in out
    cli("queues", "add", "legal", "bob")
    assert "no findings" in cli("definitions", "review", ONBOARDING)
    cli("users", "deactivate", "bob", "--reason", "left")  # only active members count
    assert "which has no members" in cli("definitions", "review", ONBOARDING, code=1)
    # No database to read: the review of the file still runs, and says what it left out.
    elsewhere = Cli(tmp_path / "absent" / "none.sqlite3", cli.capsys, create=False)
    out = elsewhere("definitions", "review", ONBOARDING)
    assert "note: queues are not checked for members: there is no database at" in out
    assert "no findings" in out and not (tmp_path / "absent").exists()


def test_a_run_variable_and_a_time_zone_are_set_from_the_command_line(cli: Cli) -> None:
    cli("demo")
    [failed] = [r for r in cli.json("runs", "list", "--status", "Error") if isinstance(r, dict)]
    out = cli("runs", "set", str(failed["id"]), "--set", "amount=5", "--reason", "typo")
    assert f"run {failed['id']}: amount 15000 -> 5" in out
    refused = cli("runs", "set", str(failed["id"]), "--set", "amount=lots", "--reason", "x", code=1)
    assert "'lots' is not a number" in refused
    assert "Europe/Paris" in cli("users", "set-timezone", "alice", "Europe/Paris")
    assert "not a time zone" in cli("users", "set-timezone", "alice", "Mars/Base", code=1)
    assert "the calendar time zone" in cli("users", "set-timezone", "alice", "calendar")
