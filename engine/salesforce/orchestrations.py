"""A Salesforce orchestration (``processType`` Orchestrator or ApprovalWorkflow) → a Baton
definition, with a report entry for every element it read.

Two passes: the first names every stage and step and works out what outputs each step has
(from the flow it runs), so that conditions anywhere — a Go To loop reads a later stage —
find them; the second translates the elements in the order the start connector reaches them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.salesforce.actions import FlowConverter, _short, evaluation, placeholder
from engine.salesforce.expressions import (
    Scope,
    StepRef,
    Untranslatable,
    combine,
    condition,
    plain_number,
    quote,
    reference,
    value,
)
from engine.salesforce.forms import convert_screen_flow
from engine.salesforce.project import ORCHESTRATIONS, FlowFile, Project
from engine.salesforce.report import FileReport, Outcome
from engine.salesforce.xml import Node

TOP_LEVEL = {
    "apiVersion",
    "label",
    "description",
    "status",
    "processType",
    "start",
    "orchestratedStages",
    "decisions",
    "variables",
    "formulas",
    "constants",
    "textTemplates",
    "interviewLabel",
    "processMetadataValues",
    "runInMode",
    "environments",
    "isTemplate",
    "startElementReference",
    "customProperties",
    "sourceTemplate",
    "triggerOrder",
    "areMetricsLoggedToDataCloud",
    "timeZoneSidKey",
    "isAdditionalPermissionRequiredToRun",
    "migratedFromWorkflowRuleName",
    "choices",
    "dynamicChoiceSets",
    "stages",
}
DATA_TYPES = {
    "String": "text",
    "Picklist": "text",
    "Multipicklist": "text",
    "Number": "number",
    "Currency": "number",
    "Boolean": "boolean",
    "Date": "date",
    "DateTime": "datetime",
    "SObject": "object",
    "Apex": "object",
}
TRIGGER_EVENTS = {
    "Create": ["created"],
    "Update": ["updated"],
    "CreateAndUpdate": ["created", "updated"],
}
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def baton_name(name: str) -> str:
    """A Salesforce API name as a Baton name (they mostly already are one)."""
    clean = re.sub(r"[^A-Za-z0-9_]", "_", name) or "unnamed"
    if not clean[0].isalpha():
        clean = "sf_" + clean
    return clean[:63]


@dataclass
class _Stage:
    node: Node
    name: str
    steps: dict[str, str]  # Salesforce step name → Baton step name


class OrchestrationConverter:
    def __init__(self, flow: FlowFile, project: Project) -> None:
        self.flow = flow
        self.project = project
        self.root = flow.root
        self.report = FileReport(flow.path, "orchestration", baton_name(flow.name))
        self.scope = Scope()
        self.forms: dict[str, dict[str, Any]] = {}
        self.stages: dict[str, _Stage] = {}
        self.record_object: str | None = None

    def add(
        self,
        element: str,
        outcome: Outcome,
        became: str,
        note: str = "",
        node: Node | None = None,
        file: str | None = None,
    ) -> None:
        self.report.add(element, outcome, became, note, node.line if node else None, file)

    # ------------------------------------------------------------ the whole flow

    def convert(self) -> FileReport:
        root = self.root
        data: dict[str, Any] = {"format": 1, "name": self.report.name}
        if self.report.name != self.flow.name:
            self.add(
                f"flow {self.flow.name}",
                Outcome.approximated,
                f"orchestration {self.report.name}",
                "renamed to a Baton name",
                root,
            )
        for key in ("label", "description"):
            if root.value(key):
                data[key] = root.value(key)
        status = root.value("status") or "Active"
        if status != "Active":
            self.add(
                "status",
                Outcome.approximated,
                "a draft version",
                f"the flow was {status} in Salesforce",
                root.get("status"),
            )
        if self.flow.process_type == "ApprovalWorkflow":
            self.add(
                "processType ApprovalWorkflow",
                Outcome.approximated,
                "an orchestration",
                "approval steps become interactive steps with Approve and Reject",
                root.get("processType"),
            )
        for child in root.children:
            if child.tag not in TOP_LEVEL:
                self.add(
                    f"<{child.tag}> {child.value('name') or ''}".strip(),
                    Outcome.problem,
                    "",
                    f"unknown element '{child.tag}' for an orchestration",
                    child,
                )
        record_object = root.path("start", "object")
        self.record_object = record_object
        variables = self.variables()
        self.register()
        trigger = self.trigger()
        if trigger:
            data["type"] = "record_triggered"
            data["trigger"] = trigger
        if variables:
            data["variables"] = variables
        elements = self.elements()
        if self.forms:
            data["forms"] = self.forms
        data["elements"] = elements
        self.semantics(elements)
        self.report.definition = data
        return self.report

    def semantics(self, elements: list[dict[str, Any]]) -> None:
        """Where Baton behaves differently from Salesforce, said once per orchestration."""
        stages = [e for e in elements if e["kind"] == "stage"]
        people = [s for e in stages for s in e["steps"] if s["kind"] == "interactive"]
        if people:
            self.add(
                "work items of a failed run",
                Outcome.approximated,
                "Canceled",
                "Salesforce marks them Completed; Baton cancels open work items when the run fails",
                self.root,
            )
        for stage in stages:
            if stage.get("exit") and any(s["kind"] == "interactive" for s in stage["steps"]):
                self.add(
                    f"stage {stage['name']} exit",
                    Outcome.approximated,
                    "unfinished steps Discontinued, their work items Canceled",
                    "Salesforce leaves the work item of a step its stage's exit ended Completed",
                    self._stage_node(stage["name"]),
                )

    def _stage_node(self, name: str) -> Node | None:
        return next((s.node for s in self.stages.values() if s.name == name), None)

    def variables(self) -> list[dict[str, Any]]:
        out = []
        for node in self.root.all("variables"):
            name = node.value("name") or ""
            what = f"variable {name}"
            kind = node.value("dataType") or "String"
            baton = baton_name(name)
            self.scope.variables[name] = f"vars.{baton}"
            if node.flag("isCollection"):
                type_, note = "list", ""
            elif kind in DATA_TYPES:
                type_ = DATA_TYPES[kind]
                note = {
                    "Currency": "a currency variable is a plain number",
                    "Picklist": "a picklist value is text",
                    "SObject": f"a record ({node.value('objectType') or 'object'}) is "
                    "an object of its fields",
                }.get(kind, "")
            else:
                type_, note = "text", f"data type {kind} is kept as text"
            data: dict[str, Any] = {"name": baton, "type": type_}
            if node.flag("isInput"):
                data["input"] = True
            if node.flag("isOutput"):
                data["output"] = True
            default = node.get("value")
            if default is not None and default.children:
                literal = default.children[0]
                text = literal.text.strip()
                if literal.tag == "numberValue":
                    try:
                        data["default"] = plain_number(text)
                    except Untranslatable as exc:
                        self.add(f"{what} default", Outcome.problem, "", str(exc), default)
                elif literal.tag == "booleanValue":
                    data["default"] = text.lower() == "true"
                elif literal.tag in ("stringValue", "dateValue", "dateTimeValue"):
                    data["default"] = literal.text
                else:
                    note = "; ".join(
                        n for n in (note, "a default read from another value is dropped") if n
                    )
            flags = "".join(f", {k}" for k in ("input", "output") if data.get(k))
            self.add(
                what,
                Outcome.approximated if note else Outcome.exact,
                f"variable {baton} ({type_}{flags})",
                note,
                node,
            )
            out.append(data)
        for node in self.root.all("constants"):
            name = node.value("name") or ""
            try:
                self.scope.constants[name] = value(node.get("value"), self.scope)
                self.add(
                    f"constant {name}",
                    Outcome.exact,
                    self.scope.constants[name],
                    "written in place wherever it is read",
                    node,
                )
            except Untranslatable as exc:
                self.add(f"constant {name}", Outcome.problem, "", str(exc), node)
        for node in self.root.all("formulas"):
            name = node.value("name") or ""
            self.scope.formulas[name] = node.value("expression") or ""
            self.add(
                f"formula {name}",
                Outcome.approximated,
                "written in place",
                "translated where it is read",
                node,
            )
        return out

    # ------------------------------------------------------------ pass one: names

    def register(self) -> None:
        for stage in self.root.all("orchestratedStages"):
            sf_name = stage.value("name") or ""
            if sf_name in self.stages:
                continue  # a second stage of the name: reported and left out by elements()
            name = baton_name(sf_name)
            self.scope.stages[sf_name] = name
            steps: dict[str, str] = {}
            for step in stage.all("stageSteps"):
                step_sf = step.value("name") or ""
                if step_sf in self.scope.steps:
                    self.add(
                        f"step {step_sf}",
                        Outcome.problem,
                        "",
                        "a second step named "
                        f"'{step_sf}': Salesforce step names are unique in a flow",
                        step,
                    )
                step_name = baton_name(step_sf)
                steps[step_sf] = step_name
                path = f"{name}.{step_name}"
                self.scope.steps[step_sf] = StepRef(path, self.outputs_of(step, step_name, path))
            self.stages[sf_name] = _Stage(stage, name, steps)

    def outputs_of(self, step: Node, step_name: str, path: str) -> dict[str, str]:
        flow = self.project.flows.get(step.value("actionName") or "")
        if flow is None:
            return {}
        kind = step.value("actionType")
        if kind in ("stepInteractive", "stepApproval"):
            if flow.process_type != "Flow":
                return {}
            scratch = FileReport(flow.path, "scratch")
            _, outputs = convert_screen_flow(flow, scratch, step_name)
            out = {name: f"{path}.outputs.{field}" for name, field in outputs.items()}
            if kind == "stepApproval":
                out.setdefault("outcome", f"{path}.outputs.outcome")
            return out
        created = {c.value("assignRecordIdToReference") for c in flow.root.all("recordCreates")}
        out = {}
        for variable in flow.root.all("variables"):
            if variable.flag("isOutput"):
                name = variable.value("name") or ""
                short = _short(f"{step_name}_{name}")
                out[name] = f"{path}.outputs.{short}" if name in created else f"vars.{short}"
        return out

    # ------------------------------------------------------------ the trigger

    def trigger(self) -> dict[str, Any] | None:
        start = self.root.get("start")
        if start is None:
            self.add("start", Outcome.problem, "", "the flow has no <start> element", self.root)
            return None
        object_ = start.value("object")
        if not object_:
            self.add(
                "start",
                Outcome.exact,
                "type autolaunched",
                "started by a person, the command line or another orchestration",
                start,
            )
            return None
        trigger: dict[str, Any] = {"object": baton_name(object_)}
        trigger_type = start.value("triggerType") or ""
        if trigger_type != "RecordAfterSave":
            self.add(
                f"triggerType {trigger_type}",
                Outcome.problem,
                "",
                "only RecordAfterSave orchestrations are carried over",
                start.get("triggerType") or start,
            )
        record_type = start.value("recordTriggerType") or "Create"
        if record_type not in TRIGGER_EVENTS:
            self.add(
                f"recordTriggerType {record_type}",
                Outcome.problem,
                "",
                "Baton starts runs on create and update only",
                start,
            )
        else:
            trigger["events"] = TRIGGER_EVENTS[record_type]
        self.add(
            "start",
            Outcome.exact,
            f"record_triggered on {trigger['object']} ({' and '.join(trigger.get('events', []))})",
            "",
            start,
        )
        criteria_scope = Scope(old=True)
        parts = []
        for number, node in enumerate(start.all("filters"), 1):
            try:
                expression, reading = condition(
                    node,
                    criteria_scope,
                    left_of=lambda f: reference(f"$Record.{f}", criteria_scope),
                )
                parts.append(expression)
                self.add(
                    f"filter {number}: {self._describe(node)}",
                    Outcome.exact,
                    expression,
                    reading,
                    node,
                )
            except Untranslatable as exc:
                self.add(f"filter {number}", Outcome.problem, "", str(exc), node)
                parts.append(self._as_text(node))
        formula_text = start.value("filterFormula")
        if formula_text:
            from engine.salesforce.expressions import formula

            try:
                parts.append(formula(formula_text, criteria_scope))
                self.add("filterFormula", Outcome.exact, parts[-1], "", start.get("filterFormula"))
            except Untranslatable as exc:
                self.add("filterFormula", Outcome.problem, "", str(exc), start)
        if parts:
            logic = start.value("filterLogic")
            try:
                trigger["criteria"] = combine(parts, logic)
                if logic and logic.lower() not in ("and", "or"):
                    self.add(
                        f"filterLogic {logic}",
                        Outcome.exact,
                        trigger["criteria"],
                        "",
                        start.get("filterLogic"),
                    )
            except Untranslatable as exc:
                self.add(f"filterLogic {logic}", Outcome.problem, "", str(exc), start)
                trigger["criteria"] = " and ".join(parts)
        if start.flag("doesRequireRecordChangedToMeetCriteria"):
            trigger["only_when_newly_met"] = True
            self.add(
                "doesRequireRecordChangedToMeetCriteria",
                Outcome.exact,
                "only_when_newly_met: true",
                "",
                start,
            )
        return trigger

    @staticmethod
    def _describe(node: Node) -> str:
        left = node.value("leftValueReference") or node.value("field") or ""
        right_node = node.get("rightValue") or node.get("value")
        right = right_node.children[0].text.strip() if right_node and right_node.children else ""
        return f"{left} {node.value('operator') or ''} {right}".strip()

    def _as_text(self, node: Node) -> str:
        """An untranslatable condition, kept as written: validation then names it."""
        return "{!" + self._describe(node) + "}"

    # ------------------------------------------------------------ pass two: elements

    def _conditions(self, nodes: list[Node], logic: str | None, what: str) -> str:
        parts = []
        for number, node in enumerate(nodes, 1):
            try:
                expression, reading = condition(node, self.scope)
                self.add(
                    f"{what} condition {number}: {self._describe(node)}",
                    Outcome.exact,
                    expression,
                    reading,
                    node,
                )
            except Untranslatable as exc:
                expression = self._as_text(node)
                self.add(
                    f"{what} condition {number}: {self._describe(node)}",
                    Outcome.problem,
                    expression,
                    f"{exc}; kept as written",
                    node,
                )
            parts.append(expression)
        try:
            return combine(parts, logic)
        except Untranslatable as exc:
            self.add(f"{what} condition logic", Outcome.problem, "", str(exc), nodes[0])
            return " and ".join(parts)

    def elements(self) -> list[dict[str, Any]]:
        index: dict[str, Node] = {}
        for node in [*self.root.all("orchestratedStages"), *self.root.all("decisions")]:
            name = node.value("name") or ""
            if name in index:
                self.add(
                    f"{node.tag} {name}",
                    Outcome.problem,
                    "",
                    f"a second element named "
                    f"'{name}' (the first is on line {index[name].line}): it is left out",
                    node,
                )
                continue
            index[name] = node
        start = self.root.path("start", "connector", "targetReference") or self.root.value(
            "startElementReference"
        )
        order: list[str] = []
        pending = [start] if start else []
        while pending:
            name = pending.pop()
            if name in order or name not in index:
                continue
            order.append(name)
            node = index[name]
            targets = [
                node.path("connector", "targetReference"),
                node.path("faultConnector", "targetReference"),
            ]
            if node.tag == "decisions":
                targets = [r.path("connector", "targetReference") for r in node.all("rules")]
                targets.append(node.path("defaultConnector", "targetReference"))
            pending += [t for t in reversed(targets) if t]
        if start and start not in index:
            self.add(
                "start connector",
                Outcome.problem,
                "",
                f"the start connects to '{start}', which is not a stage or decision of this flow",
                self.root.get("start"),
            )
        for name, node in index.items():
            if name not in order:
                order.append(name)
                self.add(
                    f"{node.tag} {name}",
                    Outcome.approximated,
                    "kept at the end",
                    "never reached from the start",
                    node,
                )
        out = []
        for name in order:
            node = index[name]
            if node.tag == "orchestratedStages":
                out.append(self.stage(node, index))
            else:
                out.append(self.decision(node, index))
        return out

    def target(self, node: Node, tag: str, index: dict[str, Node], what: str) -> str | None:
        target = node.path(tag, "targetReference")
        if target is None:
            return None
        if target not in index:
            self.add(
                f"{what} {tag}",
                Outcome.problem,
                "",
                f"connects to '{target}', which is not a stage or decision of this flow",
                node.get(tag),
            )
            return baton_name(target)
        return baton_name(target)

    def decision(self, node: Node, index: dict[str, Node]) -> dict[str, Any]:
        sf_name = node.value("name") or ""
        what = f"decision {sf_name}"
        data: dict[str, Any] = {"kind": "decision", "name": baton_name(sf_name)}
        if node.value("label"):
            data["label"] = node.value("label")
        outcomes = []
        for rule in node.all("rules"):
            rule_name = rule.value("name") or ""
            conditions = rule.all("conditions")
            when = (
                self._conditions(
                    conditions, rule.value("conditionLogic"), f"{what} rule {rule_name}"
                )
                if conditions
                else "True"
            )
            outcome: dict[str, Any] = {
                "name": baton_name(rule_name),
                "when": when,
                "next": self.target(rule, "connector", index, f"rule {rule_name}") or "end",
            }
            if rule.value("label"):
                outcome["label"] = rule.value("label")
            outcomes.append(outcome)
            self.add(
                f"{what} rule {rule_name}",
                Outcome.exact,
                f"outcome {outcome['name']} → {outcome['next']}",
                "",
                rule,
            )
        data["outcomes"] = outcomes
        data["default"] = self.target(node, "defaultConnector", index, what) or "end"
        self.add(
            what,
            Outcome.exact,
            f"decision {data['name']} (default → {data['default']})",
            "rules are tried in order; the first true one wins",
            node,
        )
        return data

    def _completed_steps(
        self, nodes: list[Node], logic: str | None, local: dict[str, str]
    ) -> list[str] | None:
        """Steps of this stage when every condition is ``STEP.Status EqualTo Completed``
        joined by AND, else None."""
        if logic and logic.lower() != "and":
            return None
        names = []
        for node in nodes:
            left = node.value("leftValueReference") or ""
            right = node.path("rightValue", "stringValue")
            head, _, tail = left.partition(".")
            if (
                node.value("operator") != "EqualTo"
                or tail != "Status"
                or right != "Completed"
                or head not in local
            ):
                return None
            names.append(local[head])
        return names

    def _evaluation(self, node: Node, prefix: str, what: str) -> str | None:
        action = node.value(f"{prefix}ActionName")
        if not action:
            return None
        flow = self.project.flows.get(action)
        if flow is None:
            self.add(
                f"{what} {prefix} action {action}",
                Outcome.problem,
                "",
                f"evaluation flow '{action}' is not in the project",
                node,
            )
            return None
        bindings = {}
        for item in node.all(f"{prefix}ActionInputParameters"):
            try:
                bindings[item.value("name") or ""] = value(item.get("value"), self.scope)
            except Untranslatable as exc:
                self.add(
                    f"{what} {prefix} action input {item.value('name')}",
                    Outcome.problem,
                    "",
                    str(exc),
                    item,
                )
        try:
            expression = evaluation(flow, bindings, self.scope, self.record_object)
        except Untranslatable as exc:
            self.add(
                f"{what} {prefix} action {action}",
                Outcome.problem,
                "",
                f"evaluation flow {action}: {exc}",
                node,
            )
            return None
        self.add(
            f"{what} {prefix} action {action}",
            Outcome.approximated,
            expression,
            "the evaluation flow's logic written as one expression",
            node,
        )
        return expression

    def stage(self, node: Node, index: dict[str, Node]) -> dict[str, Any]:
        sf_name = node.value("name") or ""
        info = self.stages[sf_name]
        what = f"stage {sf_name}"
        data: dict[str, Any] = {"kind": "stage", "name": info.name}
        if node.value("label"):
            data["label"] = node.value("label")
        if node.value("description"):
            data["description"] = node.value("description")
        fault = self.target(node, "faultConnector", index, what)
        self.add(what, Outcome.exact, f"stage {info.name}", "", node)
        steps = [self.step(step, info, fault is not None) for step in node.all("stageSteps")]
        data["steps"] = steps
        exit_nodes = node.all("exitConditions")
        logic = node.value("exitConditionLogic")
        evaluated = self._evaluation(node, "exit", what)
        if exit_nodes:
            completed = self._completed_steps(exit_nodes, logic, info.steps)
            if completed is not None and evaluated is None:
                data["exit"] = {"when": "steps", "steps": completed}
                self.add(
                    f"{what} exit conditions",
                    Outcome.exact,
                    f"exit when steps {', '.join(completed)} are completed",
                    "",
                    exit_nodes[0],
                )
            else:
                expression = self._conditions(exit_nodes, logic, f"{what} exit")
                if evaluated:
                    expression = f"({expression}) and ({evaluated})"
                data["exit"] = {"when": "expression", "expression": expression}
        elif evaluated:
            data["exit"] = {"when": "expression", "expression": evaluated}
        if fault:
            data["fault"] = fault
            self.add(
                f"{what} faultConnector",
                Outcome.exact,
                f"fault path → {fault}",
                "",
                node.get("faultConnector"),
            )
        data["next"] = self.target(node, "connector", index, what) or "end"
        return data

    # ------------------------------------------------------------ steps

    def step(self, node: Node, stage: _Stage, has_fault: bool) -> dict[str, Any]:
        sf_name = node.value("name") or ""
        name = stage.steps[sf_name]
        what = f"step {sf_name}"
        kind = node.value("actionType") or ""
        data: dict[str, Any] = {"name": name}
        if node.value("label"):
            data["label"] = node.value("label")
        if node.value("description"):
            data["description"] = node.value("description")
        start = self.start(node, stage, what)
        if start:
            data["start"] = start
        if kind in ("stepInteractive", "stepApproval"):
            self.interactive(node, data, what, kind)
        elif kind in ("stepBackground", "stepMuleSoft"):
            self.background(node, data, what, kind, has_fault)
        else:
            self.add(
                what,
                Outcome.problem,
                "",
                f"unknown step actionType '{kind}' (known: "
                "stepInteractive, stepBackground, stepMuleSoft, stepApproval)",
                node,
            )
            data.update(kind="background", actions=[placeholder(f"step type {kind}")])
        for flag, why in (
            ("runAsUser", "Baton's workers act as the system"),
            ("canAssigneeEdit", "Baton forms are edited by their assignee"),
            ("shouldLock", "Baton does not lock the record during the step"),
        ):
            if node.flag(flag):
                self.add(f"{what} {flag}", Outcome.not_carried, "", why, node.get(flag))
        return data

    def start(self, node: Node, stage: _Stage, what: str) -> dict[str, Any] | None:
        conditions = node.all("entryConditions")
        logic = node.value("entryConditionLogic")
        evaluated = self._evaluation(node, "entry", what)
        if not conditions and evaluated is None:
            return None
        if conditions and evaluated is None:
            after = self._completed_steps(conditions, logic, stage.steps)
            if after is not None:
                self.add(
                    f"{what} entry conditions",
                    Outcome.approximated,
                    f"start after {', '.join(after)}",
                    "Baton also starts it when those steps end otherwise (skipped, discontinued)",
                    conditions[0],
                )
                return {"when": "after", "steps": after}
        parts = [self._conditions(conditions, logic, f"{what} entry")] if conditions else []
        if evaluated:
            parts.append(evaluated)
        expression = " and ".join(f"({p})" for p in parts) if len(parts) > 1 else parts[0]
        self.add(
            f"{what} entry",
            Outcome.exact,
            f"start when {expression} (waits until true)",
            "re-checked whenever the run or its record changes",
            node,
        )
        return {"when": "expression", "expression": expression, "mode": "wait"}

    def assignee(self, node: Node, what: str) -> dict[str, str] | None:
        assignees = node.all("assignees")
        if not assignees:
            self.add(
                f"{what} assignees",
                Outcome.not_carried,
                "",
                "the step has no assignee: the design review flags it",
                node,
            )
            return None
        for extra in assignees[1:]:
            self.add(
                f"{what} assignee {self._assignee_text(extra)}",
                Outcome.not_carried,
                "",
                "Baton gives a step one assignee: the first one is kept",
                extra,
            )
        first = assignees[0]
        kind = first.value("assigneeType") or "User"
        holder = first.get("assignee")
        literal = holder.value("stringValue") if holder is not None else None
        ref = holder.value("elementReference") if holder is not None else None
        label = f"{what} assignee ({kind} {literal or ref})"
        if literal is not None and kind in ("User", "Group", "Queue"):
            if kind == "User":
                username = literal.split("@", 1)[0] if "@" in literal else literal
                note = (
                    ""
                    if username == literal
                    else (f"the Salesforce username {literal} is the Baton user {username}")
                )
                if not _USERNAME.match(username):
                    self.add(
                        label,
                        Outcome.problem,
                        "",
                        f"'{literal}' is not a username Baton can use",
                        first,
                    )
                self.add(
                    label,
                    Outcome.approximated if note else Outcome.exact,
                    f"user {username}",
                    note,
                    first,
                )
                return {"user": username}
            key = kind.lower()
            self.add(label, Outcome.exact, f"{key} {literal}", "", first)
            return {key: literal}
        source = ref or literal
        if not source:
            self.add(label, Outcome.problem, "", "the assignee has no value", first)
            return None
        try:
            expression = reference(source, self.scope)
        except Untranslatable as exc:
            self.add(label, Outcome.problem, "", str(exc), first)
            return {"expression": "{!" + source + "}"}
        if kind == "Queue":
            expression = f"'queue:' + text({expression})"
        elif kind == "Group":
            expression = f"'group:' + text({expression})"
        note = "resolved when the step starts: a username, or queue:NAME / group:NAME"
        if kind == "Resource":
            note += "; a bare queue or group API name must be written as queue:NAME"
        self.add(
            label,
            Outcome.approximated if kind == "Resource" else Outcome.exact,
            f"expression {expression}",
            note,
            first,
        )
        return {"expression": expression}

    @staticmethod
    def _assignee_text(node: Node) -> str:
        holder = node.get("assignee")
        text = (holder.value("stringValue") or holder.value("elementReference")) if holder else ""
        return f"{node.value('assigneeType') or ''} {text}".strip()

    def interactive(self, node: Node, data: dict[str, Any], what: str, kind: str) -> None:
        data["kind"] = "interactive"
        action = node.value("actionName") or ""
        form_name = baton_name(action or data["name"])
        flow = self.project.flows.get(action)
        if flow is None or flow.process_type != "Flow":
            reason = (
                f"screen flow '{action}' is not in the project"
                if flow is None
                else f"'{action}' is a {flow.process_type or 'flow'}, not a screen flow"
            )
            self.add(
                f"{what} actionName {action}",
                Outcome.problem,
                f"form {form_name}",
                reason,
                node.get("actionName") or node,
            )
            self.forms.setdefault(
                form_name,
                {"title": action or data["name"], "instructions": f"Not carried over: {reason}."},
            )
        elif form_name not in self.forms:
            form, _ = convert_screen_flow(flow, self.report, data["name"])
            self.forms[form_name] = form
        data["form"] = form_name
        if kind == "stepApproval":
            self.forms[form_name].setdefault(
                "outcomes",
                [{"name": "approve", "label": "Approve"}, {"name": "reject", "label": "Reject"}],
            )
            self.add(
                f"{what} approval",
                Outcome.approximated,
                "interactive step with Approve and Reject",
                "Salesforce approval processes are not run; the assignee decides on the form",
                node,
            )
        self.add(
            what, Outcome.exact, f"interactive step {data['name']} with form {form_name}", "", node
        )
        assignee = self.assignee(node, what)
        if assignee:
            data["assignee"] = assignee
        for item in node.all("inputParameters"):
            param = item.value("name") or ""
            try:
                given = value(item.get("value"), self.scope)
            except Untranslatable as exc:
                self.add(f"{what} input {param}", Outcome.problem, "", str(exc), item)
                continue
            if param == "ActionInput__RecordId":
                if given == "record.id":
                    self.add(
                        f"{what} input {param}",
                        Outcome.exact,
                        "the work item's record",
                        "a Baton work item is about its run's record",
                        item,
                    )
                else:
                    self.add(
                        f"{what} input {param}",
                        Outcome.approximated,
                        "the run's record",
                        f"the work item shows the run's record, not {given}",
                        item,
                    )
            else:
                self.add(
                    f"{what} input {param}",
                    Outcome.not_carried,
                    "",
                    "a Baton form "
                    "takes no inputs: the assignee sees the record and earlier outputs",
                    item,
                )
        exits = node.all("exitConditions")
        if exits:
            data["completion"] = self._conditions(
                exits, node.value("exitConditionLogic"), f"{what} exit"
            )
        evaluated = self._evaluation(node, "exit", what)
        if evaluated:
            data["completion"] = (
                evaluated if not exits else f"({data['completion']}) and ({evaluated})"
            )

    def background(
        self, node: Node, data: dict[str, Any], what: str, kind: str, has_fault: bool
    ) -> None:
        data["kind"] = "background"
        if not has_fault:
            data["on_failure"] = "error"
        action = node.value("actionName") or ""
        flow = self.project.flows.get(action)
        label = f"{what} actionName {action}"
        if kind == "stepMuleSoft":
            data["actions"] = [placeholder(f"MuleSoft step {action}")]
            self.add(
                label,
                Outcome.not_carried,
                "placeholder action",
                "MuleSoft has no Baton counterpart",
                node,
            )
        elif flow is None or flow.process_type != "AutoLaunchedFlow":
            reason = (
                f"flow {action} is not in the project"
                if flow is None
                else f"{action} is a {flow.process_type or 'flow'}, not autolaunched"
            )
            data["actions"] = [placeholder(reason)]
            self.add(label, Outcome.not_carried, "placeholder action", reason, node)
        else:
            bindings = {}
            for item in node.all("inputParameters"):
                param = item.value("name") or ""
                try:
                    bindings[param] = value(item.get("value"), self.scope)
                    self.add(
                        f"{what} input {param}",
                        Outcome.exact,
                        bindings[param],
                        "read where the flow reads the input",
                        item,
                    )
                except Untranslatable as exc:
                    self.add(f"{what} input {param}", Outcome.problem, "", str(exc), item)
            converter = FlowConverter(self.project, self.report, self.record_object)
            converter.convert(flow, data["name"], bindings, self.scope)
            data["actions"] = converter.actions or [
                {"type": "set_variables", "values": {_short(f"{data['name']}_done"): "True"}}
            ]
            self.add(
                what,
                Outcome.exact,
                f"background step {data['name']} with {len(converter.actions)} actions",
                "",
                node,
            )
        if node.flag("requiresAsyncProcessing"):
            self.add(
                f"{what} requiresAsyncProcessing",
                Outcome.exact,
                "runs on a worker",
                "every Baton background step runs on a worker, outside the save that started it",
                node.get("requiresAsyncProcessing"),
            )
        for exit_ in node.all("exitConditions"):
            self.add(
                f"{what} exit condition",
                Outcome.not_carried,
                "",
                "a background step ends when its actions are done",
                exit_,
            )


def convert_orchestration(flow: FlowFile, project: Project) -> FileReport:
    """The report for ``flow``, its ``definition`` the Baton definition's data."""
    report = FileReport(flow.path, "orchestration", baton_name(flow.name))
    if flow.process_type not in ORCHESTRATIONS:
        report.add(
            f"processType {flow.process_type or '(none)'}",
            Outcome.problem,
            "",
            "not an orchestration (processType Orchestrator or ApprovalWorkflow)",
            flow.root.line,
        )
        return report
    return OrchestrationConverter(flow, project).convert()


__all__ = ["baton_name", "convert_orchestration", "quote"]
