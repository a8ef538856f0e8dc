"""One undoable command per gesture. Each runs one edit of ``engine.definitions.editing`` on
the document's data: redo puts the edited data in place, undo the data from before. An edit
that cannot be made raises ``EditError`` when the command is made, before it is pushed."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QUndoCommand

from desktop_app.designer.document import NOTHING, DesignDocument, Key
from engine.definitions import editing
from engine.definitions.editing import Data


class EditCommand(QUndoCommand):
    """Base: ``edit(data) -> (new data, selection after)``."""

    merge_id = -1

    def __init__(
        self, document: DesignDocument, text: str, edit: Callable[[Data], tuple[Data, Key]]
    ) -> None:
        super().__init__(text)
        # A weak reference: the document's undo stack owns its commands, and a cycle between
        # them would leave their release order to the garbage collector (which crashes Qt).
        self._document = weakref.ref(document)
        self.before = document.data
        self.selection_before = document.selection
        self.after, self.selection_after = edit(self.before)
        self.merge_key: Any = None

    def redo(self) -> None:
        document = self._document()
        if document is not None:
            document.replace(self.after, self.selection_after)

    def undo(self) -> None:
        document = self._document()
        if document is not None:
            document.replace(self.before, self.selection_before)

    def id(self) -> int:
        return self.merge_id

    def mergeWith(self, other: QUndoCommand) -> bool:
        if (
            isinstance(other, EditCommand)
            and other.merge_key is not None
            and other.merge_key == self.merge_key
        ):
            self.after = other.after
            self.selection_after = other.selection_after
            return True
        return False


class AddStage(EditCommand):
    def __init__(self, document: DesignDocument, index: int | None = None) -> None:
        def edit(data: Data) -> tuple[Data, Key]:
            out, name = editing.add_stage(data, index)
            return out, (name, None)

        super().__init__(document, "Add stage", edit)


class AddDecision(EditCommand):
    def __init__(self, document: DesignDocument, index: int | None = None) -> None:
        def edit(data: Data) -> tuple[Data, Key]:
            out, name = editing.add_decision(data, index)
            return out, (name, None)

        super().__init__(document, "Add decision", edit)


class AddStep(EditCommand):
    def __init__(
        self, document: DesignDocument, stage: str, kind: str, index: int | None = None
    ) -> None:
        def edit(data: Data) -> tuple[Data, Key]:
            out, name = editing.add_step(data, stage, kind, index)
            return out, (stage, name)

        super().__init__(document, f"Add {kind} step to {stage}", edit)


class AddOutcome(EditCommand):
    def __init__(self, document: DesignDocument, decision: str) -> None:
        def edit(data: Data) -> tuple[Data, Key]:
            out, _ = editing.add_outcome(data, decision)
            return out, (decision, None)

        super().__init__(document, f"Add outcome to {decision}", edit)


class DeleteOutcome(EditCommand):
    def __init__(self, document: DesignDocument, decision: str, outcome: str) -> None:
        super().__init__(
            document,
            f"Delete outcome {outcome}",
            lambda data: (editing.delete_outcome(data, decision, outcome), (decision, None)),
        )


class DeleteElement(EditCommand):
    def __init__(self, document: DesignDocument, name: str) -> None:
        super().__init__(
            document, f"Delete {name}", lambda data: (editing.delete_element(data, name), NOTHING)
        )


class DeleteStep(EditCommand):
    def __init__(self, document: DesignDocument, stage: str, step: str) -> None:
        super().__init__(
            document,
            f"Delete step {stage}.{step}",
            lambda data: (editing.delete_step(data, stage, step), (stage, None)),
        )


class RenameElement(EditCommand):
    def __init__(self, document: DesignDocument, old: str, new: str) -> None:
        super().__init__(
            document,
            f"Rename {old} to {new}",
            lambda data: (editing.rename_element(data, old, new), (new, None)),
        )


class RenameStep(EditCommand):
    def __init__(self, document: DesignDocument, stage: str, old: str, new: str) -> None:
        super().__init__(
            document,
            f"Rename step {old} to {new}",
            lambda data: (editing.rename_step(data, stage, old, new), (stage, new)),
        )


class MoveElement(EditCommand):
    def __init__(self, document: DesignDocument, name: str, index: int) -> None:
        super().__init__(
            document,
            f"Move {name}",
            lambda data: (editing.move_element(data, name, index), (name, None)),
        )


class MoveStep(EditCommand):
    def __init__(
        self, document: DesignDocument, stage: str, step: str, to_stage: str, index: int
    ) -> None:
        where = "" if to_stage == stage else f" to {to_stage}"
        super().__init__(
            document,
            f"Move step {step}{where}",
            lambda data: (editing.move_step(data, stage, step, to_stage, index), (to_stage, step)),
        )


class SetProperty(EditCommand):
    """A field's new value. Typing into the same field merges into one command."""

    merge_id = 1

    def __init__(self, document: DesignDocument, owner: str | None, key: str, value: Any) -> None:
        selection = document.selection
        super().__init__(
            document,
            f"Change {key}" + (f" of {owner}" if owner else ""),
            lambda data: (editing.set_value(data, owner, key, value), selection),
        )
        self.merge_key = (owner, key)


class Connect(EditCommand):
    def __init__(self, document: DesignDocument, source: str, port: str, to: str | None) -> None:
        super().__init__(
            document,
            f"Connect {source} {port} to {to or 'nothing'}",
            lambda data: (editing.connect(data, source, port, to), (source, None)),
        )


class AddForm(EditCommand):
    """'New form…' of a step's Form: a new form, named after the step, which it now uses."""

    def __init__(self, document: DesignDocument, stage: str, step: str) -> None:
        selection = document.selection

        def edit(data: Data) -> tuple[Data, Key]:
            out, _ = editing.add_form(data, stage, step)
            return out, selection

        super().__init__(document, f"New form for {stage}.{step}", edit)


class AddField(EditCommand):
    def __init__(self, document: DesignDocument, form: str, kind: str) -> None:
        selection = document.selection

        def edit(data: Data) -> tuple[Data, Key]:
            out, _ = editing.add_field(data, form, kind)
            return out, selection

        super().__init__(document, f"Add {kind} field to {form}", edit)


class PasteSteps(EditCommand):
    def __init__(self, document: DesignDocument, stage: str, steps: list[Data]) -> None:
        def edit(data: Data) -> tuple[Data, Key]:
            out, names = editing.paste_steps(data, stage, steps)
            return out, (stage, names[-1] if names else None)

        super().__init__(document, f"Paste into {stage}", edit)


class PasteElement(EditCommand):
    def __init__(self, document: DesignDocument, element: Data, index: int | None) -> None:
        def edit(data: Data) -> tuple[Data, Key]:
            out, name = editing.paste_element(data, element, index)
            return out, (name, None)

        super().__init__(document, f"Paste {element.get('kind', 'element')}", edit)


# Every gesture's command, for tests that must cover them all.
ALL = (
    AddStage,
    AddDecision,
    AddStep,
    AddOutcome,
    DeleteOutcome,
    DeleteElement,
    DeleteStep,
    RenameElement,
    RenameStep,
    MoveElement,
    MoveStep,
    SetProperty,
    Connect,
    AddForm,
    AddField,
    PasteSteps,
    PasteElement,
)
