"""A Salesforce orchestration's steps → Baton steps: when each starts, who does it, and
the screen flow or autolaunched flow it runs."""

from __future__ import annotations

import re
from typing import Any

from engine.salesforce.actions import FlowConverter, _short, placeholder
from engine.salesforce.converter import ConverterBase, StageNames, baton_name
from engine.salesforce.expressions import (
    Untranslatable,
    reference,
    value,
)
from engine.salesforce.forms import convert_screen_flow
from engine.salesforce.report import Outcome
from engine.salesforce.xml import Node

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class StepConverter(ConverterBase):
    """Steps, interactive and background, of the stages being converted."""

    def step(self, node: Node, stage: StageNames, has_fault: bool) -> dict[str, Any]:
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

    def start(self, node: Node, stage: StageNames, what: str) -> dict[str, Any] | None:
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
