"""A Salesforce orchestration (``processType`` Orchestrator or ApprovalWorkflow) → a Baton
definition, with a report entry for every element it read.

Two passes: the first names every stage and step and works out what outputs each step has
(from the flow it runs), so that conditions anywhere — a Go To loop reads a later stage —
find them; the second translates the elements in the order the start connector reaches them.
This module has the flow as a whole, its trigger, stages and decisions; ``steps`` their
steps, and ``converter`` what every element uses (the report, conditions, connectors).
"""

from __future__ import annotations

from typing import Any

from engine.salesforce.actions import _short
from engine.salesforce.converter import StageNames, baton_name
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
from engine.salesforce.steps import StepConverter
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


class OrchestrationConverter(StepConverter):
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
            self.stages[sf_name] = StageNames(stage, name, steps)

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

    # ------------------------------------------------------------ pass two: elements

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
