"""Screen flows → Baton forms: the form an interactive step shows.

A screen flow may hold several screens and its own logic; a Baton form is one page of
fields. The fields of every screen are kept in order, display text becomes the form's
instructions (HTML reduced to plain text), and the flow's output variables become fields
of the same names, so ``STEP.Outputs.X`` in the orchestration keeps reading what the person
entered.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser
from typing import Any

from engine.definitions.model import is_valid_name
from engine.salesforce.expressions import Scope, Untranslatable, formula, plain_number
from engine.salesforce.project import FlowFile
from engine.salesforce.report import FileReport, Outcome
from engine.salesforce.xml import Node

DATA_TYPES = {
    "String": "text",
    "Number": "number",
    "Currency": "currency",
    "Boolean": "checkbox",
    "Date": "date",
    "DateTime": "datetime",
}
LOGIC = (
    "recordLookups",
    "recordUpdates",
    "recordCreates",
    "recordDeletes",
    "actionCalls",
    "subflows",
    "loops",
    "waits",
)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p", "div", "li", "h1", "h2", "h3", "tr"):
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(markup: str) -> str:
    """HTML (Salesforce rich text) reduced to plain text, one paragraph a line."""
    parser = _Text()
    parser.feed(html.unescape(markup) if "&lt;" in markup else markup)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return "\n".join(line for line in lines if line)


def _fields(screen: Node) -> list[Node]:
    """The fields of a screen, those inside sections and columns included, in order."""
    out = []
    for node in screen.all("fields"):
        if node.value("fieldType") in ("RegionContainer", "Region"):
            out += _fields(node)
        else:
            out.append(node)
    return out


def _choices(flow: Node) -> dict[str, Node]:
    return {c.value("name") or "": c for c in flow.all("choices")}


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate = f"{name[:58]}_{number}"
        number += 1
    taken.add(candidate)
    return candidate


def convert_screen_flow(
    flow: FlowFile, report: FileReport, step: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The form, and each output variable's field name (``STEP.Outputs.X`` → field)."""
    root, path = flow.root, flow.path
    choices = _choices(root)
    fields: list[dict[str, Any]] = []
    taken: set[str] = {"outcome", "comment"}
    texts: list[str] = []
    by_source: dict[str, dict[str, Any]] = {}
    screens = root.all("screens")
    if len(screens) > 1:
        report.add(
            f"screen flow {flow.name}",
            Outcome.approximated,
            f"form {flow.name}",
            f"one form with the fields of its {len(screens)} screens, in order; "
            "Next/Previous navigation is not carried over",
            root.line,
            path,
        )
    for screen in screens:
        for node in _fields(screen):
            entry = _field(node, choices, report, path, taken, step)
            if entry is None:
                continue
            if entry.get("_text"):
                texts.append(entry["_text"])
                continue
            by_source[node.value("name") or ""] = entry
            fields.append(entry)
    for kind in LOGIC:
        for node in root.all(kind):
            report.add(
                f"{kind} {node.value('name')} (in screen flow {flow.name})",
                Outcome.not_carried,
                "",
                "a form does not run logic: do this in a background step",
                node.line,
                path,
            )
    outputs = _outputs(root, by_source, fields, taken, report, path)
    form: dict[str, Any] = {"title": root.value("label") or flow.name, "fields": fields}
    if texts:
        form["instructions"] = "\n\n".join(texts)
    return form, outputs


def _field(
    node: Node,
    choices: dict[str, Node],
    report: FileReport,
    path: str,
    taken: set[str],
    step: str,
) -> dict[str, Any] | None:
    name = node.value("name") or ""
    kind = node.value("fieldType") or ""
    what = f"screen field {name}"
    label = plain_text(node.value("fieldText") or "") or None
    if kind == "DisplayText":
        text = plain_text(node.value("fieldText") or "")
        note = "HTML reduced to plain text"
        if "{!" in text:
            note += "; merge fields are shown as written"
        report.add(what, Outcome.approximated, "the form's instructions", note, node.line, path)
        return {"_text": text} if text else None
    data: dict[str, Any] = {}
    note = ""
    if kind == "InputField":
        data_type = node.value("dataType") or "String"
        if data_type not in DATA_TYPES:
            report.add(
                what,
                Outcome.not_carried,
                "",
                f"input of type {data_type} has no Baton form field",
                node.line,
                path,
            )
            return None
        data["type"] = DATA_TYPES[data_type]
    elif kind == "LargeTextArea":
        data["type"] = "long_text"
    elif kind == "PasswordField":
        data["type"] = "text"
        note = "a password field is a plain text field"
    elif kind in ("RadioButtons", "DropdownBox", "MultiSelectCheckboxes", "MultiSelectPicklist"):
        options, choice_note = _options(node, choices)
        if not options:
            report.add(what, Outcome.not_carried, "", choice_note or "no choices", node.line, path)
            return None
        if kind.startswith("MultiSelect"):
            data["type"] = "long_text"
            data["help"] = "One or more of: " + ", ".join(options)
            note = "Baton has no multi-select field: a text field listing the choices"
        else:
            data["type"] = "picklist"
            data["options"] = options
            note = choice_note
            if kind == "RadioButtons":
                note = "; ".join(n for n in ("radio buttons become a picklist", note) if n)
    elif kind == "ComponentInstance":
        extension = node.value("extensionName") or ""
        if extension == "flowruntime:email":
            data["type"] = "email"
        else:
            report.add(
                what,
                Outcome.not_carried,
                "",
                f"component {extension or '(unnamed)'} has no Baton form field",
                node.line,
                path,
            )
            return None
    else:
        report.add(
            what, Outcome.problem, "", f"unknown screen field type '{kind}'", node.line, path
        )
        return None
    if not is_valid_name(name):
        report.add(
            what,
            Outcome.problem,
            "",
            f"'{name}' is not a field name Baton can use",
            node.line,
            path,
        )
        return None
    data = {"name": _unique(name, taken), "label": label, **data}
    if data["label"] is None:
        del data["label"]
    if node.flag("isRequired"):
        data["required"] = True
    default = node.get("defaultValue")
    if default is not None and default.children:
        literal = default.children[0]
        if literal.tag in ("stringValue", "numberValue", "booleanValue"):
            text = literal.text.strip()
            if literal.tag == "numberValue":
                try:
                    data["default"] = plain_number(text)
                except Untranslatable as exc:
                    note = "; ".join(n for n in (note, f"default dropped: {exc}") if n)
            elif literal.tag == "booleanValue":
                data["default"] = text.lower() == "true"
            else:
                data["default"] = literal.text
        else:
            note = "; ".join(n for n in (note, "a default read from a variable is dropped") if n)
    rule = node.get("validationRule")
    if rule is not None:
        try:
            expression = formula(rule.value("formulaExpression") or "", Scope(value_of=name))
            message = plain_text(rule.value("errorMessage") or "") or "The value is not valid."
            data["validation"] = {"expression": expression, "message": message}
        except Untranslatable as exc:
            note = "; ".join(n for n in (note, f"validation rule not carried over: {exc}") if n)
    if node.get("visibilityRule") is not None:
        note = "; ".join(n for n in (note, "visibility rule dropped: the field always shows") if n)
    became = f"field {data['name']} ({data['type']}{', required' if data.get('required') else ''})"
    if "validation" in data:
        became += f", valid when {data['validation']['expression']}"
    report.add(what, Outcome.approximated if note else Outcome.exact, became, note, node.line, path)
    return data


def _options(node: Node, choices: dict[str, Node]) -> tuple[list[str], str]:
    options: list[str] = []
    notes: list[str] = []
    for ref in node.all("choiceReferences"):
        choice = choices.get(ref.text.strip())
        if choice is None:
            notes.append(
                f"choice set {ref.text.strip()} (records or a picklist) is not carried over"
            )
            continue
        label = choice.value("choiceText") or ""
        stored = choice.path("value", "stringValue")
        value = stored if stored is not None else label
        if stored is not None and plain_text(label) != stored:
            notes.append(f"choice '{plain_text(label)}' is stored as '{stored}'")
        options.append(value)
    return options, "; ".join(notes)


def _outputs(
    root: Node,
    by_source: dict[str, dict[str, Any]],
    fields: list[dict[str, Any]],
    taken: set[str],
    report: FileReport,
    path: str,
) -> dict[str, str]:
    assigned: dict[str, str] = {}
    for assignment in root.all("assignments"):
        for item in assignment.all("assignmentItems"):
            target = item.value("assignToReference") or ""
            source = item.path("value", "elementReference")
            if source and source.split(".")[0] in by_source:
                assigned[target] = source.split(".")[0]
    outputs: dict[str, str] = {}
    for variable in root.all("variables"):
        if not variable.flag("isOutput"):
            continue
        name = variable.value("name") or ""
        what = f"output variable {name}"
        source = assigned.get(name) or (name if name in by_source else None)
        if source is not None:
            entry = by_source[source]
            if entry["name"] != name and is_valid_name(name) and name not in taken:
                taken.discard(entry["name"])
                taken.add(name)
                entry["name"] = name
            outputs[name] = entry["name"]
            note = "" if source == name else f"the field {source} it is assigned from"
            report.add(
                what,
                Outcome.approximated if note else Outcome.exact,
                f"form field {entry['name']}",
                note and f"renamed {note}",
                variable.line,
                path,
            )
            continue
        if not is_valid_name(name):
            report.add(
                what,
                Outcome.problem,
                "",
                f"'{name}' is not a name Baton can use",
                variable.line,
                path,
            )
            continue
        data_type = DATA_TYPES.get(variable.value("dataType") or "String", "text")
        entry_name = _unique(name, taken)
        fields.append({"name": entry_name, "type": data_type})
        outputs[name] = entry_name
        report.add(
            what,
            Outcome.approximated,
            f"form field {entry_name}",
            "the screen flow computed it; the person now enters it",
            variable.line,
            path,
        )
    return outputs
