"""Edits of a definition as plain data: what the designer's commands do to a draft.

Each edit takes the data of a definition (as ``to_data`` writes it) and returns new data,
leaving its argument untouched, so an undo is the data from before. Edits keep references
whole: renaming a stage renames it wherever it is a target or in an expression; deleting a
step drops it from the start and exit conditions that named it. An edit that cannot be made
raises ``EditError`` saying why; a draft may still be invalid in other ways (review and
validation say how), so that work in progress can always be kept.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

from engine.definitions.model import END, FORMAT_VERSION, FieldType, is_valid_name
from engine.text import derived_label

Data = dict[str, Any]
# Keys whose text is prose, never an expression: a rename leaves them alone.
PROSE = frozenset(
    {"name", "label", "description", "title", "instructions", "help", "message", "kind", "type"}
)
# Lists of plain words or addresses, never expressions.
WORD_LISTS = frozenset({"steps", "error_recipients", "options", "events", "expect_status"})
PORTS = ("next", "fault", "default")


class EditError(ValueError):
    """An edit that cannot be made, with the reason."""


def new_definition(name: str = "new_orchestration", label: str | None = None) -> Data:
    """A draft to start from: a blank canvas, drawn on from the palette."""
    return {
        "format": FORMAT_VERSION,
        "name": name,
        "label": label or name.replace("_", " ").title(),
        "elements": [],
    }


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_]+", "_", text.strip().lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = "x_" + slug
    return slug[:50]


def unique_name(base: str, taken: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3`` … whichever is free."""
    base = _slug(base)
    if base not in taken and base != END:
        return base
    number = 2
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


# ---------------------------------------------------------------- finding things


def elements(data: Data) -> list[Data]:
    value = data.setdefault("elements", [])
    if not isinstance(value, list):
        raise EditError("'elements' is not a list")
    return value


def element_names(data: Data) -> list[str]:
    return [str(e.get("name")) for e in data.get("elements") or [] if isinstance(e, dict)]


def element_index(data: Data, name: str) -> int:
    for index, element in enumerate(data.get("elements") or []):
        if isinstance(element, dict) and element.get("name") == name:
            return index
    raise EditError(f"there is no stage or decision named '{name}'")


def element(data: Data, name: str) -> Data:
    return elements(data)[element_index(data, name)]


def stage(data: Data, name: str) -> Data:
    found = element(data, name)
    if found.get("kind") != "stage":
        raise EditError(f"'{name}' is a decision, not a stage: it has no steps")
    return found


def steps(stage_data: Data) -> list[Data]:
    value = stage_data.setdefault("steps", [])
    if not isinstance(value, list):
        raise EditError(f"the steps of stage '{stage_data.get('name')}' are not a list")
    return value


def step_index(data: Data, stage_name: str, name: str) -> int:
    for index, step in enumerate(steps(stage(data, stage_name))):
        if isinstance(step, dict) and step.get("name") == name:
            return index
    raise EditError(f"stage '{stage_name}' has no step named '{name}'")


def step(data: Data, stage_name: str, name: str) -> Data:
    return steps(stage(data, stage_name))[step_index(data, stage_name, name)]


def all_step_names(data: Data) -> set[str]:
    return {
        str(s.get("name"))
        for e in data.get("elements") or []
        if isinstance(e, dict)
        for s in e.get("steps") or []
        if isinstance(s, dict)
    }


def target(data: Data, name: str | None) -> Data:
    """The orchestration (None), an element ('review') or a step ('review.legal')."""
    if name is None:
        return data
    if "." in name:
        stage_name, step_name = name.split(".", 1)
        return step(data, stage_name, step_name)
    return element(data, name)


def _copy(data: Data) -> Data:
    return copy.deepcopy(data)


def _check_name(name: str, what: str) -> None:
    if not is_valid_name(name):
        raise EditError(
            f"'{name}' is not a valid {what} name: start with a letter, then use letters, "
            "digits or '_' (e.g. credit_check)"
        )
    if name == END:
        raise EditError(f"'{END}' is reserved: it is where runs end")


# ---------------------------------------------------------------- adding


def _label_for(name: str, label: str) -> str:
    """``label``, unless the name had to differ from it (``new_stage_2``): then the name's."""
    return label if _slug(label) == name else derived_label(name)


def relabel(label: Any, old: str, new: str) -> Any:
    """The label after renaming ``old`` to ``new``: one that was derived from the old name
    ("New stage" of ``new_stage``) follows the new name; one written by hand is kept."""
    if not isinstance(label, str) or _slug(label) != old:
        return label
    return new.replace("_", " ").title() if label.istitle() and " " in label else derived_label(new)


def add_stage(data: Data, index: int | None = None, label: str = "New stage") -> tuple[Data, str]:
    out = _copy(data)
    name = unique_name(label, set(element_names(out)))
    items = elements(out)
    items.insert(len(items) if index is None else index, _stage(name, _label_for(name, label)))
    return out, name


def _stage(name: str, label: str) -> Data:
    return {"kind": "stage", "name": name, "label": label, "steps": []}


def add_decision(data: Data, index: int | None = None, label: str = "Decide") -> tuple[Data, str]:
    """A decision whose default is the element that followed where it goes, so the flow
    carries on as before until outcomes are added."""
    out = _copy(data)
    items = elements(out)
    at = len(items) if index is None else index
    name = unique_name(label, set(element_names(out)))
    decision: Data = {
        "kind": "decision",
        "name": name,
        "label": _label_for(name, label),
        "outcomes": [],
    }
    decision["default"] = items[at]["name"] if at < len(items) else END
    items.insert(at, decision)
    return out, name


def add_step(
    data: Data, stage_name: str, kind: str = "interactive", index: int | None = None
) -> tuple[Data, str]:
    if kind not in ("interactive", "background"):
        raise EditError(f"a step is interactive or background, not '{kind}'")
    out = _copy(data)
    label = "New task" if kind == "interactive" else "New action"
    name = unique_name(label, all_step_names(out))
    new: Data = {"kind": kind, "name": name, "label": _label_for(name, label)}
    if kind == "background":
        new["actions"] = []
    items = steps(stage(out, stage_name))
    items.insert(len(items) if index is None else index, new)
    return out, name


def add_outcome(data: Data, decision_name: str, label: str = "New outcome") -> tuple[Data, str]:
    out = _copy(data)
    decision = element(out, decision_name)
    if decision.get("kind") != "decision":
        raise EditError(f"'{decision_name}' is a stage: only decisions have outcomes")
    outcomes = decision.setdefault("outcomes", [])
    name = unique_name(label, {str(o.get("name")) for o in outcomes})
    following = decision.get("default") or END
    outcomes.append(
        {"name": name, "label": _label_for(name, label), "when": "False", "next": following}
    )
    return out, name


# ---------------------------------------------------------------- forms

FIELD_TYPES = tuple(kind.value for kind in FieldType)
PLACEHOLDER_OPTIONS = ("Option 1", "Option 2")


def forms(data: Data) -> dict[str, Data]:
    value = data.setdefault("forms", {})
    if not isinstance(value, dict):
        raise EditError("'forms' is not a mapping of form names to forms")
    return value


def form(data: Data, name: str) -> Data:
    found = (data.get("forms") or {}).get(name)
    if not isinstance(found, dict):
        raise EditError(f"there is no form named '{name}'")
    return found


def add_form(data: Data, stage_name: str, step_name: str) -> tuple[Data, str]:
    """A new empty form for an interactive step, named after it, which the step now uses."""
    out = _copy(data)
    owner = step(out, stage_name, step_name)
    if owner.get("kind") == "background":
        raise EditError(f"'{step_name}' is a background step: only interactive steps have forms")
    name = unique_name(f"{step_name}_form", set(forms(out)))
    forms(out)[name] = {"title": str(owner.get("label") or derived_label(step_name))}
    owner["form"] = name
    return out, name


def retype_field(field: Data, kind: str) -> Data:
    """``field`` as a ``kind`` field: a picklist gets options to start from, other types
    lose theirs, and a default that no longer suits is dropped."""
    if kind not in FIELD_TYPES:
        raise EditError(f"'{kind}' is not a field type (one of {', '.join(FIELD_TYPES)})")
    out = copy.deepcopy(field)
    out["type"] = kind
    if kind == "picklist":
        out.setdefault("options", list(PLACEHOLDER_OPTIONS))
    else:
        out.pop("options", None)
    default = out.get("default")
    if default is not None and not _suits(kind, default, out.get("options") or []):
        out.pop("default")
    return out


def _suits(kind: str, value: Any, options: list[Any]) -> bool:
    if kind == "checkbox":
        return isinstance(value, bool)
    if kind in ("number", "currency"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "picklist":
        return value in options
    return isinstance(value, str)


def add_field(data: Data, form_name: str, kind: str, index: int | None = None) -> tuple[Data, str]:
    """A new field of type ``kind`` in a form, named after its type (``date_2`` …)."""
    out = _copy(data)
    owner = form(out, form_name)
    fields = owner.setdefault("fields", [])
    if not isinstance(fields, list):
        raise EditError(f"the fields of form '{form_name}' are not a list")
    name = unique_name(kind, {str(f.get("name")) for f in fields if isinstance(f, dict)})
    new = retype_field({"name": name, "label": derived_label(name)}, kind)
    fields.insert(len(fields) if index is None else index, new)
    return out, name


def delete_outcome(data: Data, decision_name: str, outcome: str) -> Data:
    out = _copy(data)
    decision = element(out, decision_name)
    kept = [o for o in decision.get("outcomes") or [] if o.get("name") != outcome]
    if len(kept) == len(decision.get("outcomes") or []):
        raise EditError(f"decision '{decision_name}' has no outcome named '{outcome}'")
    decision["outcomes"] = kept
    return out


# ---------------------------------------------------------------- deleting


def delete_element(data: Data, name: str) -> Data:
    """Remove a stage or decision; whatever pointed at it now points where it pointed (or
    nowhere), so the rest of the flow stays connected."""
    out = _copy(data)
    items = elements(out)
    index = element_index(out, name)
    removed = items.pop(index)
    onward = removed.get("next") if removed.get("kind") == "stage" else removed.get("default")
    for other in items:
        for port in PORTS:
            if other.get(port) == name:
                if onward and onward != name:
                    other[port] = onward
                else:
                    other.pop(port, None)
        for outcome in other.get("outcomes") or []:
            if outcome.get("next") == name:
                outcome["next"] = onward if onward and onward != name else END
    return out


def delete_step(data: Data, stage_name: str, name: str) -> Data:
    out = _copy(data)
    owner = stage(out, stage_name)
    steps(owner).pop(step_index(out, stage_name, name))
    _forget_step(owner, name)
    return out


def _forget_step(owner: Data, name: str) -> None:
    """Drop ``name`` from the start and exit conditions of ``owner``'s steps."""
    for other in owner.get("steps") or []:
        start = other.get("start")
        if isinstance(start, dict) and name in (start.get("steps") or []):
            start["steps"] = [s for s in start["steps"] if s != name]
            if not start["steps"] and start.get("when") == "after":
                other.pop("start")
    exit_ = owner.get("exit")
    if isinstance(exit_, dict) and name in (exit_.get("steps") or []):
        exit_["steps"] = [s for s in exit_["steps"] if s != name]
        if not exit_["steps"] and exit_.get("when") == "steps":
            owner.pop("exit")


# ---------------------------------------------------------------- renaming


def _expressions(node: Any, key: str | None = None) -> Iterator[tuple[Any, Any]]:
    """(container, key) of every text that may hold an expression or a {{template}}."""
    if isinstance(node, dict):
        for k, value in node.items():
            if isinstance(value, str) and k not in PROSE:
                yield node, k
            elif isinstance(value, dict | list):
                yield from _expressions(value, k)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, str) and key not in PROSE and key not in WORD_LISTS:
                yield node, i
            elif isinstance(value, dict | list):
                yield from _expressions(value, key)


def _rewrite(data: Data, pattern: re.Pattern[str], replacement: str) -> None:
    for container, key in list(_expressions(data)):
        container[key] = pattern.sub(replacement, container[key])


def rename_element(data: Data, old: str, new: str) -> Data:
    _check_name(new, "stage or decision")
    out = _copy(data)
    if new != old and new in element_names(out):
        raise EditError(f"there is already a stage or decision named '{new}'")
    renamed = element(out, old)
    renamed["name"] = new
    if "label" in renamed:
        renamed["label"] = relabel(renamed["label"], old, new)
    for other in elements(out):
        for port in PORTS:
            if other.get(port) == old:
                other[port] = new
        for outcome in other.get("outcomes") or []:
            if outcome.get("next") == old:
                outcome["next"] = new
    _rewrite(out, re.compile(rf"(?<![\w.]){re.escape(old)}(?=\.)"), new)
    return out


def rename_step(data: Data, stage_name: str, old: str, new: str) -> Data:
    _check_name(new, "step")
    out = _copy(data)
    if new != old and new in {s.get("name") for s in steps(stage(out, stage_name))}:
        raise EditError(f"stage '{stage_name}' already has a step named '{new}'")
    owner = stage(out, stage_name)
    renamed = step(out, stage_name, old)
    renamed["name"] = new
    if "label" in renamed:
        renamed["label"] = relabel(renamed["label"], old, new)
    for other in owner.get("steps") or []:
        start = other.get("start")
        if isinstance(start, dict) and start.get("steps"):
            start["steps"] = [new if s == old else s for s in start["steps"]]
    exit_ = owner.get("exit")
    if isinstance(exit_, dict) and exit_.get("steps"):
        exit_["steps"] = [new if s == old else s for s in exit_["steps"]]
    pattern = re.compile(rf"(?<![\w.]){re.escape(stage_name)}\.{re.escape(old)}\b")
    _rewrite(out, pattern, f"{stage_name}.{new}")
    return out


# ---------------------------------------------------------------- moving


def move_element(data: Data, name: str, index: int) -> Data:
    """Put ``name`` at position ``index`` of the elements (after taking it out)."""
    out = _copy(data)
    items = elements(out)
    moving = items.pop(element_index(out, name))
    items.insert(max(0, min(index, len(items))), moving)
    return out


def move_step(data: Data, stage_name: str, name: str, to_stage: str, index: int) -> Data:
    """Move a step within its stage or to another stage. Moving to another stage drops its
    dependencies on steps it leaves behind, and theirs on it."""
    out = _copy(data)
    source = stage(out, stage_name)
    moving = steps(source).pop(step_index(out, stage_name, name))
    destination = stage(out, to_stage)
    if to_stage != stage_name:
        if name in {s.get("name") for s in steps(destination)}:
            raise EditError(f"stage '{to_stage}' already has a step named '{name}'")
        _forget_step(source, name)
        start = moving.get("start")
        if isinstance(start, dict) and start.get("steps"):
            moving.pop("start")
    items = steps(destination)
    items.insert(max(0, min(index, len(items))), moving)
    return out


# ---------------------------------------------------------------- properties and connections


def set_value(data: Data, owner: str | None, key: str, value: Any) -> Data:
    """Set field ``key`` of the orchestration (owner None), an element ('review') or a step
    ('review.legal'); ``None`` removes the field so its default applies."""
    if key == "name":
        raise EditError("names change by renaming, which also updates what refers to them")
    out = _copy(data)
    node = target(out, owner)
    if value is None or value == [] or value == {}:
        node.pop(key, None)
    else:
        node[key] = copy.deepcopy(value)
    return out


def connect(data: Data, source: str, port: str, to: str | None) -> Data:
    """Point ``port`` of ``source`` at ``to``: 'next', 'fault', 'default', or 'outcome:NAME'."""
    out = _copy(data)
    if to is not None and to != END:
        element_index(out, to)
    node = element(out, source)
    if port.startswith("outcome:"):
        wanted = port.split(":", 1)[1]
        for outcome in node.get("outcomes") or []:
            if outcome.get("name") == wanted:
                outcome["next"] = to or END
                return out
        raise EditError(f"decision '{source}' has no outcome named '{wanted}'")
    if port not in PORTS:
        raise EditError(f"'{port}' is not a connection (next, fault, default or outcome:NAME)")
    if to is None:
        node.pop(port, None)
    else:
        node[port] = to
    return out


# ---------------------------------------------------------------- copy and paste


def paste_steps(
    data: Data, stage_name: str, pasted: list[Data], index: int | None = None
) -> tuple[Data, list[str]]:
    """Insert copies of steps into a stage, renamed where the stage has their names."""
    out = _copy(data)
    items = steps(stage(out, stage_name))
    taken = {str(s.get("name")) for s in items}
    at = len(items) if index is None else index
    names = []
    for offset, original in enumerate(pasted):
        new = copy.deepcopy(original)
        new["name"] = unique_name(str(original.get("name", "step")), taken)
        new.pop("start", None)  # its dependencies were on steps of the stage it came from
        taken.add(new["name"])
        names.append(new["name"])
        items.insert(at + offset, new)
    return out, names


def paste_element(data: Data, pasted: Data, index: int | None = None) -> tuple[Data, str]:
    """Insert a copy of a stage or decision (with its steps), renamed where names are taken."""
    out = _copy(data)
    new = copy.deepcopy(pasted)
    old_name = str(pasted.get("name", "stage"))
    new["name"] = unique_name(old_name, set(element_names(out)))
    # Its own expressions name it by its old name (steps need only be unique in a stage).
    _rewrite(new, re.compile(rf"(?<![\w.]){re.escape(old_name)}(?=\.)"), new["name"])
    for port in PORTS:
        new.pop(port, None)  # its connections were to the place it was copied from
    items = elements(out)
    items.insert(len(items) if index is None else index, new)
    return out, new["name"]
