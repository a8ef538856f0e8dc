"""Salesforce custom objects → Baton object types, so record triggers have their object."""

from __future__ import annotations

from typing import Any

from engine.definitions.model import is_valid_name
from engine.salesforce.project import ObjectFiles
from engine.salesforce.report import FileReport, Outcome

# Salesforce field type → (Baton field type, how it differs or "")
FIELD_TYPES: dict[str, tuple[str, str]] = {
    "Text": ("text", ""),
    "TextArea": ("long_text", ""),
    "LongTextArea": ("long_text", ""),
    "Html": ("long_text", "rich text is kept as plain text"),
    "Number": ("number", ""),
    "Percent": ("number", "a percentage is a plain number"),
    "Currency": ("currency", ""),
    "Checkbox": ("checkbox", ""),
    "Date": ("date", ""),
    "DateTime": ("datetime", ""),
    "Email": ("email", ""),
    "Phone": ("text", "a phone number is plain text"),
    "Url": ("text", "a URL is plain text"),
    "Picklist": ("picklist", ""),
    "MultiselectPicklist": ("long_text", "Baton has no multi-select: the values as text"),
    "Lookup": ("number", "holds the id of the related record"),
    "MasterDetail": ("number", "holds the id of the parent record; no cascade delete"),
}
RESERVED = {"id", "owner", "created_at", "updated_at"}


def _picklist(node: Any) -> tuple[list[str], str | None]:
    values: list[str] = []
    default = None
    value_set = node.get("valueSet")
    holder = value_set.get("valueSetDefinition") if value_set is not None else None
    sources = [holder] if holder is not None else []
    sources.append(node)  # older files list <picklist><picklistValues> or plain <value>
    for source in sources:
        for value in source.all("value"):
            name = value.value("fullName")
            if name and name not in values:
                values.append(name)
                if value.flag("default"):
                    default = name
    picklist = node.get("picklist")
    if picklist is not None:
        for value in picklist.all("picklistValues"):
            name = value.value("fullName")
            if name and name not in values:
                values.append(name)
                if value.flag("default"):
                    default = name
    return values, default


def convert_object(files: ObjectFiles) -> tuple[dict[str, Any] | None, FileReport]:
    """The object type's data (for ``ObjectType``) and the report of its fields."""
    report = FileReport(files.path, "object type", files.name)
    if not is_valid_name(files.name):
        report.add(f"object {files.name}", Outcome.problem, "", "not a name Baton can use")
        return None, report
    root = files.root
    label = (root.value("label") if root is not None else None) or files.name
    fields: list[dict[str, Any]] = []
    title_field = None
    name_field = root.get("nameField") if root is not None else None
    if name_field is not None:
        fields.append({"name": "Name", "label": name_field.value("label") or "Name"})
        title_field = "Name"
        note = "" if name_field.value("type") in (None, "Text") else "an auto-number is text"
        outcome = Outcome.approximated if note else Outcome.exact
        report.add(
            "nameField", outcome, "field Name (text), the record's title", note, name_field.line
        )
    report.add(
        f"object {files.name}",
        Outcome.exact,
        f"object type {files.name} ({label})",
        line=root.line if root is not None else None,
    )
    for path, node in files.fields:
        name = node.value("fullName") or ""
        line = node.line
        kind = node.value("type") or ""
        what = f"field {name}"
        if not is_valid_name(name) or name.lower() in RESERVED:
            report.add(
                what, Outcome.problem, "", f"'{name}' is not a field name Baton can use", line, path
            )
            continue
        if node.get("formula") is not None:
            report.add(
                what,
                Outcome.not_carried,
                "",
                "a formula field is computed by Salesforce; compute it in an action instead",
                line,
                path,
            )
            continue
        if kind not in FIELD_TYPES:
            report.add(
                what,
                Outcome.not_carried,
                "",
                f"field type {kind or '(none)'} has no Baton counterpart",
                line,
                path,
            )
            continue
        baton_type, note = FIELD_TYPES[kind]
        data: dict[str, Any] = {"name": name, "type": baton_type}
        if node.value("label"):
            data["label"] = node.value("label")
        if node.flag("required"):
            data["required"] = True
        help_text = node.value("inlineHelpText") or node.value("description")
        if kind in ("Lookup", "MasterDetail"):
            target = node.value("referenceTo") or "a record"
            note = f"{note} ({target})"
        if help_text:
            data["help"] = help_text
        if kind == "Picklist":
            options, default = _picklist(node)
            if not options:
                report.add(
                    what,
                    Outcome.not_carried,
                    "",
                    "a picklist with no values in the "
                    "file (a global value set is not carried over)",
                    line,
                    path,
                )
                continue
            data["options"] = options
            if default:
                data["default"] = default
        elif node.value("defaultValue") and kind == "Checkbox":
            data["default"] = (node.value("defaultValue") or "").lower() == "true"
        became = f"field {name} ({baton_type}{', required' if data.get('required') else ''})"
        if kind == "Picklist":
            became += f": {', '.join(data['options'])}"
        report.add(
            what, Outcome.approximated if note else Outcome.exact, became, note.strip(), line, path
        )
        fields.append(data)
    data = {"name": files.name, "label": label, "fields": fields}
    if title_field:
        data["title_field"] = title_field
    return data, report
