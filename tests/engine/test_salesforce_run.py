"""An imported record-triggered Salesforce orchestration runs end to end, on SQLite and
PostgreSQL: a record saved starts it, work goes to the mapped assignees with the screen
flows' fields, background flows update the record and send mail, decisions take the
right rule, and a Go To loop goes back."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.services.baton import Baton
from tests.conftest import open_items, step_status

DATA = Path(__file__).parent / "data" / "salesforce"
LOAN = str(DATA / "loan_mdapi")


@pytest.fixture
def b(baton: Baton) -> Baton:
    baton.directory.create_user("admin", email="admin@example.com", role="admin")
    for name in ("alice", "bob", "carol", "dave", "erin"):
        baton.directory.create_user(name, email=f"{name}@example.com")
    for kind, group, members in (
        ("queue", "Loan_Officers", ["bob"]),
        ("queue", "Loan_Ops", ["carol"]),
        ("group", "Risk_Committee", ["erin"]),
    ):
        baton.directory.create_group(kind, group)
        for member in members:
            baton.directory.add_member(kind, group, member)
    report = baton.salesforce.import_paths([LOAN], activate=True)
    assert report.find("Loan_Approval_Orchestration").stored == "version 1 (active)"
    return baton


def submit(b: Baton, amount: int) -> int:
    record = b.records.create(
        "Loan_Application__c",
        {
            "Name": "LA-1",
            "Amount__c": amount,
            "Status__c": "Submitted",
            "Applicant_Email__c": "pat@example.com",
        },
        owner="dave",
    )
    runs = list(b.runs.list(orchestration="Loan_Approval_Orchestration"))
    assert [r.record_id for r in runs] == [record.id]
    return runs[0].id


def item(b: Baton, run_id: int, step: str) -> int:
    return next(
        w.id
        for w in b.runs.show(run_id).work_items
        if w.step == step and w.status in ("Assigned", "Claimed")
    )


def test_a_saved_record_runs_the_default_route_to_the_end(b: Baton) -> None:
    draft = b.records.create(
        "Loan_Application__c", {"Name": "LA-0", "Amount__c": 10, "Status__c": "Draft"}
    )
    assert not b.runs.list(orchestration="Loan_Approval_Orchestration")  # criteria not met
    assert draft.id
    run = submit(b, 50_000)
    assert open_items(b, run) == ["Verify_Documents"]  # Manager_Signoff waits for it
    verify = b.work.get(item(b, run, "Verify_Documents"))
    assert (verify.assignee_kind, verify.assignee) == ("queue", "Loan_Officers")
    details = b.work.details(verify.id)
    fields = {f["name"]: f for f in details.form["fields"]}
    assert list(fields) == ["documentsComplete", "Document_Type", "Missing_Items"]
    assert fields["Document_Type"]["options"] == ["Passport", "Driving_Licence", "ID_Card"]
    assert fields["Document_Type"]["required"] is True
    assert details.instructions is not None and "Proof of income" in details.instructions

    # The credit check runs on a worker: its flow's decision picked "Medium", its
    # formula scored the loan.
    assert b.worker.run_once().steps_run == 1
    assert b.records.get(verify.record_id or 0).data["Risk_Score__c"] == 50
    assert step_status(b, run)["Intake_Review.Credit_Check"] == "Completed"

    b.as_user("bob").work.complete(
        verify.id, {"documentsComplete": True, "Document_Type": "Passport"}
    )
    signoff = b.work.get(item(b, run, "Manager_Signoff"))
    assert (signoff.assignee_kind, signoff.assignee) == ("user", "dave")  # the record's owner
    with pytest.raises(InvalidInput):  # the screen flow's validation rule
        b.as_user("dave").work.complete(
            signoff.id, {"approvalDecision": "Approve", "Approved_Amount": -5}
        )
    b.as_user("dave").work.complete(
        signoff.id, {"approvalDecision": "Approve", "Approved_Amount": 50_000}
    )
    # Route_Decision: neither rule holds (Medium risk, 50,000) → the default, Disbursement.
    assert b.worker.run_once().steps_run == 1
    record = b.records.get(verify.record_id or 0)
    assert record.data["Status__c"] == "Approved"
    mails = b.mail.list()
    assert [m["recipient"] for m in mails if "approved" in m["subject"]] == ["pat@example.com"]
    confirm = b.work.get(item(b, run, "Confirm_Disbursement"))
    assert (confirm.assignee_kind, confirm.assignee) == ("user", "alice")
    b.as_user("alice").work.complete(confirm.id, {"Transfer_Reference": "TX-9"})
    assert b.runs.show(run).run.status == "Completed"
    assert "Risk_Committee" not in {s.stage for s in b.runs.show(run).stages}


def test_high_risk_goes_to_the_committee_and_a_return_loops_back(b: Baton) -> None:
    run = submit(b, 150_000)
    b.worker.run_once()
    b.as_user("bob").work.complete(
        item(b, run, "Verify_Documents"), {"documentsComplete": True, "Document_Type": "ID_Card"}
    )
    b.as_user("dave").work.complete(
        item(b, run, "Manager_Signoff"), {"approvalDecision": "Approve"}
    )
    # Rule High_Risk, 1 AND (2 OR 3): approved, and the credit check said High.
    review = b.work.get(item(b, run, "Committee_Review"))
    assert (review.assignee_kind, review.assignee) == ("group", "Risk_Committee")
    b.as_user("erin").work.complete(review.id, {"committeeDecision": "Return"})
    # Committee_Decision's rule Returned is the Go To back to Intake_Review.
    visits = [s.stage for s in b.runs.show(run).stages]
    assert visits.count("Intake_Review") == 2
    assert open_items(b, run) == ["Verify_Documents"]


def test_documents_missing_takes_the_first_rule(b: Baton) -> None:
    run = submit(b, 5_000)
    b.worker.run_once()
    b.as_user("bob").work.complete(
        item(b, run, "Verify_Documents"), {"documentsComplete": False, "Document_Type": "Passport"}
    )
    b.as_user("dave").work.complete(
        item(b, run, "Manager_Signoff"), {"approvalDecision": "Approve"}
    )
    b.worker.run_once()
    detail = b.runs.show(run)
    assert detail.run.status == "Completed"
    assert [s.stage for s in detail.stages][-1] == "Rejection"
    assert b.records.get(detail.run.record_id or 0).data["Status__c"] == "Rejected"
