"""Evaluation flows → a condition: the expression a flow computes in its
``isOrchestrationConditionMet``, for a stage's or step's entry and exit criteria."""

from __future__ import annotations

from engine.salesforce.actions import elements, flow_scope
from engine.salesforce.expressions import Scope, Untranslatable, combine, condition, value
from engine.salesforce.project import FlowFile


def evaluation(
    flow: FlowFile,
    bindings: dict[str, str],
    base: Scope,
    record_object: str | None,
) -> str:
    """The condition an evaluation flow computes (its ``isOrchestrationConditionMet``)."""
    root = flow.root
    if flow.process_type != "EvaluationFlow":
        raise Untranslatable(
            f"{flow.name} is a {flow.process_type or 'flow'}, not an evaluation flow"
        )
    bound = dict(bindings)
    for variable in root.all("variables"):
        name = variable.value("name") or ""
        if variable.flag("isInput") and name not in bound and name.lower() == "recordid":
            bound[name] = "record.id"
    scope = flow_scope(root, "eval", bound, base)
    index = elements(root)
    result_var = "isOrchestrationConditionMet"
    default = "False"
    for variable in root.all("variables"):
        if variable.value("name") == result_var and variable.get("value") is not None:
            default = value(variable.get("value"), scope)

    def result(name: str | None, current: str, depth: int) -> str:
        if depth > 50:
            raise Untranslatable("the evaluation flow loops")
        if not name:
            return current
        if name not in index:
            raise Untranslatable(f"no element named '{name}'")
        kind, node = index[name]
        if kind == "assignments":
            for item in node.all("assignmentItems"):
                if item.value("assignToReference") == result_var:
                    current = value(item.get("value"), scope)
                else:
                    raise Untranslatable("the evaluation flow assigns other variables")
            return result(node.path("connector", "targetReference"), current, depth + 1)
        if kind == "decisions":
            out = result(node.path("defaultConnector", "targetReference"), current, depth + 1)
            for rule in reversed(node.all("rules")):
                parts = [condition(c, scope)[0] for c in rule.all("conditions")]
                when = combine(parts, rule.value("conditionLogic"))
                taken = result(rule.path("connector", "targetReference"), current, depth + 1)
                out = _choose(when, taken, out)
            return out
        if kind == "recordLookups":
            filters = node.all("filters")
            target = None
            if len(filters) == 1 and filters[0].value("field") == "Id":
                target = value(filters[0].get("value"), scope)
            if target == "record.id" and node.value("object") == record_object:
                scope.variables[node.value("outputReference") or name] = "record"
                return result(node.path("connector", "targetReference"), current, depth + 1)
            raise Untranslatable("it looks up records other than the run's own")
        raise Untranslatable(f"{kind} {name} has no place in a Baton condition")

    start = root.path("start", "connector", "targetReference")
    return result(start, default, 0)


def _choose(when: str, taken: str, otherwise: str) -> str:
    if taken == otherwise:
        return taken
    if taken == "True" and otherwise == "False":
        return when
    if taken == "False" and otherwise == "True":
        return f"not ({when})"
    if otherwise == "False":
        return f"({when}) and ({taken})"
    return f"({taken}) if ({when}) else ({otherwise})"
