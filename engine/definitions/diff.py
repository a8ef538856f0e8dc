"""What changed between two versions of an orchestration: elements, steps, forms, variables and
settings added, removed or changed, each named by where it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.definitions.loading import to_data
from engine.definitions.model import Orchestration

SETTINGS = ("label", "description", "type", "trigger", "error_recipients", "calendar")


@dataclass(frozen=True)
class Change:
    kind: str  # added | removed | changed
    where: str  # e.g. "stage review", "step review.legal", "form review"
    details: tuple[str, ...] = ()

    def describe(self) -> str:
        text = f"{self.kind:<8} {self.where}"
        return text + (": " + "; ".join(self.details) if self.details else "")


def _fields(before: dict[str, Any], after: dict[str, Any], skip: tuple[str, ...] = ()) -> list[str]:
    """'name: old → new' for each top-level field that differs."""
    out = []
    for key in sorted(set(before) | set(after)):
        if key in skip or before.get(key) == after.get(key):
            continue
        out.append(f"{key}: {_short(before.get(key))} → {_short(after.get(key))}")
    return out


def _short(value: Any) -> str:
    text = "—" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(item.get("name")): item for item in items}


def diff(old: Orchestration, new: Orchestration) -> list[Change]:
    """Every difference, in the order a person reads a definition."""
    a, b = to_data(old), to_data(new)
    changes: list[Change] = []
    settings = _fields({k: a.get(k) for k in SETTINGS}, {k: b.get(k) for k in SETTINGS})
    if settings:
        changes.append(Change("changed", "settings", tuple(settings)))
    for group, label in (("variables", "variable"),):
        before, after = _by_name(a.get(group, [])), _by_name(b.get(group, []))
        changes += _compare(before, after, label)
    forms_a, forms_b = a.get("forms", {}), b.get("forms", {})
    for name in sorted(set(forms_a) | set(forms_b)):
        if name not in forms_a:
            changes.append(Change("added", f"form {name}"))
        elif name not in forms_b:
            changes.append(Change("removed", f"form {name}"))
        elif forms_a[name] != forms_b[name]:
            fields = _compare(
                _by_name(forms_a[name].get("fields", [])),
                _by_name(forms_b[name].get("fields", [])),
                f"field {name}.",
            )
            details = [c.describe().strip() for c in fields] or _fields(
                forms_a[name], forms_b[name]
            )
            changes.append(Change("changed", f"form {name}", tuple(details)))
    elements_a, elements_b = _by_name(a.get("elements", [])), _by_name(b.get("elements", []))
    for name in _ordered(list(elements_b) + list(elements_a)):
        kind = (elements_b.get(name) or elements_a[name]).get("kind", "element")
        if name not in elements_a:
            changes.append(Change("added", f"{kind} {name}"))
            continue
        if name not in elements_b:
            changes.append(Change("removed", f"{kind} {name}"))
            continue
        old_el, new_el = elements_a[name], elements_b[name]
        if old_el == new_el:
            continue
        own = _fields(old_el, new_el, skip=("steps",))
        if own:
            changes.append(Change("changed", f"{kind} {name}", tuple(own)))
        if kind == "stage":
            changes += _compare(
                _by_name(old_el.get("steps", [])),
                _by_name(new_el.get("steps", [])),
                f"step {name}.",
            )
    if [e.get("name") for e in a.get("elements", [])] != [
        e.get("name") for e in b.get("elements", [])
    ] and set(elements_a) == set(elements_b):
        changes.append(Change("changed", "order of elements"))
    return changes


def _compare(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]], label: str
) -> list[Change]:
    prefix = label if label.endswith(".") else f"{label} "
    out = []
    for name in _ordered(list(after) + list(before)):
        where = f"{prefix}{name}"
        if name not in before:
            out.append(Change("added", where))
        elif name not in after:
            out.append(Change("removed", where))
        elif before[name] != after[name]:
            out.append(Change("changed", where, tuple(_fields(before[name], after[name]))))
    return out


def _ordered(names: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for name in names:
        seen.setdefault(name, None)
    return list(seen)
