"""Every designer command acts on the model: do → undo → redo gives back equal models, and the
canvas always shows exactly what the model holds."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from desktop_app.designer import commands
from desktop_app.designer.document import DesignDocument
from desktop_app.designer.items import DecisionItem, LaneItem, StepItem
from desktop_app.designer.scene import DesignScene
from engine.definitions import editing

DEFINITIONS = Path(__file__).parents[2] / "resources" / "definitions"


def onboarding() -> dict[str, Any]:
    return yaml.safe_load((DEFINITIONS / "customer_onboarding.yaml").read_text())


def assert_scene_matches(scene: DesignScene, data: dict[str, Any]) -> None:
    """One lane per stage, one diamond per decision, one card per step, one arrow per link."""
    expected: dict[tuple[str | None, str | None], type] = {}
    links = 0
    for index, element in enumerate(data["elements"]):
        name = element["name"]
        if element["kind"] == "stage":
            expected[(name, None)] = LaneItem
            for step in element.get("steps", []):
                expected[(name, step["name"])] = StepItem
            links += 1 + bool(element.get("fault"))
        else:
            expected[(name, None)] = DecisionItem
            links += len(element.get("outcomes", [])) + bool(element.get("default"))
        del index
    shown = {key: type(item) for key, item in scene.items_by_key.items()}
    assert shown == expected
    for key, item in scene.items_by_key.items():
        owner = (
            editing.element(data, str(key[0]))
            if key[1] is None
            else editing.step(data, str(key[0]), str(key[1]))
        )
        assert item.data_ == owner, f"{key} shows stale data"
    assert len([e for e in scene.edges if e.edge is not None]) == links


CASES: dict[str, Callable[[DesignDocument], commands.EditCommand]] = {
    "AddStage": lambda d: commands.AddStage(d, 1),
    "AddDecision": lambda d: commands.AddDecision(d, 2),
    "AddStep": lambda d: commands.AddStep(d, "intake", "background"),
    "AddOutcome": lambda d: commands.AddOutcome(d, "all_approved"),
    "DeleteOutcome": lambda d: commands.DeleteOutcome(d, "all_approved", "approved"),
    "DeleteElement": lambda d: commands.DeleteElement(d, "rework"),
    "DeleteStep": lambda d: commands.DeleteStep(d, "review", "finance"),
    "RenameElement": lambda d: commands.RenameElement(d, "review", "assessment"),
    "RenameStep": lambda d: commands.RenameStep(d, "review", "legal", "legal_check"),
    "MoveElement": lambda d: commands.MoveElement(d, "activation", 0),
    "MoveStep": lambda d: commands.MoveStep(d, "review", "finance", "intake", 0),
    "SetProperty": lambda d: commands.SetProperty(d, "review.legal", "due", "5 days"),
    "Connect": lambda d: commands.Connect(d, "intake", "fault", "activation"),
    "AddForm": lambda d: commands.AddForm(d, "review", "legal"),
    "AddField": lambda d: commands.AddField(d, "review", "date"),
    "PasteSteps": lambda d: commands.PasteSteps(
        d, "intake", [editing.step(d.data, "review", "legal")]
    ),
    "PasteElement": lambda d: commands.PasteElement(d, editing.element(d.data, "review"), 3),
}


def test_every_command_type_is_covered() -> None:
    assert set(CASES) == {c.__name__ for c in commands.ALL}


@pytest.mark.parametrize("name", sorted(CASES))
def test_do_undo_redo_returns_equal_models_and_the_scene_follows(qtbot: Any, name: str) -> None:
    document = DesignDocument(onboarding())
    scene = DesignScene(document)
    original = copy.deepcopy(document.data)
    assert_scene_matches(scene, original)

    document.push(CASES[name](document))
    done = copy.deepcopy(document.data)
    assert done != original, f"{name} changed nothing"
    assert_scene_matches(scene, done)

    document.stack.undo()
    assert document.data == original
    assert_scene_matches(scene, original)

    document.stack.redo()
    assert document.data == done
    assert_scene_matches(scene, done)


def test_typing_into_one_field_is_one_undo_step(qtbot: Any) -> None:
    document = DesignDocument(onboarding())
    for attempts in (4, 5, 6):
        document.push(
            commands.SetProperty(
                document, "activation.activate_account", "retry", {"attempts": attempts}
            )
        )
    assert document.stack.count() == 1
    document.stack.undo()
    assert document.data == onboarding()


def test_a_read_only_document_takes_no_commands(qtbot: Any) -> None:
    document = DesignDocument(onboarding(), read_only=True)
    document.push(commands.AddStage(document))
    assert document.stack.count() == 0 and document.data == onboarding()
