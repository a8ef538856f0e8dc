"""Importing Salesforce orchestrations: each fixture converted element by element, and its
report checked entry by entry (what became of each element, and where it stood)."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from engine.salesforce import Outcome, convert
from engine.salesforce.report import Entry, FileReport

DATA = Path(__file__).parent / "data" / "salesforce"
LOAN = str(DATA / "loan_mdapi")
SUPPLIER = str(DATA / "supplier_sfdx")
ORCHESTRATION = "flows/Loan_Approval_Orchestration.flow"
SFDX = "force-app/main/default/"


def entry(report: FileReport, element: str) -> Entry:
    found = [e for e in report.entries if e.element == element]
    assert len(found) == 1, [e.element for e in report.entries]
    return found[0]


def element(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in data["elements"] if e["name"] == name)


def step(data: dict[str, Any], stage: str, name: str) -> dict[str, Any]:
    return next(s for s in element(data, stage)["steps"] if s["name"] == name)


# ---------------------------------------------------------------- the loan (MDAPI layout)


@pytest.fixture(scope="module")
def loan() -> Any:
    return convert([LOAN])


def test_loan_object_type_has_its_fields_picklists_and_required_flags(loan: Any) -> None:
    (object_type,) = loan.object_types
    assert object_type.name == "Loan_Application__c"
    assert object_type.label == "Loan Application"
    assert object_type.title_field == "Name"
    fields = {f.name: f for f in object_type.fields}
    assert list(fields) == [
        "Name",
        "Amount__c",
        "Status__c",
        "Applicant_Email__c",
        "Risk_Score__c",
        "Branch__c",
        "Notes__c",
    ]
    assert (fields["Amount__c"].type, fields["Amount__c"].required) == ("currency", True)
    assert fields["Status__c"].options == ["Draft", "Submitted", "Approved", "Rejected"]
    assert fields["Status__c"].default == "Draft"
    assert fields["Applicant_Email__c"].type == "email"
    assert fields["Branch__c"].type == "number"  # a lookup holds the related record's id
    assert fields["Notes__c"].type == "long_text"
    report = loan.report.find("Loan_Application__c")
    assert entry(report, "field Credit_Band__c").outcome is Outcome.not_carried
    assert "formula field" in entry(report, "field Credit_Band__c").note
    branch = entry(report, "field Branch__c")
    assert branch.outcome is Outcome.approximated and "Account" in branch.note
    assert (branch.file, branch.line) == ("objects/Loan_Application__c.object", 62)


def test_loan_trigger_variables_and_element_order(loan: Any) -> None:
    definition, valid = loan.definitions["Loan_Approval_Orchestration"]
    assert valid and definition is not None
    data = loan.report.find("Loan_Approval_Orchestration").definition
    assert data["type"] == "record_triggered"
    assert data["trigger"] == {
        "object": "Loan_Application__c",
        "events": ["created", "updated"],
        "criteria": "record.Status__c == 'Submitted' and record.Amount__c > 0",
        "only_when_newly_met": True,
    }
    assert data["variables"] == [{"name": "approvedAmount", "type": "number", "output": True}]
    assert [e["name"] for e in data["elements"]] == [
        "Intake_Review",
        "Route_Decision",
        "Rejection",
        "Risk_Committee",
        "Committee_Decision",
        "Disbursement",
        "Loan_Error_Handling",
    ]
    assert element(data, "Intake_Review")["fault"] == "Loan_Error_Handling"
    assert element(data, "Intake_Review")["next"] == "Route_Decision"
    assert element(data, "Disbursement")["next"] == "end"
    assert element(data, "Risk_Committee")["exit"] == {
        "when": "steps",
        "steps": ["Committee_Review"],
    }
    assert "exit" not in element(data, "Intake_Review")  # all steps done: the default


def test_loan_steps_assignees_and_starts(loan: Any) -> None:
    data = loan.report.find("Loan_Approval_Orchestration").definition
    verify = step(data, "Intake_Review", "Verify_Documents")
    assert (verify["kind"], verify["form"]) == ("interactive", "Verify_Documents_Screen")
    assert verify["assignee"] == {"queue": "Loan_Officers"}
    assert "start" not in verify
    signoff = step(data, "Intake_Review", "Manager_Signoff")
    assert signoff["assignee"] == {"expression": "record.owner"}
    assert signoff["start"] == {"when": "after", "steps": ["Verify_Documents"]}
    assert step(data, "Risk_Committee", "Committee_Review")["assignee"] == {
        "group": "Risk_Committee"
    }
    assert step(data, "Disbursement", "Confirm_Disbursement")["assignee"] == {"user": "alice"}
    credit = step(data, "Intake_Review", "Credit_Check")
    assert credit["kind"] == "background"
    assert "on_failure" not in credit  # the stage's fault path handles it
    assert step(data, "Rejection", "Notify_Rejection")["on_failure"] == "error"


def test_loan_background_flows_become_actions(loan: Any) -> None:
    data = loan.report.find("Loan_Approval_Orchestration").definition
    actions = step(data, "Intake_Review", "Credit_Check")["actions"]
    assert [a["type"] for a in actions] == ["set_variables"] * 4 + ["update_record"]
    chooser = actions[0]["values"]["Credit_Check_Risk_Decision"]
    assert chooser == (
        "'High' if record.Amount__c > 100000 else "
        "('Medium' if record.Amount__c > 20000 else ('default'))"
    )
    assert actions[1]["values"] == {
        "Credit_Check_riskBand": "('High') if vars.Credit_Check_Risk_Decision == 'High' "
        "else vars.Credit_Check_riskBand"
    }
    assert actions[4]["values"]["Risk_Score__c"] == (
        "((80 if record.Amount__c > 100000 else (50 if record.Amount__c > 20000 else 20)))"
    )
    disburse = step(data, "Disbursement", "Disburse_Funds")["actions"]
    assert disburse == [
        {"type": "update_record", "values": {"Status__c": "'Approved'"}},
        {
            "type": "send_email",
            "to": ["{{ record.Applicant_Email__c }}"],
            "subject": "Your loan is approved",
            "body": "Good news: your loan application {{ record.id }} has been approved. "
            "The money is on its way.",
        },
    ]


def test_loan_decisions_keep_rule_order_custom_logic_and_loops(loan: Any) -> None:
    data = loan.report.find("Loan_Approval_Orchestration").definition
    route = element(data, "Route_Decision")
    assert [o["name"] for o in route["outcomes"]] == ["Documents_Missing", "High_Risk"]
    assert route["outcomes"][0]["when"] == (
        "Intake_Review.Verify_Documents.outputs.documentsComplete == False or "
        "Intake_Review.Manager_Signoff.outputs.approvalDecision == 'Reject'"
    )
    assert route["outcomes"][1]["when"] == (
        "(Intake_Review.Manager_Signoff.outputs.approvalDecision == 'Approve') and "
        "((vars.Credit_Check_riskBand == 'High') or (record.Amount__c > 100000))"
    )
    assert route["default"] == "Disbursement"
    committee = element(data, "Committee_Decision")
    assert committee["outcomes"][0]["next"] == "Intake_Review"  # the Go To back
    assert committee["default"] == "Disbursement"


def test_loan_screen_flows_become_forms(loan: Any) -> None:
    forms = loan.report.find("Loan_Approval_Orchestration").definition["forms"]
    verify = forms["Verify_Documents_Screen"]
    assert verify["title"] == "Verify Documents"
    assert verify["instructions"] == (
        "Check the applicant's documents against the checklist.\n"
        "- Proof of identity\n- Proof of income"
    )
    # Fields of both screens, in order; the output variable renames the field it copies.
    assert verify["fields"] == [
        {"name": "documentsComplete", "label": "All documents are present", "type": "checkbox"},
        {
            "name": "Document_Type",
            "label": "Identity document",
            "type": "picklist",
            "options": ["Passport", "Driving_Licence", "ID_Card"],
            "required": True,
        },
        {"name": "Missing_Items", "label": "What is missing?", "type": "long_text"},
    ]
    signoff = forms["Manager_Signoff_Screen"]["fields"]
    assert signoff[0]["name"] == "approvalDecision"
    assert signoff[1]["validation"] == {
        "expression": "value > 0",
        "message": "The approved amount must be more than zero.",
    }
    assert forms["Investigate_Screen"]["fields"][1] == {
        "name": "Escalate_To",
        "label": "Escalate to (e-mail)",
        "type": "email",
    }


def test_loan_report_names_every_element_with_its_file_and_line(loan: Any) -> None:
    report = loan.report.find("Loan_Approval_Orchestration")
    assert not report.problems
    assert report.file == ORCHESTRATION
    first = entry(report, "filter 1: Status__c EqualTo Submitted")
    assert (first.outcome, first.became, first.line) == (
        Outcome.exact,
        "record.Status__c == 'Submitted'",
        19,
    )
    assert first.note == "equal to: =="
    after = entry(report, "step Manager_Signoff entry conditions")
    assert after.outcome is Outcome.approximated
    assert "skipped" in after.note  # the semantic difference is stated
    assert entry(report, "step Manager_Signoff assignee (Resource $Record.OwnerId)").line == 92
    username = entry(report, "step Confirm_Disbursement assignee (User alice@acme.example)")
    assert username.outcome is Outcome.approximated and "Baton user alice" in username.note
    visibility = entry(report, "screen field Committee_Notes")
    assert visibility.file == "flows/Committee_Review_Screen.flow"
    assert "always shows" in visibility.note
    choice = entry(report, "screen field Document_Type")
    assert "'Driving licence' is stored as 'Driving_Licence'" in choice.note
    assert entry(report, "recordLookups Get_Loan (in Run_Credit_Check)").became == "record"
    logic = entry(
        report,
        "decision Route_Decision rule High_Risk condition 3: "
        "$Record.Amount__c GreaterThan 100000.0",
    )
    assert logic.became == "record.Amount__c > 100000"
    # Where Baton behaves differently, the report says so instead of changing it silently.
    failed = entry(report, "work items of a failed run")
    assert (
        failed.outcome is Outcome.approximated and "Salesforce marks them Completed" in failed.note
    )
    assert "Completed" in entry(report, "stage Risk_Committee exit").note
    assert "an error in Baton, false in Salesforce" in logic.note
    findings = " ".join(report.findings)
    assert "nobody is told when a run fails" in findings
    assert "sets no max_visits" in findings  # the Go To loop
    # Every element of the orchestration file is in the report.
    lines = {e.line for e in report.entries if e.file == ORCHESTRATION}
    for stage_line in (43, 175, 250, 294, 313):
        assert stage_line in lines


def test_loan_report_as_markdown_and_json(loan: Any) -> None:
    markdown = loan.report.to_markdown()
    assert "## orchestration: Loan_Approval_Orchestration" in markdown
    assert (
        "| filter 1: Status__c EqualTo Submitted | carried over | "
        "record.Status__c == 'Submitted' | equal to: == | "
        "flows/Loan_Approval_Orchestration.flow:19 |"
    ) in markdown
    data = json.loads(loan.report.to_json())
    files = {f["name"]: f for f in data["files"]}
    entries = files["Loan_Approval_Orchestration"]["entries"]
    assert {"element": "stage Risk_Committee", "outcome": "carried over"}.items() <= next(
        e for e in entries if e["element"] == "stage Risk_Committee"
    ).items()
    assert files["Loan_Application__c"]["kind"] == "object type"


# ---------------------------------------------------------------- the supplier (SFDX layout)


@pytest.fixture(scope="module")
def supplier() -> Any:
    return convert([SUPPLIER])


def test_sfdx_object_from_field_files(supplier: Any) -> None:
    (object_type,) = supplier.object_types
    fields = {f.name: f for f in object_type.fields}
    assert fields["Category__c"].options == ["Goods", "Services", "Software"]
    assert fields["Category__c"].default == "Services"
    assert fields["Category__c"].required is True
    assert fields["Approved__c"].type == "checkbox"
    assert fields["Certifications__c"].type == "long_text"
    report = supplier.report.find("Supplier__c")
    lookup = entry(report, "field Parent_Supplier__c")
    assert lookup.file == SFDX + "objects/Supplier__c/fields/Parent_Supplier__c.field-meta.xml"
    assert entry(report, "nameField").note == "an auto-number is text"


def test_sfdx_autolaunched_orchestration(supplier: Any) -> None:
    definition, valid = supplier.definitions["Supplier_Onboarding"]
    assert valid and definition is not None
    data = supplier.report.find("Supplier_Onboarding").definition
    assert "trigger" not in data and "type" not in data  # autolaunched
    assert {v["name"]: v.get("default") for v in data["variables"]} == {
        "supplierName": None,
        "annualSpend": 0.0,
        "reviewerUsername": "carol",
        "onboardingResult": None,
    }
    diligence = element(data, "Due_Diligence")
    assert diligence["exit"] == {
        "when": "expression",
        "expression": "(Due_Diligence.Sanctions_Screening.status == 'Completed') and "
        "((Due_Diligence.Supplier_Questionnaire.status == 'Completed') or "
        "(vars.annualSpend <= 25000))",
    }
    questionnaire = step(data, "Due_Diligence", "Supplier_Questionnaire")
    # The entry evaluation flow's decision, with its input bound to the variable.
    assert questionnaire["start"] == {
        "when": "expression",
        "expression": "vars.annualSpend > 25000",
        "mode": "wait",
    }
    assert questionnaire["assignee"] == {"expression": "vars.reviewerUsername"}
    # An interactive step's exit conditions complete it without a submission.
    assert questionnaire["completion"] == "vars.Sanctions_Screening_screeningResult == 'Blocked'"
    # The stage's exit action: an evaluation flow assigning a formula over its input.
    assert element(data, "Contracting")["exit"] == {
        "when": "expression",
        "expression": "(Contracting.Register_Supplier.status == 'Completed')",
    }
    finance = step(data, "Due_Diligence", "Finance_Setup")
    assert finance["start"]["expression"] == (
        "(vars.Sanctions_Screening_screeningResult == 'Clear') or (vars.annualSpend < 1000)"
    )
    tier = element(data, "Spend_Tier")
    assert tier["outcomes"][0]["when"] == (
        "vars.annualSpend >= 100000 and vars.Sanctions_Screening_screeningResult == 'Clear'"
    )
    assert tier["default"] == "end"


def test_sfdx_actions_placeholders_and_waits(supplier: Any) -> None:
    data = supplier.report.find("Supplier_Onboarding").definition
    screening = step(data, "Due_Diligence", "Sanctions_Screening")["actions"]
    assert screening[0] == {
        "type": "python",
        "action": "not carried over from Salesforce: Apex action SanctionsScreeningService",
    }
    assert screening[2] == {"type": "wait_until", "until": "add_hours(now(), 1)"}
    assert screening[3] == {
        "type": "wait_for_event",
        "event": "Sanctions_Clearance",
        "key": "text(vars.supplierName)",
    }
    register = step(data, "Contracting", "Register_Supplier")["actions"]
    assert register[0] == {
        "type": "create_record",
        "object": "Supplier__c",
        "values": {"Category__c": "'Services'", "Annual_Spend__c": "vars.annualSpend"},
        "output": "Register_Supplier_supplierId",
    }
    assert register[1]["to"] == ["procurement@acme.example", "erp-team@acme.example"]
    assert register[1]["subject"] == "New supplier: {{ vars.supplierName }}"  # the subflow's
    assert [a.get("action", "") for a in register[2:]] == [
        "not carried over from Salesforce: subflow External_Audit_Log is not in the project",
        "not carried over from Salesforce: e-mail alert Supplier__c.Welcome_Supplier (its "
        "template and recipients live in the org's workflow alerts)",
    ]
    assert step(data, "Contracting", "Contract_Signature")["actions"][0]["action"] == (
        "not carried over from Salesforce: MuleSoft step DocuSign_Envelope"
    )
    report = supplier.report.find("Supplier_Onboarding")
    placeholders = [f for f in report.findings if "holds a placeholder" in f]
    assert len(placeholders) == 5 and all(f.startswith("critical:") for f in placeholders)


def test_sfdx_screen_flow_fields_and_what_is_not_carried(supplier: Any) -> None:
    data = supplier.report.find("Supplier_Onboarding").definition
    form = data["forms"]["Supplier_Questionnaire_Screen"]
    names = [f["name"] for f in form["fields"]]
    # Inside a section; Country's record choice set and the name component are dropped;
    # the two output variables are fields.
    assert names == ["Employees", "Website", "certifications", "riskNotes"]
    assert form["fields"][0]["validation"]["expression"] == "((value > 0) and (value < 1000000))"
    assert "validation" not in form["fields"][1]  # REGEX has no counterpart
    assert (
        form["instructions"] == "Tick every certification the supplier holds for {!supplierName}."
    )
    report = supplier.report.find("Supplier_Onboarding")
    assert entry(report, "screen field Country").outcome is Outcome.not_carried
    assert "REGEX" in entry(report, "screen field Website").note
    assert entry(report, "output variable riskNotes").outcome is Outcome.approximated
    logic = entry(
        report, "recordUpdates Update_Supplier (in screen flow Supplier_Questionnaire_Screen)"
    )
    assert logic.outcome is Outcome.not_carried
    terms = data["forms"]["Finance_Setup_Screen"]["fields"][1]
    assert (terms["type"], terms["default"], terms["options"]) == (
        "picklist",
        "Net30",
        ["Net30", "Net60"],
    )


# ---------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def bad() -> Any:
    return convert([str(DATA / "bad_inputs")])


@pytest.mark.parametrize(
    ("file", "line", "message"),
    [
        ("flows/Not_Xml.flow", 1, "not well-formed XML: syntax error"),
        ("flows/Broken.flow", 7, "not well-formed XML: mismatched tag"),
        ("flows/Not_A_Flow.flow", 2, "the file is XML but not a Salesforce Flow"),
        ("flows/Bomb.flow", 2, "the file declares a DTD or entities"),
    ],
)
def test_unreadable_files_get_a_located_message(
    bad: Any, file: str, line: int, message: str
) -> None:
    report = next(f for f in bad.report.files if f.file == file)
    (problem,) = report.problems
    assert problem.line == line and problem.note.startswith(message)


def test_bad_orchestrations_are_reported_and_not_stored(bad: Any) -> None:
    names = {f.name for f in bad.report.orchestrations()}
    assert names == {"Missing_Screen", "Unknown_Operator", "Dangling_References", "Unknown_Element"}
    missing = bad.report.find("Missing_Screen")
    (problem,) = missing.problems
    assert problem.note == "screen flow 'Nowhere_Screen' is not in the project"
    assert (problem.file, problem.line) == ("flows/Missing_Screen.flow", 18)
    operator = bad.report.find("Unknown_Operator")
    notes = [p.note for p in operator.problems]
    assert notes[0].startswith("unknown operator 'Resembles'")
    assert notes[1].startswith("operator WasVisited: which flow elements were visited")
    dangling = bad.report.find("Dangling_References")
    notes = " | ".join(p.note for p in dangling.problems)
    assert "'ghostVariable' is not a step, stage, variable" in notes
    assert "step 'Real_Step' has no output 'nothing'" in notes
    assert "'Ghost_Step.Status' is not a step" in notes
    assert "connects to 'Nowhere_Stage'" in notes
    assert "no element named 'Nowhere_Stage'" in notes  # Baton's validation agrees
    unknown = bad.report.find("Unknown_Element")
    notes = [p.note for p in unknown.problems]
    assert notes[0] == "unknown element 'recordUpdates' for an orchestration"
    assert notes[1].startswith("unknown step actionType 'stepTeleport'")
    assert unknown.problems[0].line == 12
    # A screen flow no orchestration uses is listed, not imported.
    screen = next(f for f in bad.report.files if f.name == "Screen_Only")
    assert screen.kind == "skipped" and not screen.problems
    assert not bad.report.ok


def test_a_named_file_of_another_process_type_is_a_problem() -> None:
    result = convert([str(DATA / "bad_inputs" / "flows" / "Screen_Only.flow")])
    report = next(f for f in result.report.files if f.name == "Screen_Only")
    assert report.problems[0].element == "processType Flow"
    assert not result.definitions


def test_a_single_file_finds_its_flows_and_objects_beside_it() -> None:
    result = convert([str(DATA / "loan_mdapi" / "flows" / "Loan_Approval_Orchestration.flow")])
    assert [f.kind for f in result.report.files] == ["object type", "orchestration"]
    assert result.definitions["Loan_Approval_Orchestration"][1]


def test_missing_paths_and_empty_folders(tmp_path: Path) -> None:
    result = convert([str(tmp_path / "nowhere")])
    assert result.report.files[0].problems[0].note == "no such file or folder"
    result = convert([str(tmp_path)])
    assert result.report.files[-1].problems[0].note == "no Salesforce flow or object files found"
    (tmp_path / "notes.txt").write_text("hello")
    result = convert([str(tmp_path / "notes.txt")])
    assert "not a Salesforce flow or object file" in result.report.files[0].problems[0].note


# ---------------------------------------------------------------- damaged metadata

_BLOCK = re.compile(r"\n(\s*)<(\w+)>.*?\n\1</\2>", re.S)
_TEXT = re.compile(r">([^<>\n]+)<")
_GARBAGE = [
    "",
    "x",
    "-1.5e",
    "{!",
    "{!Ghost}",
    "1 AND (",
    "99",
    "NaN",
    "1e400",
    "$Record.A.B",
    "Completed",
    "Intake_Review",
    "stepBackground",
    "Resource",
    "WasSet",
    "Flow",
]


def _damage(rng: random.Random, text: str) -> str:
    """Replace a value, drop an element, or repeat one."""
    roll = rng.random()
    if roll < 0.5 and (values := list(_TEXT.finditer(text))):
        found = rng.choice(values)
        return text[: found.start(1)] + rng.choice(_GARBAGE) + text[found.end(1) :]
    if blocks := list(_BLOCK.finditer(text)):
        found = rng.choice(blocks)
        if roll < 0.8:
            return text[: found.start()] + text[found.end() :]
        return text[: found.end()] + found.group(0) + text[found.end() :]
    return text


def test_damaged_projects_are_reported_never_raised(tmp_path: Path) -> None:
    """Values replaced by garbage, elements dropped or repeated: every import still returns
    a report, and never through the last-resort 'could not convert' net."""
    rng = random.Random(17)
    for attempt in range(120):
        project = tmp_path / str(attempt)
        shutil.copytree(rng.choice([LOAN, SUPPLIER]), project)
        files = sorted(p for p in project.rglob("*") if p.suffix in (".flow", ".xml", ".object"))
        for _ in range(rng.randint(1, 5)):
            target = rng.choice(files)
            target.write_text(_damage(rng, target.read_text()))
        result = convert([str(project)])
        result.report.to_markdown()
        notes = [e.note for f in result.report.files for e in f.entries]
        assert not [n for n in notes if n.startswith("Baton could not convert")], attempt


def test_duplicate_names_are_problems(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(Path(LOAN) / "flows", flows)
    path = flows / "Loan_Approval_Orchestration.flow"
    text = path.read_text()
    stage = _BLOCK.search(text[text.index("<orchestratedStages>") - 5 :])
    assert stage is not None
    step_at = text.index("<stageSteps>") - 9
    step_block = _BLOCK.search(text[step_at:])
    assert step_block is not None
    text = text[:step_at] + step_block.group(0) + text[step_at:]  # Verify_Documents twice
    path.write_text(text.replace("</Flow>", stage.group(0) + "\n</Flow>"))
    report = convert([str(tmp_path)]).report.find("Loan_Approval_Orchestration")
    notes = [p.note for p in report.problems]
    assert any(
        n.startswith("a second element named 'Intake_Review' (the first is on line 43)")
        for n in notes
    )
    assert "a second step named 'Verify_Documents'" in " ".join(notes)


def test_a_number_that_is_not_one_is_a_located_problem(tmp_path: Path) -> None:
    shutil.copytree(SUPPLIER, tmp_path / "p")
    path = tmp_path / "p" / SFDX / "flows" / "Supplier_Onboarding.flow-meta.xml"
    path.write_text(
        path.read_text().replace(
            "<numberValue>0.0</numberValue>", "<numberValue>1e400</numberValue>"
        )
    )
    report = convert([str(tmp_path / "p")]).report.find("Supplier_Onboarding")
    (problem,) = report.problems
    assert (problem.element, problem.note) == (
        "variable annualSpend default",
        "'1e400' is not a finite number",
    )
    assert problem.line == 29
