"""The demo orchestrations run end to end, driven through the CLI as a person would."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine.cli.main import main


@pytest.fixture
def cli(db_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def run(*args: str, code: int = 0) -> str:
        result = main(["--db", str(db_path), *args])
        out, err = capsys.readouterr()
        assert result == code, out + err
        return out + err

    run("demo")
    return run


def items(cli, user: str, run_id: int) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    return [
        i
        for i in json.loads(cli("work", "list", "--user", user, "--json"))
        if i["run_id"] == run_id
    ]


def do(cli, user: str, run_id: int, step: str, *values: str, outcome: str | None = None) -> None:  # type: ignore[no-untyped-def]
    item = next(i for i in items(cli, user, run_id) if i["step"] == step)
    args = ["work", "complete", str(item["id"]), "--user", user]
    for value in values:
        args += ["--set", value]
    if outcome:
        args += ["--outcome", outcome]
    cli(*args)


def status(cli, run_id: int) -> str:  # type: ignore[no-untyped-def]
    return str(json.loads(cli("runs", "show", str(run_id), "--json"))["run"]["status"])


def start(cli, *args: str) -> int:  # type: ignore[no-untyped-def]
    return int(json.loads(cli("runs", "start", *args, "--json"))["id"])


def test_customer_onboarding_with_senior_approval_and_rework(cli) -> None:  # type: ignore[no-untyped-def]
    run = start(
        cli, "customer_onboarding", "--input", "customer_name=Hooli", "--input", "amount=150000"
    )
    cli("worker", "--once")
    do(cli, "alice", run, "intake_check", "contract_signed=yes", "billing_email=ap@hooli.example")
    assert {i["step"] for i in items(cli, "carol", run)} == {"senior_approval"}  # amount > 100000
    do(cli, "lena", run, "legal", "risk=low", outcome="approve")
    do(cli, "sam", run, "security", "risk=high", outcome="reject")
    do(cli, "frank", run, "finance", "risk=low", outcome="approve")
    do(cli, "carol", run, "senior_approval", "approved_limit=20000", outcome="approve")
    do(
        cli,
        "alice",
        run,
        "address_findings",
        "contract_signed=yes",
        "billing_email=ap@hooli.example",
    )
    for user, step in (("omar", "legal"), ("sam", "security"), ("frank", "finance")):
        do(cli, user, run, step, "risk=low", outcome="approve")
    do(cli, "carol", run, "senior_approval", "approved_limit=20000", outcome="approve")
    cli("worker", "--once")
    assert status(cli, run) == "Completed"
    history = cli("runs", "show", str(run))
    assert "review (visit 2): Completed" in history
    assert re.search(r"decision\s+all_approved\s+— outcome 'approved' → activation", history)


def test_small_onboarding_skips_the_senior_approval(cli) -> None:  # type: ignore[no-untyped-def]
    run = start(
        cli, "customer_onboarding", "--input", "customer_name=Tiny", "--input", "amount=900"
    )
    cli("worker", "--once")
    do(cli, "alice", run, "intake_check", "contract_signed=yes", "billing_email=a@tiny.example")
    for user, step in (("lena", "legal"), ("sam", "security"), ("frank", "finance")):
        do(cli, user, run, step, "risk=low", outcome="approve")
    cli("worker", "--once")
    assert status(cli, run) == "Completed"
    assert "senior_approval [interactive]: Skipped" in cli("runs", "show", str(run))


def test_employee_hiring(cli) -> None:  # type: ignore[no-untyped-def]
    run = start(
        cli, "employee_hiring", "--input", "candidate_name=Ana Lima", "--input", "position=Engineer"
    )
    do(cli, "rita", run, "screen_candidate", "cv_reviewed=yes", outcome="advance")
    do(cli, "carol", run, "technical_interview", "score=4", "feedback=Strong")
    refused = cli(
        "work",
        "complete",
        str(items(cli, "paula", run)[0]["id"]),
        "--user",
        "paula",
        "--set",
        "score=9",
        "--set",
        "feedback=Great",
        code=1,
    )
    assert "score: Give a score from 1 to 5." in refused
    do(cli, "paula", run, "culture_interview", "score=5", "feedback=Great")
    do(cli, "carol", run, "make_offer", "salary=65000", "start_date=2027-01-04", outcome="accepted")
    cli("worker", "--once")
    do(cli, "ivan", run, "laptop_and_accounts", "done=yes")
    cli("worker", "--once")
    assert status(cli, run) == "Completed"
    shown = json.loads(cli("runs", "show", str(run), "--json"))
    assert shown["variables"]["start_date"] == "2027-01-04"


def test_refund_started_by_a_record(cli) -> None:  # type: ignore[no-untyped-def]
    big = json.loads(
        cli(
            "records",
            "create",
            "refund_request",
            "--set",
            "order_number=SO-7",
            "--set",
            "customer_email=kim@customer.example",
            "--set",
            "amount=900",
            "--json",
        )
    )
    runs = json.loads(cli("runs", "list", "--orchestration", "refund_request", "--json"))
    assert not [r for r in runs if r["record_id"] == big["id"]]  # still a draft
    cli("records", "update", str(big["id"]), "--set", "status=Submitted")
    run = next(
        r
        for r in json.loads(cli("runs", "list", "--orchestration", "refund_request", "--json"))
        if r["record_id"] == big["id"]
    )["id"]
    do(cli, "omar", run, "finance_approval", "reason=Fine", outcome="approve")
    cli("worker", "--once")
    assert status(cli, run) == "Completed"
    assert (
        json.loads(cli("records", "list", "refund_request", "--json"))[0]["data"]["status"]
        == "Paid"
    )
