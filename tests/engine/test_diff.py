"""What changed between two versions of an orchestration."""

from __future__ import annotations

import yaml

from engine.definitions import load_file, load_text, to_yaml
from engine.definitions.diff import diff
from tests.conftest import RESOURCES

ONBOARDING = str(RESOURCES / "definitions" / "customer_onboarding.yaml")


def changed(text_change: object) -> list[str]:
    old = load_file(ONBOARDING)
    data = yaml.safe_load(to_yaml(old))
    text_change(data)  # type: ignore[operator]
    return [c.describe() for c in diff(old, load_text(yaml.safe_dump(data, sort_keys=False)))]


def test_no_changes() -> None:
    definition = load_file(ONBOARDING)
    assert diff(definition, definition) == []


def test_added_removed_and_changed_things_are_named() -> None:
    def edit(data: dict) -> None:  # type: ignore[type-arg]
        review = next(e for e in data["elements"] if e["name"] == "review")
        review["steps"] = [s for s in review["steps"] if s["name"] != "senior_approval"]
        legal = next(s for s in review["steps"] if s["name"] == "legal")
        legal["due"] = "3 business days"
        review["steps"].append(
            {
                "kind": "interactive",
                "name": "privacy",
                "form": "review",
                "assignee": {"queue": "legal"},
            }
        )
        data["error_recipients"] = ["ops@example.com", "carol"]
        data["forms"]["review"]["fields"].append({"name": "score", "type": "number"})
        decision = next(e for e in data["elements"] if e["name"] == "all_approved")
        decision["outcomes"][0]["when"] = "review.legal.outputs.outcome == 'approve'"

    changes = changed(edit)
    assert (
        "changed  settings: error_recipients: ['ops@example.com'] → ['ops@example.com', 'carol']"
        in changes
    )
    assert "changed  form review: added    field review.score" in changes
    assert "changed  step review.legal: due: 2 business days → 3 business days" in changes
    assert "removed  step review.senior_approval" in changes
    assert "added    step review.privacy" in changes
    assert any(c.startswith("changed  decision all_approved: outcomes:") for c in changes)


def test_elements_added_and_removed() -> None:
    def edit(data: dict) -> None:  # type: ignore[type-arg]
        data["elements"] = [e for e in data["elements"] if e["name"] != "rework"]
        decision = next(e for e in data["elements"] if e["name"] == "all_approved")
        decision["default"] = "review"
        data["elements"].insert(
            1,
            {
                "kind": "stage",
                "name": "kyc",
                "steps": [
                    {
                        "kind": "background",
                        "name": "check",
                        "on_failure": "error",
                        "actions": [{"type": "set_variables", "values": {"kyc": "True"}}],
                    }
                ],
            },
        )

    changes = changed(edit)
    assert "added    stage kyc" in changes
    assert "removed  stage rework" in changes
    assert "changed  decision all_approved: default: rework → review" in changes
