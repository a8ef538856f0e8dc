"""Checks that the file's shape cannot express: references, reachability and expressions.

They walk the raw data (not the pydantic model) so they still run when the file also has
shape errors: a person fixing a file sees every problem at once, not one round at a time.
Every access is defensive; anything of the wrong shape is left to the shape errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from engine.definitions.model import END, is_valid_name
from engine.definitions.problems import Path, Problem
from engine.expressions import ExpressionError, compile_expression
from engine.expressions.helpers import HELPERS
from engine.text import did_you_mean

TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
RUN_FIELDS = ("id", "started_at", "started_by", "orchestration", "version", "record_id")
STEP_FIELDS = ("status", "outputs", "completed_by", "completed_at", "started_at")
STAGE_FIELDS = ("status", "visits")
INTERACTIVE_OUTPUTS = ("outcome", "comment")
ROOTS = ("record", "vars", "run")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class Checker:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.problems: list[Problem] = []
        self.elements = [(i, _dict(e)) for i, e in enumerate(_list(data.get("elements")))]
        self.element_names = [n for _, e in self.elements if (n := _str(e.get("name")))]
        self._known_elements = set(self.element_names)
        self.stages: dict[str, dict[str, Any]] = {}
        for _, element in self.elements:
            name = _str(element.get("name"))
            if name and element.get("kind") == "stage":
                self.stages.setdefault(name, element)
        self.forms = _dict(data.get("forms"))
        self.variables = self._variable_names()

    def add(self, path: Path, message: str) -> None:
        self.problems.append(Problem(path, message))

    # ------------------------------------------------------------ names known to expressions

    def _variable_names(self) -> set[str]:
        names = {n for v in _list(self.data.get("variables")) if (n := _str(_dict(v).get("name")))}
        for _, element in self.elements:
            for step in _list(element.get("steps")):
                for action in self._all_actions(_dict(step)):
                    if action.get("type") == "set_variables":
                        names.update(k for k in _dict(action.get("values")) if isinstance(k, str))
        return names

    @staticmethod
    def _all_actions(step: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for action in _list(step.get("actions")):
            yield _dict(action)
        for rung in _list(step.get("escalations")):
            for action in _list(_dict(rung).get("actions")):
                yield _dict(action)

    def _step(self, stage: str, step: str) -> dict[str, Any] | None:
        for candidate in _list(self.stages.get(stage, {}).get("steps")):
            if _dict(candidate).get("name") == step:
                return _dict(candidate)
        return None

    def _step_outputs(self, step: dict[str, Any]) -> set[str] | None:
        """Outputs a step can have, or None when they cannot be known."""
        if step.get("kind") == "interactive":
            form = _dict(self.forms.get(str(step.get("form"))))
            fields = {n for f in _list(form.get("fields")) if (n := _str(_dict(f).get("name")))}
            return fields | set(INTERACTIVE_OUTPUTS)
        outputs = set()
        for action in self._all_actions(step):
            if name := _str(action.get("output")):
                outputs.add(name)
            if action.get("type") == "python":
                return None
        return outputs

    # ------------------------------------------------------------ expressions

    def expression(
        self, path: Path, text: Any, *, local: tuple[str, ...] = (), record: bool = True
    ) -> None:
        if not isinstance(text, str):
            return
        try:
            compiled = compile_expression(text)
        except ExpressionError as exc:
            self.add(path, f"expression '{text}': {exc.describe()}")
            return
        for ref in compiled.references:
            message = self._check_reference(ref.path, local, record)
            if message:
                self.add(path, f"expression '{text}': {message} (at column {ref.position})")

    def _check_reference(self, path: tuple[str, ...], local: tuple[str, ...], record: bool) -> str:
        root = path[0]
        if root in local:
            return ""
        if root == "record":
            return "" if record else "'record' is not available here"
        if root == "vars":
            if len(path) > 1 and path[1] not in self.variables:
                hint = did_you_mean(path[1], self.variables)
                return f"no variable named '{path[1]}'{hint}"
            return ""
        if root == "run":
            if len(path) > 1 and path[1] not in RUN_FIELDS:
                return f"runs have no field '{path[1]}' (they have {', '.join(RUN_FIELDS)})"
            return ""
        if root in self.stages:
            return self._check_stage_reference(path)
        if root in HELPERS:
            return f"'{root}' is a function: call it as {root}(...)"
        known = [*ROOTS, *self.stages, *local]
        return f"unknown name '{root}'{did_you_mean(root, known)}"

    def _check_stage_reference(self, path: tuple[str, ...]) -> str:
        stage = path[0]
        if len(path) < 2:
            return ""
        if path[1] in STAGE_FIELDS:
            return ""
        step = self._step(stage, path[1])
        if step is None:
            names = [_dict(s).get("name") for s in _list(self.stages[stage].get("steps"))]
            hint = did_you_mean(path[1], [n for n in names if isinstance(n, str)])
            return f"no step named '{path[1]}' in stage '{stage}'{hint}"
        if len(path) < 3:
            return ""
        if path[2] not in STEP_FIELDS:
            return f"steps have no field '{path[2]}' (they have {', '.join(STEP_FIELDS)})"
        if path[2] == "outputs" and len(path) > 3:
            outputs = self._step_outputs(step)
            if outputs is not None and path[3] not in outputs:
                hint = did_you_mean(path[3], outputs)
                return f"step '{stage}.{path[1]}' has no output '{path[3]}'{hint}"
        return ""

    def template(self, path: Path, text: Any) -> None:
        if not isinstance(text, str):
            return
        for match in TEMPLATE.finditer(text):
            self.expression(path, match.group(1).strip())

    # ------------------------------------------------------------ the checks

    def run(self) -> list[Problem]:
        self.check_top()
        self.check_variables()
        self.check_forms()
        self.check_elements()
        self.check_reachability()
        return self.problems

    def check_top(self) -> None:
        kind = self.data.get("type", "autolaunched")
        trigger = self.data.get("trigger")
        if kind == "record_triggered" and trigger is None:
            self.add(("trigger",), "a record-triggered orchestration needs a trigger (its object)")
        if kind == "record_triggered":
            for i, variable in enumerate(_list(self.data.get("variables"))):
                variable = _dict(variable)
                if (
                    variable.get("input")
                    and variable.get("required")
                    and variable.get("default") is None
                ):
                    self.add(
                        ("variables", i, "required"),
                        f"record-triggered runs start without inputs: '{variable.get('name')}' "
                        "cannot be required (give it a default instead)",
                    )
        if kind == "autolaunched" and trigger is not None:
            self.add(("trigger",), "only record-triggered orchestrations have a trigger")
        if isinstance(trigger, dict) and "criteria" in trigger:
            self.expression(("trigger", "criteria"), trigger["criteria"], local=("old",))
        if not self.elements:
            self.add(("elements",), "an orchestration needs at least one stage")

    def check_variables(self) -> None:
        seen: dict[str, int] = {}
        for i, variable in enumerate(_list(self.data.get("variables"))):
            name = _str(_dict(variable).get("name"))
            if name is None:
                continue
            if name in seen:
                self.add(("variables", i, "name"), f"variable '{name}' is declared twice")
            seen.setdefault(name, i)

    def check_forms(self) -> None:
        for form_name, form in self.forms.items():
            seen: set[str] = set()
            for i, field in enumerate(_list(_dict(form).get("fields"))):
                self._check_field(("forms", form_name, "fields", i), _dict(field), seen)
            outcome_names = set()
            for i, outcome in enumerate(_list(_dict(form).get("outcomes"))):
                name = _str(_dict(outcome).get("name"))
                if name in outcome_names:
                    self.add(("forms", form_name, "outcomes", i), f"outcome '{name}' is duplicated")
                if name:
                    outcome_names.add(name)

    def _check_field(self, path: Path, field: dict[str, Any], seen: set[str]) -> None:
        name = _str(field.get("name"))
        if name in seen:
            self.add((*path, "name"), f"the form has two fields named '{name}'")
        if name:
            seen.add(name)
        kind = field.get("type", "text")
        options = field.get("options")
        if kind == "picklist" and not _list(options):
            self.add((*path, "options"), "a picklist needs a list of options")
        if kind != "picklist" and options is not None:
            self.add((*path, "options"), f"only picklists have options (this field is {kind})")
        default = field.get("default")
        if default is not None:
            message = _default_problem(kind, default, _list(options))
            if message:
                self.add((*path, "default"), message)
        validation = _dict(field.get("validation"))
        if "expression" in validation:
            self.expression(
                (*path, "validation", "expression"), validation["expression"], local=("value",)
            )

    def check_elements(self) -> None:
        first_seen: dict[str, int] = {}
        for index, element in self.elements:
            name = _str(element.get("name"))
            if name is not None:
                if name in first_seen:
                    self.add(
                        ("elements", index, "name"),
                        f"'{name}' is already the name of elements[{first_seen[name]}]",
                    )
                else:
                    first_seen[name] = index
                if name == END:
                    self.add(("elements", index, "name"), "'end' is reserved: it ends the run")
                if name in (*ROOTS, *HELPERS):
                    self.add(
                        ("elements", index, "name"),
                        f"'{name}' is reserved in expressions; choose another name",
                    )
            if element.get("kind") == "stage":
                self.check_stage(("elements", index), element)
            elif element.get("kind") == "decision":
                self.check_decision(("elements", index), element)

    def target(self, path: Path, target: Any, *, allow_end: bool = True) -> None:
        if not isinstance(target, str) or not is_valid_name(target):
            return
        if target == END and allow_end:
            return
        if target not in self._known_elements:
            hint = did_you_mean(target, self.element_names)
            self.add(path, f"no element named '{target}'{hint}")

    def check_stage(self, path: Path, stage: dict[str, Any]) -> None:
        name = stage.get("name")
        self.target((*path, "next"), stage.get("next"))
        self.target((*path, "fault"), stage.get("fault"), allow_end=False)
        steps = [(i, _dict(s)) for i, s in enumerate(_list(stage.get("steps")))]
        step_names = [n for _, s in steps if (n := _str(s.get("name")))]
        if not steps:
            self.add((*path, "steps"), f"stage '{name}' has no steps")
        seen: set[str] = set()
        for i, step in steps:
            step_path = (*path, "steps", i)
            step_name = _str(step.get("name"))
            if step_name in seen:
                self.add((*step_path, "name"), f"stage '{name}' has two steps named '{step_name}'")
            if step_name:
                seen.add(step_name)
            self.check_step(step_path, step, stage, step_names)
        self._check_dependency_cycles(path, steps)
        exit_ = _dict(stage.get("exit"))
        exit_on = exit_.get("when", "all_steps")
        if exit_on == "steps":
            if not _list(exit_.get("steps")):
                self.add((*path, "exit", "steps"), "exit when: steps needs the steps to wait for")
            for j, ref in enumerate(_list(exit_.get("steps"))):
                self._step_ref((*path, "exit", "steps", j), ref, name, step_names)
        if exit_on == "expression":
            if "expression" not in exit_:
                self.add((*path, "exit", "expression"), "exit when: expression needs an expression")
            self.expression((*path, "exit", "expression"), exit_.get("expression"))

    def _step_ref(self, path: Path, ref: Any, stage: Any, names: list[str]) -> None:
        if isinstance(ref, str) and ref not in names:
            self.add(path, f"no step named '{ref}' in stage '{stage}'{did_you_mean(ref, names)}")

    def check_step(
        self, path: Path, step: dict[str, Any], stage: dict[str, Any], names: list[str]
    ) -> None:
        stage_name = stage.get("name")
        start = _dict(step.get("start"))
        start_on = start.get("when", "stage_start")
        if start_on == "after":
            refs = _list(start.get("steps"))
            if not refs:
                self.add((*path, "start", "steps"), "start when: after needs the steps to wait for")
            for j, ref in enumerate(refs):
                if ref == step.get("name"):
                    self.add((*path, "start", "steps", j), "a step cannot wait for itself")
                else:
                    self._step_ref((*path, "start", "steps", j), ref, stage_name, names)
        if start_on == "expression":
            if "expression" not in start:
                self.add(
                    (*path, "start", "expression"), "start when: expression needs an expression"
                )
            self.expression((*path, "start", "expression"), start.get("expression"))
        if step.get("kind") == "interactive":
            self.check_interactive(path, step)
        elif step.get("kind") == "background":
            self.check_background(path, step, stage)

    def check_interactive(self, path: Path, step: dict[str, Any]) -> None:
        form = step.get("form")
        if form is None:
            self.add((*path, "form"), "an interactive step needs a form")
        elif isinstance(form, str) and form not in self.forms:
            self.add((*path, "form"), f"no form named '{form}'{did_you_mean(form, self.forms)}")
        assignee = step.get("assignee")
        if assignee is None:
            self.add((*path, "assignee"), "an interactive step needs an assignee rule")
        else:
            self.expression((*path, "assignee", "expression"), _dict(assignee).get("expression"))
        self.expression((*path, "completion"), step.get("completion"))
        for i, rung in enumerate(_list(step.get("escalations"))):
            rung = _dict(rung)
            rung_path = (*path, "escalations", i)
            action = rung.get("action")
            if action in ("notify", "reassign") and rung.get("to") is None:
                self.add((*rung_path, "to"), f"a '{action}' escalation needs 'to' (who)")
            if action == "run_actions" and not _list(rung.get("actions")):
                self.add((*rung_path, "actions"), "a 'run_actions' escalation needs actions")
            if rung.get("to") is not None:
                self.expression(
                    (*rung_path, "to", "expression"), _dict(rung["to"]).get("expression")
                )
            self.check_actions(rung_path, _list(rung.get("actions")))
        if step.get("escalations") and step.get("due") is None:
            self.add((*path, "due"), "escalations are timed from the due date: set 'due'")

    def check_background(self, path: Path, step: dict[str, Any], stage: dict[str, Any]) -> None:
        actions = _list(step.get("actions"))
        if not actions:
            self.add((*path, "actions"), "a background step needs at least one action")
        self.check_actions(path, actions)
        if step.get("on_failure") == "fault_path" and not stage.get("fault"):
            self.add(
                (*path, "on_failure"),
                f"on_failure is fault_path but stage '{stage.get('name')}' has no fault path",
            )

    def check_actions(self, path: Path, actions: list[Any]) -> None:
        for i, action in enumerate(actions):
            action = _dict(action)
            apath = (*path, "actions", i)
            for key in ("values", "inputs"):
                for field, text in _dict(action.get(key)).items():
                    self.expression((*apath, key, field), text)
            for key in ("record", "until", "key", "body"):
                if key in action and action.get("type") != "send_email":
                    self.expression((*apath, key), action[key])
            if action.get("type") == "send_email":
                self.template((*apath, "subject"), action.get("subject"))
                self.template((*apath, "body"), action.get("body"))
                for j, recipient in enumerate(_list(action.get("to"))):
                    self.template((*apath, "to", j), recipient)
            if action.get("type") == "http_request":
                self.template((*apath, "url"), action.get("url"))

    def check_decision(self, path: Path, decision: dict[str, Any]) -> None:
        name = decision.get("name")
        outcomes = _list(decision.get("outcomes"))
        if not outcomes:
            self.add((*path, "outcomes"), f"decision '{name}' has no outcomes")
        seen: set[str] = set()
        for i, outcome in enumerate(outcomes):
            outcome = _dict(outcome)
            oname = _str(outcome.get("name"))
            if oname in seen:
                self.add((*path, "outcomes", i, "name"), f"outcome '{oname}' is duplicated")
            if oname:
                seen.add(oname)
            self.expression((*path, "outcomes", i, "when"), outcome.get("when"))
            self.target((*path, "outcomes", i, "next"), outcome.get("next"))
        if decision.get("default") is None:
            self.add(
                (*path, "default"),
                f"decision '{name}' has no default: say where to go when no outcome is true",
            )
        self.target((*path, "default"), decision.get("default"))

    def _check_dependency_cycles(self, path: Path, steps: list[tuple[int, dict[str, Any]]]) -> None:
        after: dict[str, list[str]] = {}
        index: dict[str, int] = {}
        for i, step in steps:
            name = _str(step.get("name"))
            start = _dict(step.get("start"))
            if name and start.get("when") == "after":
                after[name] = [s for s in _list(start.get("steps")) if isinstance(s, str)]
                index[name] = i
        # Depth-first with an explicit stack (a chain of thousands of steps must not exhaust
        # Python's): 1 = on the current trail, 2 = done.
        state: dict[str, int] = {}
        for name in after:
            if name in state:
                continue
            state[name] = 1
            trail = [name]
            work = [iter(after[name])]
            while work:
                for dep in work[-1]:
                    if dep == trail[-1] or state.get(dep) == 2:
                        continue
                    if state.get(dep) == 1:
                        cycle = [*trail[trail.index(dep) :], dep]
                        self.add(
                            (*path, "steps", index.get(cycle[0], 0), "start", "steps"),
                            "steps wait for each other in a circle: " + " → ".join(cycle),
                        )
                        continue
                    state[dep] = 1
                    trail.append(dep)
                    work.append(iter(after.get(dep, [])))
                    break
                else:
                    state[trail.pop()] = 2
                    work.pop()

    def check_reachability(self) -> None:
        if not self.elements:
            return
        by_name = {n: e for _, e in self.elements if (n := _str(e.get("name")))}
        order = [_str(e.get("name")) for _, e in self.elements]
        first_at: dict[str, int] = {}
        for position, name in enumerate(order):
            if name is not None:
                first_at.setdefault(name, position)
        start = order[0]
        if start is None:
            return
        reached = {start}
        pending = [start]
        while pending:
            current = pending.pop()
            element = by_name.get(current, {})
            targets: list[Any] = []
            if element.get("kind") == "stage":
                nxt = element.get("next")
                if nxt is None:
                    position = first_at[current]
                    nxt = order[position + 1] if position + 1 < len(order) else None
                targets += [nxt, element.get("fault")]
            elif element.get("kind") == "decision":
                targets += [_dict(o).get("next") for o in _list(element.get("outcomes"))]
                targets.append(element.get("default"))
            for target in targets:
                if isinstance(target, str) and target in by_name and target not in reached:
                    reached.add(target)
                    pending.append(target)
        for index, element in self.elements:
            name = _str(element.get("name"))
            if name and name not in reached:
                self.add(("elements", index), f"'{name}' can never be reached: nothing leads to it")


def _default_problem(kind: Any, default: Any, options: list[Any]) -> str:
    ok: bool
    if kind == "checkbox":
        ok = isinstance(default, bool)
        want = "true or false"
    elif kind in ("number", "currency"):
        ok = isinstance(default, int | float) and not isinstance(default, bool)
        want = "a number"
    elif kind == "picklist":
        ok = default in options
        want = "one of the options"
    else:
        ok = isinstance(default, str)
        want = "text"
    return "" if ok else f"the default {default!r} does not suit a {kind} field (expected {want})"


def check(data: dict[str, Any]) -> list[Problem]:
    """Every reference, reachability and expression problem in ``data``."""
    return Checker(data).run()
