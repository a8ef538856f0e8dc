"""What converting a Salesforce orchestration needs throughout: its report, the names of
its stages and steps, and the conditions and connectors every element has."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.salesforce.evaluation import evaluation
from engine.salesforce.expressions import (
    Scope,
    Untranslatable,
    combine,
    condition,
    value,
)
from engine.salesforce.project import FlowFile, Project
from engine.salesforce.report import FileReport, Outcome
from engine.salesforce.xml import Node


def baton_name(name: str) -> str:
    """A Salesforce API name as a Baton name (they mostly already are one)."""
    clean = re.sub(r"[^A-Za-z0-9_]", "_", name) or "unnamed"
    if not clean[0].isalpha():
        clean = "sf_" + clean
    return clean[:63]


@dataclass
class StageNames:
    node: Node
    name: str
    steps: dict[str, str]  # Salesforce step name → Baton step name


class ConverterBase:
    """The flow being converted, its report, and what every kind of element uses."""

    def __init__(self, flow: FlowFile, project: Project) -> None:
        self.flow = flow
        self.project = project
        self.root = flow.root
        self.report = FileReport(flow.path, "orchestration", baton_name(flow.name))
        self.scope = Scope()
        self.forms: dict[str, dict[str, Any]] = {}
        self.stages: dict[str, StageNames] = {}
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

    # ------------------------------------------------------------ conditions and connectors

    @staticmethod
    def _describe(node: Node) -> str:
        left = node.value("leftValueReference") or node.value("field") or ""
        right_node = node.get("rightValue") or node.get("value")
        right = right_node.children[0].text.strip() if right_node and right_node.children else ""
        return f"{left} {node.value('operator') or ''} {right}".strip()

    def _as_text(self, node: Node) -> str:
        """An untranslatable condition, kept as written: validation then names it."""
        return "{!" + self._describe(node) + "}"

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
