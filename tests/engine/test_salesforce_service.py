"""Storing what was imported from Salesforce (SQLite and PostgreSQL), and the command line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from engine.cli.main import main
from engine.errors import InvalidInput
from engine.services.baton import Baton

DATA = Path(__file__).parent / "data" / "salesforce"
LOAN = str(DATA / "loan_mdapi")
SUPPLIER = str(DATA / "supplier_sfdx")
BAD = str(DATA / "bad_inputs")


def versions(baton: Baton) -> dict[str, list[str]]:
    return {o.name: [v.status for v in o.versions] for o in baton.definitions.list()}


def test_one_bad_file_does_not_stop_the_others_and_nothing_bad_is_stored(baton: Baton) -> None:
    report = baton.salesforce.import_paths([BAD, LOAN], activate=True)
    assert versions(baton) == {"Loan_Approval_Orchestration": ["active"]}
    assert [t.name for t in baton.records.types()] == ["Loan_Application__c"]
    assert not report.ok
    assert report.find("Missing_Screen").stored == ""
    assert report.find("Loan_Approval_Orchestration").stored == "version 1 (active)"
    # Importing the same again changes nothing: the identical version is reused.
    again = baton.salesforce.import_paths([LOAN])
    assert again.find("Loan_Approval_Orchestration").stored == "version 1 (active)"


def test_an_object_type_baton_has_keeps_its_fields_and_gains_only_those_it_lacks(
    baton: Baton,
) -> None:
    """Importing again after an admin changed the object type in Baton: their field and
    their label stay, a field they changed stays as they made it (its records hold values of
    that type), and only a field Salesforce has and Baton lacks is added. The import used to
    replace the whole type with Salesforce's."""
    baton.salesforce.import_paths([LOAN])
    (mine,) = baton.records.types()
    fields = [f for f in mine.fields if f["name"] != "Notes__c"]  # one to be added again
    fields = [{**f, "type": "text"} if f["name"] == "Risk_Score__c" else f for f in fields]
    fields = [{**f, "options": ["Draft"]} if f["name"] == "Status__c" else f for f in fields]
    baton.records.define_type_from_data(
        {
            "name": mine.name,
            "label": "Loan file",
            "title_field": mine.title_field,
            "fields": [*fields, {"name": "branch_manager", "type": "text"}],
        }
    )
    report = baton.salesforce.import_paths([LOAN])
    (after,) = baton.records.types()
    by_name = {f["name"]: f for f in after.fields}
    assert after.label == "Loan file"
    assert by_name["branch_manager"]["type"] == "text"
    assert by_name["Risk_Score__c"]["type"] == "text"
    assert by_name["Notes__c"]["type"] == "long_text"
    assert [f["name"] for f in after.fields][-1] == "Notes__c"  # added after Baton's own
    file_report = report.find("Loan_Application__c")
    assert file_report.stored == "object type (Baton's, with 1 field(s) added: Notes__c)"
    # What Baton kept where it differs from Salesforce is said once, in place of "carried over".
    (kept,) = [e for e in file_report.entries if e.element == "field Risk_Score__c"]
    assert kept.outcome == "approximated" and "its type is text, not number" in kept.note
    (options,) = [e for e in file_report.entries if e.element == "field Status__c"]
    assert "its options are Draft, not Draft, Submitted, Approved, Rejected" in options.note
    assert by_name["Status__c"]["options"] == ["Draft"]
    (names,) = [e for e in file_report.entries if e.element == "label and title"]
    assert names.became.startswith("'Loan file'")
    # Once more: nothing is missing, so nothing is written.
    again = baton.salesforce.import_paths([LOAN]).find("Loan_Application__c")
    assert again.stored == "object type (Baton's, unchanged: it has every field)"
    assert baton.records.types() == [after]


def test_drafts_keep_what_has_problems_for_the_designer_and_never_activate(
    baton: Baton,
) -> None:
    report = baton.salesforce.import_paths([BAD], drafts=True, activate=True)
    assert versions(baton) == {
        "Dangling_References": ["draft"],
        "Missing_Screen": ["draft"],
        "Unknown_Element": ["draft"],
        "Unknown_Operator": ["draft"],
    }
    assert report.find("Dangling_References").stored == "version 1 (draft) with its problems"
    with pytest.raises(InvalidInput) as caught:
        baton.definitions.activate("Dangling_References")
    assert "no element named 'Nowhere_Stage'" in " ".join(caught.value.details)
    _, draft = baton.definitions.get("Missing_Screen")
    assert draft.forms["Nowhere_Screen"].instructions == (
        "Not carried over: screen flow 'Nowhere_Screen' is not in the project."
    )


def test_a_placeholder_fails_the_step_saying_what_was_not_carried_over(
    baton: Baton, clock: Any
) -> None:
    baton.salesforce.import_paths([SUPPLIER], activate=True)
    # 5,000: neither the questionnaire (over 25,000) nor finance (screened, or under 1,000)
    # starts yet; the screening runs first.
    run = baton.runs.start("Supplier_Onboarding", {"supplierName": "Acme", "annualSpend": 5000})
    for _ in range(6):  # the first attempt and its retries
        baton.worker.run_once()
        clock.advance(dt.timedelta(hours=1))  # type: ignore[attr-defined]
    detail = baton.runs.show(run.id)
    screening = next(
        st for s in detail.stages for st in s.steps if st.step == "Sanctions_Screening"
    )
    assert screening.status == "Error"
    assert "not carried over from Salesforce: Apex action SanctionsScreeningService" in (
        screening.error or ""
    )
    # The stage's fault connector was carried over: the run went to Onboarding_Failed.
    assert "Onboarding_Failed" in [s.stage for s in detail.stages]


def test_an_approval_workflow_gets_approve_and_reject(tmp_path: Path) -> None:
    from engine.salesforce import convert

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "Expense_Approval.flow").write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Expense Approval</label>
    <processType>ApprovalWorkflow</processType>
    <status>Active</status>
    <start><connector><targetReference>Approval</targetReference></connector></start>
    <orchestratedStages>
        <name>Approval</name>
        <label>Approval</label>
        <stageSteps>
            <name>Manager_Approval</name>
            <label>Manager Approval</label>
            <actionName>Approval_Screen</actionName>
            <actionType>stepApproval</actionType>
            <assignees>
                <assignee><stringValue>Finance_Managers</stringValue></assignee>
                <assigneeType>Queue</assigneeType>
            </assignees>
            <assignees>
                <assignee><stringValue>carol</stringValue></assignee>
                <assigneeType>User</assigneeType>
            </assignees>
        </stageSteps>
    </orchestratedStages>
</Flow>
""",
        encoding="utf-8",
    )
    (flows / "Approval_Screen.flow").write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Approve the Expense</label>
    <processType>Flow</processType>
    <screens><name>S</name>
        <fields><name>Reason</name><fieldText>Reason</fieldText>
            <fieldType>LargeTextArea</fieldType></fields>
    </screens>
</Flow>
""",
        encoding="utf-8",
    )
    result = convert([str(tmp_path)])
    report = result.report.find("Expense_Approval")
    assert result.definitions["Expense_Approval"][1], [p.note for p in report.problems]
    data = report.definition
    assert data is not None
    form = data["forms"]["Approval_Screen"]
    assert [o["name"] for o in form["outcomes"]] == ["approve", "reject"]
    step = data["elements"][0]["steps"][0]
    assert step["assignee"] == {"queue": "Finance_Managers"}
    extra = next(e for e in report.entries if e.element.endswith("assignee User carol"))
    assert "one assignee" in extra.note


# ---------------------------------------------------------------- the command line


def cli(db: Path, capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> str:
    result = main(["--db", str(db), *args])
    out, err = capsys.readouterr()
    assert result == code, out + err
    assert "Traceback" not in out + err
    return out + err


def test_import_salesforce_from_the_command_line(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(db_path, capsys, "db", "upgrade")
    markdown = tmp_path / "report.md"
    out = cli(
        db_path,
        capsys,
        "definitions",
        "import-salesforce",
        LOAN,
        "--activate",
        "--report",
        str(markdown),
    )
    assert "orchestration Loan_Approval_Orchestration — stored as version 1 (active)" in out
    assert (
        "flows/Loan_Approval_Orchestration.flow:19: filter 1: Status__c EqualTo Submitted: "
        "carried over → record.Status__c == 'Submitted' (equal to: ==)"
    ) in out
    assert "| stage Intake_Review | carried over | stage Intake_Review |" in markdown.read_text()
    listed = cli(db_path, capsys, "definitions", "list")
    assert "Loan_Approval_Orchestration" in listed

    as_json = tmp_path / "report.json"
    out = cli(
        db_path,
        capsys,
        "definitions",
        "import-salesforce",
        BAD,
        "--report",
        str(as_json),
        code=1,
    )
    assert "flows/Bomb.flow:2: file: problem (the file declares a DTD or entities" in out
    files = json.loads(as_json.read_text())["files"]
    assert {f["file"] for f in files} >= {"flows/Not_Xml.flow", "flows/Missing_Screen.flow"}

    out = cli(db_path, capsys, "definitions", "import-salesforce", BAD, "--drafts", code=1)
    assert "orchestration Missing_Screen — stored as version 1 (draft) with its problems" in out

    out = cli(db_path, capsys, "definitions", "import-salesforce", SUPPLIER, "--dry-run")
    assert "orchestration Supplier_Onboarding — not stored" in out
    assert "Supplier_Onboarding" not in cli(db_path, capsys, "definitions", "list")


def test_a_report_that_cannot_be_written_is_one_sentence(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = cli(
        db_path,
        capsys,
        "definitions",
        "import-salesforce",
        LOAN,
        "--dry-run",
        "--report",
        str(tmp_path / "missing" / "r.md"),
        code=2,
    )
    assert "there is no folder" in out
