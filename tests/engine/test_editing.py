"""Edits of a draft (what the designer's commands do): references stay whole, the argument is
never changed, and impossible edits are refused with the reason."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.definitions import editing
from engine.definitions.editing import EditError
from engine.definitions.inspection import check_expression, expression_names, inspect

DEFINITIONS = Path(__file__).parents[2] / "resources" / "definitions"


@pytest.fixture
def onboarding() -> dict[str, Any]:
    return yaml.safe_load((DEFINITIONS / "customer_onboarding.yaml").read_text())


def test_renaming_a_stage_updates_targets_and_expressions(onboarding: dict[str, Any]) -> None:
    before = copy.deepcopy(onboarding)
    renamed = editing.rename_element(onboarding, "review", "assessment")
    assert onboarding == before, "an edit never changes its argument"
    assert "review" not in editing.element_names(renamed)
    text = yaml.safe_dump(renamed)
    assert "review.legal" not in text and "assessment.legal.outputs.outcome" in text
    assert inspect(renamed).valid, [p.message for p in inspect(renamed).problems]


def test_renaming_a_step_updates_conditions_and_expressions(onboarding: dict[str, Any]) -> None:
    renamed = editing.rename_step(onboarding, "review", "legal", "legal_check")
    text = yaml.safe_dump(renamed)
    assert "review.legal." not in text and "review.legal_check.outputs" in text
    assert inspect(renamed).valid


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("review", "2fast", "not a valid stage or decision name"),
        ("review", "intake", "already a stage or decision named 'intake'"),
        ("review", "end", "reserved"),
    ],
)
def test_bad_renames_are_refused_with_the_reason(
    onboarding: dict[str, Any], old: str, new: str, message: str
) -> None:
    with pytest.raises(EditError, match=message):
        editing.rename_element(onboarding, old, new)


def test_deleting_an_element_reconnects_what_pointed_at_it(onboarding: dict[str, Any]) -> None:
    # the decision's default was rework, and rework went on to review: now it goes to review
    data = editing.delete_element(onboarding, "rework")
    assert editing.element(data, "all_approved")["default"] == "review"
    assert "rework" not in editing.element_names(data)
    assert inspect(data).valid


def test_deleting_a_step_drops_it_from_conditions() -> None:
    data = {
        "format": 1,
        "name": "x",
        "elements": [
            {
                "kind": "stage",
                "name": "s",
                "exit": {"when": "steps", "steps": ["a"]},
                "steps": [
                    {"kind": "interactive", "name": "a"},
                    {
                        "kind": "interactive",
                        "name": "b",
                        "start": {"when": "after", "steps": ["a"]},
                    },
                ],
            }
        ],
    }
    out = editing.delete_step(data, "s", "a")
    stage = editing.stage(out, "s")
    assert "exit" not in stage and "start" not in stage["steps"][0]


def test_moving_a_step_to_another_stage_drops_its_dependencies(onboarding: dict[str, Any]) -> None:
    out = editing.move_step(onboarding, "review", "senior_approval", "intake", 0)
    assert editing.steps(editing.stage(out, "intake"))[0]["name"] == "senior_approval"
    assert "start" not in editing.step(out, "intake", "senior_approval") or (
        editing.step(out, "intake", "senior_approval")["start"].get("when") != "after"
    )
    with pytest.raises(EditError, match="no step named"):
        editing.move_step(onboarding, "review", "nobody", "intake", 0)


def test_adding_gives_unique_names_and_decisions_keep_the_flow(onboarding: dict[str, Any]) -> None:
    data, first = editing.add_stage(onboarding, 1, "Review")
    assert first == "review_2"
    data, decision = editing.add_decision(data, 1)
    assert editing.element(data, decision)["default"] == "review_2"
    data, step = editing.add_step(data, "review_2", "background")
    assert editing.step(data, "review_2", step)["actions"] == []
    data, outcome = editing.add_outcome(data, decision)
    assert editing.element(data, decision)["outcomes"][0]["name"] == outcome
    with pytest.raises(EditError, match="only decisions have outcomes"):
        editing.add_outcome(data, "intake")


def test_paste_renames_what_is_taken_and_keeps_its_own_references(
    onboarding: dict[str, Any],
) -> None:
    review = copy.deepcopy(editing.element(onboarding, "review"))
    review["exit"] = {"when": "expression", "expression": "review.legal.status == 'Completed'"}
    review["next"] = "activation"
    data, name = editing.paste_element(onboarding, review, 2)
    assert name == "review_2"
    pasted = editing.element(data, name)
    assert pasted["exit"]["expression"] == "review_2.legal.status == 'Completed'"
    assert "next" not in pasted, "its connections were to where it was copied from"
    data, names = editing.paste_steps(data, "intake", [editing.step(data, "review", "legal")])
    assert names == ["legal"] or names[0].startswith("legal_")


def test_set_value_and_connect(onboarding: dict[str, Any]) -> None:
    data = editing.set_value(onboarding, "review.legal", "due", "3 business days")
    assert editing.step(data, "review", "legal")["due"] == "3 business days"
    data = editing.set_value(data, "review.legal", "due", None)
    assert "due" not in editing.step(data, "review", "legal")
    with pytest.raises(EditError, match="renaming"):
        editing.set_value(data, "review", "name", "x")
    data = editing.connect(data, "intake", "fault", "activation")
    assert editing.element(data, "intake")["fault"] == "activation"
    with pytest.raises(EditError, match="no stage or decision named 'nowhere'"):
        editing.connect(data, "intake", "next", "nowhere")


def test_expression_help_for_the_designer(onboarding: dict[str, Any]) -> None:
    names = expression_names(onboarding, ["status"])
    assert "vars.amount" in names and "record.status" in names
    assert "review.legal.outputs.outcome" in names and "coalesce(" in names
    assert "did you mean 'amount'" in check_expression(onboarding, "vars.amout > 1")
    assert check_expression(onboarding, "review.legal.outputs.risk == 'low'") == ""
    assert "column" in check_expression(onboarding, "vars.amount >")


def test_inspection_places_problems_and_findings(onboarding: dict[str, Any]) -> None:
    broken = editing.set_value(onboarding, "review.legal", "completion", "vars.nope")
    result = inspect(broken)
    assert not result.valid
    assert any(p.element == "review" and p.step == "legal" for p in result.problems)
    unassigned = editing.set_value(onboarding, "review.legal", "assignee", None)
    assert [(p.severity, p.element, p.step) for p in inspect(unassigned).problems] == [
        ("error", "review", "legal")
    ]
    unheard = editing.set_value(onboarding, None, "error_recipients", None)
    result = inspect(unheard)
    assert result.valid
    assert [(f.severity, f.element) for f in result.findings] == [("critical", None)]


def test_a_label_derived_from_a_name_follows_a_rename(onboarding: dict[str, Any]) -> None:
    data, name = editing.add_stage(onboarding)
    assert editing.element(data, name)["label"] == "New stage"
    data = editing.rename_element(data, name, "credit_check")
    assert editing.element(data, "credit_check")["label"] == "Credit check"
    data, again = editing.add_stage(data)
    data, third = editing.add_stage(data)
    assert (again, third) == ("new_stage", "new_stage_2")
    assert editing.element(data, third)["label"] == "New stage 2", "the label reads as the name"
    data = editing.rename_element(data, third, "pricing")
    assert editing.element(data, "pricing")["label"] == "Pricing"
    data = editing.rename_element(data, "review", "assessment")
    assert editing.element(data, "assessment")["label"] == "Assessment"
    # a label written by hand stays as written
    data = editing.rename_step(data, "intake", "record_request", "log")
    assert editing.step(data, "intake", "log")["label"] == "Record the request"
    data, task = editing.add_step(data, "pricing")
    data = editing.rename_step(data, "pricing", task, "quote")
    assert editing.step(data, "pricing", "quote")["label"] == "Quote"
    assert editing.relabel("Customer Onboarding", "customer_onboarding", "vendor_intake") == (
        "Vendor Intake"
    )


def test_forms_and_typed_fields_are_added_valid(onboarding: dict[str, Any]) -> None:
    data, stage = editing.add_stage(onboarding, 1, "Pricing")
    data, task = editing.add_step(data, stage)
    data, form = editing.add_form(data, stage, task)
    assert form == "new_task_form"
    assert editing.step(data, stage, task)["form"] == form
    assert editing.form(data, form) == {"title": "New task"}
    for kind in editing.FIELD_TYPES:
        data, _ = editing.add_field(data, form, kind)
    data, second = editing.add_field(data, form, "date")
    assert second == "date_2"
    fields = editing.form(data, form)["fields"]
    assert [f["type"] for f in fields] == [*editing.FIELD_TYPES, "date"]
    picklist = next(f for f in fields if f["type"] == "picklist")
    assert picklist["options"] == ["Option 1", "Option 2"]
    problems = [p for p in inspect(data).problems if p.where.startswith("forms")]
    assert problems == [], [p.message for p in problems]
    with pytest.raises(EditError, match="not a field type"):
        editing.add_field(data, form, "colour")
    with pytest.raises(EditError, match="only interactive steps have forms"):
        editing.add_form(data, "activation", "activate_account")


def test_retyping_a_field_drops_what_no_longer_suits() -> None:
    picklist = {"name": "risk", "type": "picklist", "options": ["low", "high"], "default": "low"}
    assert editing.retype_field(picklist, "text") == {
        "name": "risk",
        "type": "text",
        "default": "low",
    }
    assert editing.retype_field(picklist, "number") == {"name": "risk", "type": "number"}
    assert editing.retype_field({"name": "a", "default": 3}, "picklist") == {
        "name": "a",
        "type": "picklist",
        "options": ["Option 1", "Option 2"],
    }
