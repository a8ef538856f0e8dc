"""Autolaunched flows → a background step's actions (evaluation flows: ``evaluation``).

Baton's background step runs a list of actions in order; a Salesforce flow is a graph.
The flow is walked from its start: record creates and updates, assignments, e-mails and
waits become actions; a decision inside the flow sets a variable naming the rule that won,
and the actions of each branch read it, so the branches still apply only when their rule
does. What has no counterpart (Apex, MuleSoft, external services, subflows not in the
project) becomes a placeholder action that fails with "not carried over from Salesforce: …"
until someone replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.definitions.review import NOT_CARRIED_OVER
from engine.salesforce.expressions import (
    Scope,
    Untranslatable,
    combine,
    condition,
    reference,
    template,
    value,
)
from engine.salesforce.project import FlowFile, Project
from engine.salesforce.report import FileReport, Outcome
from engine.salesforce.xml import Node

PLACEHOLDER = NOT_CARRIED_OVER
MAX_ELEMENTS_WALKED = 500
MAX_SUBFLOW_DEPTH = 5
KINDS = (
    "recordCreates",
    "recordUpdates",
    "recordLookups",
    "recordDeletes",
    "assignments",
    "decisions",
    "actionCalls",
    "apexPluginCalls",
    "waits",
    "subflows",
    "loops",
    "screens",
    "collectionProcessors",
    "transforms",
    "customErrors",
    "orchestratedStages",
)


def placeholder(what: str) -> dict[str, Any]:
    """An action that fails, saying what was not carried over, until it is replaced."""
    return {"type": "python", "action": f"{PLACEHOLDER}: {what}"}


def _short(name: str, limit: int = 63) -> str:
    return name[:limit]


def elements(root: Node) -> dict[str, tuple[str, Node]]:
    index: dict[str, tuple[str, Node]] = {}
    for kind in KINDS:
        for node in root.all(kind):
            index[node.value("name") or ""] = (kind, node)
    return index


def flow_scope(flow: Node, prefix: str, bindings: dict[str, str], base: Scope) -> Scope:
    """Names inside a flow: bound inputs are the orchestration's expressions; its other
    variables are run variables named ``PREFIX_VAR`` so two flows never share one."""
    variables = dict(bindings)
    for variable in flow.all("variables"):
        name = variable.value("name") or ""
        if name not in variables:
            variables[name] = f"vars.{_short(f'{prefix}_{name}')}"
    constants = {}
    for constant in flow.all("constants"):
        constants[constant.value("name") or ""] = value(constant.get("value"), base)
    formulas = {f.value("name") or "": f.value("expression") or "" for f in flow.all("formulas")}
    for template_ in flow.all("textTemplates"):
        formulas.setdefault(template_.value("name") or "", "")
    return Scope(
        steps=base.steps,
        stages=base.stages,
        variables=variables,
        formulas=formulas,
        constants=constants,
        old=False,
    )


@dataclass
class FlowConverter:
    project: Project
    report: FileReport
    record_object: str | None
    actions: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    def convert(
        self, flow: FlowFile, prefix: str, bindings: dict[str, str], base: Scope, depth: int = 0
    ) -> None:
        root = flow.root
        scope = flow_scope(root, prefix, bindings, base)
        index = elements(root)
        texts = {t.value("name") or "": t.value("text") or "" for t in root.all("textTemplates")}
        walker = _Walk(self, flow, scope, index, texts, prefix, depth)
        start = root.path("start", "connector", "targetReference") or root.value(
            "startElementReference"
        )
        walker.walk(start, None, set())
        for variable in root.all("variables"):
            if variable.flag("isOutput"):
                name = variable.value("name") or ""
                self.outputs[name] = scope.variables[name]
        for name, (kind, node) in index.items():
            if name not in walker.seen and kind != "screens":
                self.report.add(
                    f"{kind} {name} (in {flow.name})",
                    Outcome.not_carried,
                    "",
                    "never reached from the flow's start",
                    node.line,
                    flow.path,
                )


class _Walk:
    def __init__(
        self,
        owner: FlowConverter,
        flow: FlowFile,
        scope: Scope,
        index: dict[str, tuple[str, Node]],
        texts: dict[str, str],
        prefix: str,
        depth: int,
    ) -> None:
        self.owner, self.flow, self.scope, self.index = owner, flow, scope, index
        self.texts, self.prefix, self.depth = texts, prefix, depth
        self.seen: set[str] = set()
        self.pending_record: dict[str, str] = {}

    def note(self, what: str, outcome: Outcome, became: str, why: str, node: Node) -> None:
        self.owner.report.add(
            f"{what} (in {self.flow.name})", outcome, became, why, node.line, self.flow.path
        )

    def emit(self, action: dict[str, Any], guard: str | None, what: str, node: Node) -> bool:
        """Add ``action``, made conditional on ``guard`` where Baton allows it."""
        if guard is None:
            self.owner.actions.append(action)
            return True
        if action["type"] == "set_variables":
            action["values"] = {
                k: f"({v}) if {guard} else vars.{k}" for k, v in action["values"].items()
            }
        elif action["type"] == "update_record" and action.get("record", "record.id") == "record.id":
            action["values"] = {
                k: f"({v}) if {guard} else record.{k}" for k, v in action["values"].items()
            }
        else:
            self.note(
                what,
                Outcome.not_carried,
                "",
                "inside a branch of a decision, and "
                "this action cannot be made conditional in Baton",
                node,
            )
            self.owner.actions.append(placeholder(f"{what} (in a decision branch)"))
            return False
        self.owner.actions.append(action)
        return True

    def walk(self, name: str | None, guard: str | None, stop: set[str]) -> None:
        steps = 0
        while name and name not in stop:
            steps += 1
            if name in self.seen or steps > MAX_ELEMENTS_WALKED:
                if name in self.seen:
                    kind, node = self.index.get(name, ("", self.flow.root))
                    self.note(
                        f"Go To {name}",
                        Outcome.not_carried,
                        "",
                        "a loop inside a flow is not carried over: its elements run once",
                        node,
                    )
                return
            if name not in self.index:
                self.owner.report.add(
                    f"connector to {name} (in {self.flow.name})",
                    Outcome.problem,
                    "",
                    f"no element named '{name}'",
                    None,
                    self.flow.path,
                )
                return
            self.seen.add(name)
            kind, node = self.index[name]
            if kind == "decisions":
                name = self.decision(node, guard, stop)
                continue
            try:
                self.element(kind, node, guard)
            except Untranslatable as exc:
                self.note(f"{kind} {name}", Outcome.problem, "", str(exc), node)
            name = node.path("connector", "targetReference")
            if kind == "waits":
                event = node.get("waitEvents")
                name = event.path("connector", "targetReference") if event is not None else None

    def decision(self, node: Node, guard: str | None, stop: set[str]) -> str | None:
        name = node.value("name") or ""
        chooser = f"vars.{_short(f'{self.prefix}_{name}')}"
        rules = node.all("rules")
        branches: list[tuple[str, str | None]] = []
        expression = "'default'"
        try:
            for rule in reversed(rules):
                parts = [condition(c, self.scope)[0] for c in rule.all("conditions")]
                when = combine(parts, rule.value("conditionLogic"))
                expression = f"{_q(rule.value('name') or '')} if {when} else ({expression})"
        except Untranslatable as exc:
            self.note(f"decision {name}", Outcome.problem, "", str(exc), node)
            return None
        for rule in rules:
            branches.append((rule.value("name") or "", rule.path("connector", "targetReference")))
        branches.append(("default", node.path("defaultConnector", "targetReference")))
        self.emit(
            {"type": "set_variables", "values": {chooser[5:]: expression}},
            guard,
            f"decision {name}",
            node,
        )
        self.note(
            f"decision {name}",
            Outcome.approximated,
            f"set_variables {chooser[5:]}",
            "the rule that wins is kept in a variable; each branch's actions apply "
            "only when it names their rule",
            node,
        )
        join = self.join([t for _, t in branches], stop)
        for rule_name, target in branches:
            branch_guard = f"{chooser} == {_q(rule_name)}"
            if guard:
                branch_guard = f"({guard}) and {branch_guard}"
            self.walk(target, branch_guard, stop | ({join} if join else set()))
        return join

    def join(self, targets: list[str | None], stop: set[str]) -> str | None:
        """Where the branches meet again: the first element every branch reaches."""
        orders = [self.reach(t, stop) for t in targets]
        if not orders:
            return None
        common = set(orders[0]).intersection(*[set(o) for o in orders[1:]])
        return next((n for n in orders[0] if n in common), None)

    def reach(self, start: str | None, stop: set[str]) -> list[str]:
        order: list[str] = []
        pending = [start] if start else []
        while pending and len(order) < MAX_ELEMENTS_WALKED:
            name = pending.pop(0)
            if name in order or name in stop or name not in self.index:
                continue
            order.append(name)
            _, node = self.index[name]
            for target in node.walk():
                if target.tag == "targetReference" and target.text.strip():
                    pending.append(target.text.strip())
        return order

    # ------------------------------------------------------------ elements

    def element(self, kind: str, node: Node, guard: str | None) -> None:
        name = node.value("name") or ""
        what = f"{kind} {name}"
        if kind == "assignments":
            self.assignment(node, guard, what)
        elif kind == "recordUpdates":
            self.update(node, guard, what)
        elif kind == "recordCreates":
            self.create(node, guard, what)
        elif kind == "recordLookups":
            self.lookup(node, guard, what)
        elif kind == "actionCalls":
            self.action_call(node, guard, what)
        elif kind == "waits":
            self.wait(node, guard, what)
        elif kind == "subflows":
            self.subflow(node, guard, what)
        else:
            reason = {
                "apexPluginCalls": "Apex has no Baton counterpart",
                "loops": "loops over collections have no Baton counterpart",
                "recordDeletes": "Baton actions do not delete records",
                "screens": "a background step shows no screen",
            }.get(kind, f"{kind} has no Baton counterpart")
            self.note(what, Outcome.not_carried, "placeholder action", reason, node)
            self.owner.actions.append(placeholder(f"{what} ({reason})"))

    def assignment(self, node: Node, guard: str | None, what: str) -> None:
        values: dict[str, str] = {}
        for item in node.all("assignmentItems"):
            target = item.value("assignToReference") or ""
            operator = item.value("operator") or "Assign"
            expression = value(item.get("value"), self.scope)
            if target.startswith("$Record."):
                field_ = target.split(".", 1)[1]
                self.pending_record[field_] = expression
                continue
            current = reference(target, self.scope)
            if not current.startswith("vars."):
                raise Untranslatable(f"cannot assign to '{target}'")
            if operator == "Add":
                expression = f"coalesce({current}, 0) + {expression}"
            elif operator == "Subtract":
                expression = f"coalesce({current}, 0) - {expression}"
            elif operator != "Assign":
                raise Untranslatable(f"assignment operator {operator} has no Baton counterpart")
            values[current[5:]] = expression
        if values:
            self.emit({"type": "set_variables", "values": values}, guard, what, node)
            self.note(what, Outcome.exact, f"set_variables {', '.join(values)}", "", node)
        if self.pending_record:
            self.note(
                what,
                Outcome.approximated,
                "values for the next update of $Record",
                "kept until the flow saves $Record",
                node,
            )

    def _inputs(self, node: Node) -> dict[str, str]:
        values = {}
        for item in node.all("inputAssignments"):
            values[item.value("field") or ""] = value(item.get("value"), self.scope)
        return values

    def _target_record(self, node: Node) -> str | None:
        """The record a filter ``Id EqualTo X`` names, as an expression."""
        for item in node.all("filters"):
            if item.value("field") == "Id" and item.value("operator") == "EqualTo":
                return value(item.get("value"), self.scope)
        return None

    def update(self, node: Node, guard: str | None, what: str) -> None:
        reference_ = node.value("inputReference")
        if reference_ == "$Record":
            values = dict(self.pending_record)
            self.pending_record.clear()
            if not values:
                self.note(
                    what, Outcome.not_carried, "", "saves $Record with no changed field", node
                )
                return
            self.emit({"type": "update_record", "values": values}, guard, what, node)
            self.note(
                what,
                Outcome.exact,
                f"update_record of the run's record: {', '.join(values)}",
                "",
                node,
            )
            return
        target = self._target_record(node)
        values = self._inputs(node)
        if target is None or not values or len(node.all("filters")) > 1:
            reason = "updates records found by a filter other than their Id"
            self.note(what, Outcome.not_carried, "placeholder action", reason, node)
            self.owner.actions.append(placeholder(f"{what} ({reason})"))
            return
        action: dict[str, Any] = {"type": "update_record", "values": values}
        if target != "record.id":
            action["record"] = target
        self.emit(action, guard, what, node)
        self.note(what, Outcome.exact, f"update_record {target}: {', '.join(values)}", "", node)

    def create(self, node: Node, guard: str | None, what: str) -> None:
        object_ = node.value("object") or ""
        values = self._inputs(node)
        action: dict[str, Any] = {"type": "create_record", "object": object_, "values": values}
        output = node.value("assignRecordIdToReference")
        if output:
            target = reference(output, self.scope)
            action["output"] = target.split(".")[-1]
        self.emit(action, guard, what, node)
        self.note(what, Outcome.exact, f"create_record {object_}", "", node)

    def lookup(self, node: Node, guard: str | None, what: str) -> None:
        target = self._target_record(node)
        name = node.value("name") or ""
        output = node.value("outputReference") or name
        if (
            node.value("object") == self.owner.record_object
            and target == "record.id"
            and len(node.all("filters")) == 1
        ):
            self.scope.variables[output] = "record"
            self.note(
                what,
                Outcome.exact,
                "record",
                "the run's own record, re-read at every evaluation",
                node,
            )
            return
        reason = "Baton actions do not look records up; only the run's own record is read"
        self.note(what, Outcome.not_carried, "placeholder action", reason, node)
        self.owner.actions.append(placeholder(f"{what} ({reason})"))

    def _parameters(self, node: Node) -> dict[str, Node]:
        return {p.value("name") or "": p for p in node.all("inputParameters")}

    def _text(self, parameter: Node | None) -> str:
        if parameter is None:
            return ""
        holder = parameter.get("value")
        ref = holder.value("elementReference") if holder is not None else None
        if ref and ref in self.texts:
            return template(self.texts[ref], self.scope)
        if ref:
            return "{{ " + reference(ref, self.scope) + " }}"
        text = holder.value("stringValue") if holder is not None else None
        return template(text or "", self.scope)

    def action_call(self, node: Node, guard: str | None, what: str) -> None:
        action_type = node.value("actionType") or ""
        action_name = node.value("actionName") or ""
        if action_type == "emailSimple":
            params = self._parameters(node)
            recipients: list[str] = []
            for key in ("emailAddresses", "emailAddressesArray", "recipientId"):
                text = self._text(params.get(key))
                recipients += [r.strip() for r in text.split(",") if r.strip()]
            subject = self._text(params.get("emailSubject")) or "(no subject)"
            body = self._text(params.get("emailBody"))
            if not recipients:
                raise Untranslatable("the e-mail has no recipients")
            self.emit(
                {"type": "send_email", "to": recipients, "subject": subject, "body": body},
                guard,
                what,
                node,
            )
            self.note(what, Outcome.exact, f"send_email to {', '.join(recipients)}", "", node)
            return
        reasons = {
            "apex": f"Apex action {action_name}",
            "emailAlert": f"e-mail alert {action_name} (its template and recipients live in "
            "the org's workflow alerts)",
            "externalService": f"external service {action_name}",
            "flow": f"flow action {action_name}",
        }
        reason = reasons.get(action_type, f"{action_type or 'unknown'} action {action_name}")
        self.note(
            what,
            Outcome.not_carried,
            "placeholder action",
            f"{reason} has no Baton counterpart",
            node,
        )
        self.owner.actions.append(placeholder(reason))

    def wait(self, node: Node, guard: str | None, what: str) -> None:
        events = node.all("waitEvents")
        if not events:
            raise Untranslatable("the wait has no events")
        event = events[0]
        note = "" if len(events) == 1 else f"only the first of its {len(events)} events"
        params = self._parameters(event)
        event_type = event.value("eventType") or ""
        if event_type in ("AlarmEvent", "DateRefAlarmEvent"):
            base = params.get("AlarmTime")
            moment = value(base.get("value"), self.scope) if base is not None else "now()"
            offset = params.get("TimeOffset")
            amount = value(offset.get("value"), self.scope) if offset is not None else "0"
            unit_node = params.get("TimeOffsetUnit")
            unit = value(unit_node.get("value"), self.scope) if unit_node is not None else "'Hours'"
            helper = "add_days" if "Day" in unit else "add_hours"
            until = moment if amount == "0" else f"{helper}({moment}, {amount})"
            if guard:
                until = f"{until} if {guard} else now()"
            self.owner.actions.append({"type": "wait_until", "until": until})
            self.note(
                what,
                Outcome.approximated if note else Outcome.exact,
                f"wait_until {until}",
                note,
                node,
            )
            return
        if not event_type:
            raise Untranslatable("the wait event has no eventType")
        key = "text(record.id)"
        for item in event.all("conditions"):
            key = f"text({value(item.get('rightValue'), self.scope)})"
            break
        event_name = "".join(c if c.isalnum() or c == "_" else "_" for c in event_type)
        event_name = event_name.removesuffix("__e").strip("_") or "event"
        if guard:
            self.note(what, Outcome.not_carried, "", "a wait inside a decision branch", node)
            self.owner.actions.append(placeholder(f"{what} (a wait in a decision branch)"))
            return
        self.owner.actions.append({"type": "wait_for_event", "event": event_name, "key": key})
        note = "; ".join(
            n
            for n in (
                note,
                f"platform event {event_type} arrives as Baton event '{event_name}' with key {key}",
            )
            if n
        )
        self.note(what, Outcome.approximated, f"wait_for_event {event_name}", note, node)

    def subflow(self, node: Node, guard: str | None, what: str) -> None:
        flow_name = node.value("flowName") or ""
        inner = self.owner.project.flows.get(flow_name)
        if (
            inner is None
            or inner.process_type != "AutoLaunchedFlow"
            or self.depth >= MAX_SUBFLOW_DEPTH
            or guard
        ):
            reason = (
                f"subflow {flow_name} is not in the project"
                if inner is None
                else f"subflow {flow_name} is a {inner.process_type or 'flow'}, not autolaunched"
                if inner.process_type != "AutoLaunchedFlow"
                else "a subflow inside a decision branch"
                if guard
                else "subflows nested too deeply"
            )
            self.note(what, Outcome.not_carried, "placeholder action", reason, node)
            self.owner.actions.append(placeholder(reason))
            return
        bindings = {
            item.value("name") or "": value(item.get("value"), self.scope)
            for item in node.all("inputAssignments")
        }
        self.note(
            what,
            Outcome.approximated,
            f"the actions of {flow_name}",
            "the subflow's elements are run in line",
            node,
        )
        before = dict(self.owner.outputs)
        self.owner.convert(
            inner, _short(f"{self.prefix}_{flow_name}"), bindings, self.scope, self.depth + 1
        )
        self.owner.outputs = before


def _q(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
