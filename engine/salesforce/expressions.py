"""Salesforce references, conditions and formulas → Baton expressions.

Salesforce writes a condition as (left reference, operator, right value) and formulas in
its own syntax (``AND(…)``, ``ISPICKVAL``, ``{!Var}``); Baton has one small expression
language (docs/expressions.md). Everything here either gives an exact Baton expression or
raises ``Untranslatable`` saying why, so the importer never guesses silently.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.expressions import ExpressionError, compile_expression
from engine.salesforce.xml import Node


class Untranslatable(Exception):
    """The Salesforce text has no Baton translation; the message says why."""


class UnknownReference(Untranslatable):
    """A reference to a step, stage or variable that does not exist in the flow."""


@dataclass
class StepRef:
    path: str  # Baton's "stage.step"
    outputs: dict[str, str] = field(default_factory=dict)  # Salesforce output → expression


@dataclass
class Scope:
    """What names mean where an expression is translated."""

    steps: dict[str, StepRef] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)  # name → expression
    formulas: dict[str, str] = field(default_factory=dict)  # name → Salesforce formula text
    constants: dict[str, str] = field(default_factory=dict)  # name → Baton literal
    old: bool = False  # $Record__Prior is readable (record-trigger criteria)
    value_of: str | None = None  # a screen field read as `value` (field validation)
    _expanding: set[str] = field(default_factory=set)


def quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return f"'{escaped}'"


def plain_number(text: str) -> int | float:
    """A numberValue as a number (whole when it is one); raises ``Untranslatable``."""
    try:
        value = float(text)
    except ValueError:
        raise Untranslatable(f"'{text}' is not a number") from None
    if not math.isfinite(value):
        raise Untranslatable(f"'{text}' is not a finite number")
    return int(value) if value.is_integer() and abs(value) < 1e15 else value


def number(text: str) -> str:
    return str(plain_number(text))


_NO_COUNTERPART = {
    "$User": "the running user's fields",
    "$Organization": "the org's settings",
    "$Setup": "custom settings",
    "$Label": "custom labels",
    "$Api": "API session values",
    "$Permission": "custom permissions",
    "$Profile": "profiles",
    "$UserRole": "roles",
    "$Orchestration": "orchestration context",
}


def reference(text: str, scope: Scope) -> str:
    """A Salesforce reference (``$Record.Amount__c``, ``Step1.Outputs.x``, ``Var``)."""
    text = text.strip()
    if text.startswith("{!") and text.endswith("}"):
        text = text[2:-1].strip()
    parts = text.split(".")
    head, rest = parts[0], parts[1:]
    if head in ("$Record", "$Record__Prior"):
        if head == "$Record__Prior" and not scope.old:
            raise Untranslatable(
                "$Record__Prior (the record before the update) is only readable in the "
                "record trigger's criteria"
            )
        base = "record" if head == "$Record" else "old"
        if not rest:
            return f"{base}.id"
        if len(rest) > 1:
            raise Untranslatable(
                f"'{text}' reads a related record; Baton expressions read the run's own record only"
            )
        return f"{base}.{_field(rest[0])}"
    if head == "$Flow":
        if rest == ["CurrentDateTime"]:
            return "now()"
        if rest == ["CurrentDate"]:
            return "today()"
        raise Untranslatable(f"'{text}' has no Baton counterpart")
    if head in _NO_COUNTERPART:
        raise Untranslatable(f"'{text}' reads {_NO_COUNTERPART[head]}, which Baton does not have")
    if head in scope.steps:
        step = scope.steps[head]
        if rest == ["Status"]:
            return f"{step.path}.status"
        if len(rest) == 2 and rest[0] == "Outputs":
            if rest[1] not in step.outputs:
                known = ", ".join(sorted(step.outputs)) or "none"
                raise UnknownReference(
                    f"step '{head}' has no output '{rest[1]}' (its outputs: {known})"
                )
            return step.outputs[rest[1]]
        raise Untranslatable(f"'{text}': a step's Status and Outputs.NAME are carried over")
    if head in scope.stages:
        if rest == ["Status"]:
            return f"{scope.stages[head]}.status"
        raise Untranslatable(f"'{text}': only a stage's Status is carried over")
    if scope.value_of is not None and head == scope.value_of and not rest:
        return "value"
    if head in scope.variables:
        base = scope.variables[head]
        return base + "".join(f".{_field(p)}" for p in rest)
    if head in scope.constants and not rest:
        return scope.constants[head]
    if head in scope.formulas and not rest:
        if head in scope._expanding:
            raise Untranslatable(f"formula '{head}' refers to itself")
        scope._expanding.add(head)
        try:
            return f"({formula(scope.formulas[head], scope)})"
        finally:
            scope._expanding.discard(head)
    raise UnknownReference(
        f"'{text}' is not a step, stage, variable, formula or constant of this flow"
    )


def _field(name: str) -> str:
    if name == "Id":
        return "id"
    if name == "OwnerId":
        return "owner"
    return name


# ---------------------------------------------------------------- values and text

_MERGE = re.compile(r"\{!\s*([^{}]+?)\s*\}")


def value(node: Node | None, scope: Scope) -> str:
    """A ``rightValue`` / ``value`` element: one of stringValue, numberValue, …"""
    if node is None or not node.children:
        return "None"
    child = node.children[0]
    text = child.text.strip() if child.tag != "stringValue" else child.text
    if child.tag == "stringValue":
        return text_value(text, scope)
    if child.tag == "numberValue":
        return number(text)
    if child.tag == "booleanValue":
        return "True" if text.lower() == "true" else "False"
    if child.tag == "dateTimeValue":
        return f"datetime({quote(text)})"
    if child.tag == "dateValue":
        return f"date({quote(text)})"
    if child.tag == "elementReference":
        return reference(text, scope)
    raise Untranslatable(f"a value of kind '{child.tag}' has no Baton counterpart")


def text_value(text: str, scope: Scope) -> str:
    """Text that may hold ``{!merge}`` fields, as an expression giving the text."""
    pieces = _MERGE.split(text)
    if len(pieces) == 1:
        return quote(text)
    if len(pieces) == 3 and not pieces[0] and not pieces[2]:
        return reference(pieces[1], scope)
    parts = []
    for index, piece in enumerate(pieces):
        if index % 2:
            parts.append(f"text({reference(piece, scope)})")
        elif piece:
            parts.append(quote(piece))
    return " + ".join(parts)


def template(text: str, scope: Scope) -> str:
    """Text with ``{!merge}`` fields as Baton text with ``{{ expression }}`` placeholders."""
    return _MERGE.sub(lambda m: "{{ " + reference(m.group(1), scope) + " }}", text)


# ---------------------------------------------------------------- conditions

_EMPTY = "; comparing with an empty value is an error in Baton, false in Salesforce"
# operator → (Baton template, how it reads)
OPERATORS: dict[str, tuple[str, str]] = {
    "EqualTo": ("{l} == {r}", "equal to: =="),
    "NotEqualTo": ("{l} != {r}", "not equal to: !="),
    "GreaterThan": ("{l} > {r}", "greater than: >" + _EMPTY),
    "LessThan": ("{l} < {r}", "less than: <" + _EMPTY),
    "GreaterThanOrEqualTo": ("{l} >= {r}", "at least: >=" + _EMPTY),
    "LessThanOrEqualTo": ("{l} <= {r}", "at most: <=" + _EMPTY),
    "StartsWith": ("starts_with({l}, {r})", "starts with: starts_with()"),
    "EndsWith": ("ends_with({l}, {r})", "ends with: ends_with()"),
    "Contains": ("contains({l}, {r})", "contains: contains()"),
    "In": ("{l} in {r}", "one of: in"),
    "NotIn": ("{l} not in {r}", "none of: not in"),
}
_UNSUPPORTED = {
    "WasSet": "whether a variable was ever set is not tracked by Baton",
    "WasSelected": "choice selection is not tracked by Baton",
    "WasVisited": "which flow elements were visited is not tracked by Baton",
    "HasError": "error flags of flow elements are not tracked by Baton",
}
ORDERING = {"GreaterThan", "LessThan", "GreaterThanOrEqualTo", "LessThanOrEqualTo"}


def condition(
    node: Node, scope: Scope, *, left_of: Callable[[str], str] | None = None
) -> tuple[str, str]:
    """A condition element → (Baton expression, how its operator was read).
    ``left_of`` translates the left side when it is not a reference (a trigger filter's
    ``field``)."""
    left_text = node.value("leftValueReference") or node.value("field")
    operator = node.value("operator") or ""
    if not left_text:
        raise Untranslatable("the condition has no left side")
    if operator in _UNSUPPORTED:
        raise Untranslatable(f"operator {operator}: {_UNSUPPORTED[operator]}")
    if operator not in OPERATORS and operator not in ("IsNull", "IsBlank", "IsChanged"):
        known = ", ".join([*OPERATORS, "IsNull", "IsBlank", "IsChanged"])
        raise Untranslatable(f"unknown operator '{operator}' (known: {known})")
    left = left_of(left_text) if left_of else reference(left_text, scope)
    right_node = node.get("rightValue") or node.get("value")
    if operator in ("IsNull", "IsBlank"):
        negate = right_node is not None and value(right_node, scope) == "False"
        expression = f"is_blank({left})"
        return (f"not {expression}" if negate else expression), "is empty: is_blank()"
    if operator == "IsChanged":
        if not scope.old or not left.startswith("record."):
            raise Untranslatable("IsChanged is only carried over in a record trigger's criteria")
        before = "old." + left.removeprefix("record.")
        wanted = right_node is None or value(right_node, scope) != "False"
        if wanted:
            return f"old is not None and {left} != {before}", "changed: compared with old"
        return f"old is None or {left} == {before}", "not changed: compared with old"
    right = value(right_node, scope)
    if right == "None" and operator in ("EqualTo", "NotEqualTo"):
        blank = f"is_blank({left})"
        return (blank if operator == "EqualTo" else f"not {blank}"), "is empty: is_blank()"
    pattern, reading = OPERATORS[operator]
    return pattern.format(l=left, r=right), reading


_LOGIC_TOKEN = re.compile(r"\s*(\d+|AND\b|OR\b|NOT\b|\(|\))", re.IGNORECASE)


def combine(parts: list[str], logic: str | None) -> str:
    """Conditions joined by ``and`` / ``or`` / custom logic such as ``1 AND (2 OR 3)``."""
    if not parts:
        raise Untranslatable("no conditions")
    wrapped = [f"({p})" if len(parts) > 1 and (" and " in p or " or " in p) else p for p in parts]
    text = (logic or "and").strip()
    if text.lower() in ("and", "or"):
        return f" {text.lower()} ".join(wrapped)
    out: list[str] = []
    position = 0
    depth = 0
    while position < len(text):
        match = _LOGIC_TOKEN.match(text, position)
        if match is None:
            if text[position:].strip() == "":
                break
            raise Untranslatable(
                f"condition logic '{text}' cannot be read at '{text[position:].strip()}'"
            )
        token = match.group(1)
        position = match.end()
        if token.isdigit():
            number_ = int(token)
            if not 1 <= number_ <= len(parts):
                raise Untranslatable(
                    f"condition logic '{text}' names condition {number_}, but there are "
                    f"{len(parts)}"
                )
            out.append(f"({parts[number_ - 1]})" if len(parts) > 1 else parts[0])
        elif token == "(":
            depth += 1
            out.append("(")
        elif token == ")":
            depth -= 1
            if depth < 0:
                raise Untranslatable(f"condition logic '{text}' has an unmatched ')'")
            out.append(")")
        else:
            out.append(token.lower())
    if depth:
        raise Untranslatable(f"condition logic '{text}' has an unmatched '('")
    result = " ".join(out).replace("( ", "(").replace(" )", ")")
    try:
        compile_expression(result)  # a parse check of the logic only
    except ExpressionError:
        raise Untranslatable(f"condition logic '{text}' is not well formed") from None
    return result


# ---------------------------------------------------------------- formulas

_FORMULA_TOKEN = re.compile(
    r"""\s*(?:
      (?P<merge>\{!\s*[^{}]+?\s*\})
    | (?P<number>\d+(?:\.\d+)?)
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<name>\$?[A-Za-z_][A-Za-z0-9_.$]*)
    | (?P<op>&&|\|\||<>|!=|==|<=|>=|[-+*/&=<>(),!])
    )""",
    re.VERBOSE,
)

_FUNCTIONS_SIMPLE = {
    "LEN": "len",
    "TEXT": "text",
    "VALUE": "number",
    "UPPER": "upper",
    "LOWER": "lower",
    "TRIM": "trim",
    "ABS": "abs",
    "ROUND": "round",
    "MAX": "max",
    "MIN": "min",
    "BEGINS": "starts_with",
    "CONTAINS": "contains",
    "BLANKVALUE": "coalesce",
    "DATEVALUE": "date",
    "DATETIMEVALUE": "datetime",
    "ISBLANK": "is_blank",
    "ISNULL": "is_blank",
}


def formula(text: str, scope: Scope) -> str:
    """A Salesforce formula → a Baton expression; raises ``Untranslatable``."""
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _FORMULA_TOKEN.match(text, position)
        if match is None or match.end() == position:
            if not text[position:].strip():
                break
            raise Untranslatable(f"the formula cannot be read at '{text[position:].strip()[:20]}'")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    parser = _FormulaParser(tokens, scope)
    result = parser.expression()
    if parser.index != len(tokens):
        raise Untranslatable(f"the formula has more after '{tokens[parser.index - 1][1]}'")
    return result


class _FormulaParser:
    def __init__(self, tokens: list[tuple[str, str]], scope: Scope) -> None:
        self.tokens = tokens
        self.scope = scope
        self.index = 0

    def peek(self) -> str | None:
        return self.tokens[self.index][1] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        if self.index >= len(self.tokens):
            raise Untranslatable("the formula ends too early")
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        _, got = self.take()
        if got != text:
            raise Untranslatable(f"the formula has '{got}' where '{text}' belongs")

    def expression(self) -> str:
        left = self.conjunction()
        while self.peek() == "||":
            self.take()
            left = f"{left} or {self.conjunction()}"
        return left

    def conjunction(self) -> str:
        left = self.comparison()
        while self.peek() == "&&":
            self.take()
            left = f"{left} and {self.comparison()}"
        return left

    def comparison(self) -> str:
        left = self.sum()
        ops = {"=": "==", "==": "==", "<>": "!=", "!=": "!=", "<": "<", ">": ">"}
        ops.update({"<=": "<=", ">=": ">="})
        if self.peek() in ops:
            _, op = self.take()
            return f"{left} {ops[op]} {self.sum()}"
        return left

    def sum(self) -> str:
        left = self.product()
        while self.peek() in ("+", "-", "&"):
            _, op = self.take()
            right = self.product()
            left = f"text({left}) + text({right})" if op == "&" else f"{left} {op} {right}"
        return left

    def product(self) -> str:
        left = self.unary()
        while self.peek() in ("*", "/"):
            _, op = self.take()
            left = f"{left} {op} {self.unary()}"
        return left

    def unary(self) -> str:
        if self.peek() == "-":
            self.take()
            return f"-{self.unary()}"
        if self.peek() == "!":
            self.take()
            return f"not {self.unary()}"
        return self.primary()

    def arguments(self) -> list[str]:
        self.expect("(")
        args: list[str] = []
        if self.peek() == ")":
            self.take()
            return args
        while True:
            args.append(self.expression())
            _, got = self.take()
            if got == ")":
                return args
            if got != ",":
                raise Untranslatable(f"the formula has '{got}' where ',' or ')' belongs")

    def primary(self) -> str:
        kind, token = self.take()
        if kind == "number":
            return number(token)
        if kind == "string":
            return quote(token[1:-1].replace('\\"', '"').replace("\\'", "'"))
        if kind == "merge":
            return reference(token, self.scope)
        if token == "(":
            inner = self.expression()
            self.expect(")")
            return f"({inner})"
        if kind != "name":
            raise Untranslatable(f"the formula has '{token}' where a value belongs")
        upper = token.upper()
        if upper in ("TRUE", "FALSE"):
            return upper.capitalize()
        if upper == "NULL":
            return "None"
        if self.peek() != "(":
            return reference(token, self.scope)
        args = self.arguments()
        if upper in ("AND", "OR"):
            return "(" + f" {upper.lower()} ".join(f"({a})" for a in args) + ")"
        if upper == "NOT" and len(args) == 1:
            return f"not ({args[0]})"
        if upper == "IF" and len(args) == 3:
            return f"({args[1]} if {args[0]} else {args[2]})"
        if upper == "ISPICKVAL" and len(args) == 2:
            return f"({args[0]} == {args[1]})"
        if upper in ("TODAY", "NOW") and not args:
            return f"{upper.lower()}()"
        if upper in _FUNCTIONS_SIMPLE:
            return f"{_FUNCTIONS_SIMPLE[upper]}({', '.join(args)})"
        raise Untranslatable(f"formula function {upper}() has no Baton counterpart")
