"""Parsing Baton expressions: syntax, the allowed subset of Python, and the names used.

An expression is parsed once (``compile_expression`` is cached) into a ``CompiledExpression``
that keeps the syntax tree for evaluation and the dotted name paths it reads, so that
definition validation can check every name without evaluating anything.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache

from engine.expressions.helpers import HELPERS
from engine.text import did_you_mean

MAX_EXPRESSION_LENGTH = 4000
MAX_DEPTH = 60


class ExpressionError(Exception):
    """A problem with an expression: where it is (1-based column) and what is wrong."""

    def __init__(self, message: str, expression: str = "", position: int | None = None) -> None:
        self.message = message
        self.expression = expression
        self.position = position
        super().__init__(self.describe())

    def describe(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.message} (at column {self.position})"


@dataclass(frozen=True)
class NameReference:
    """A dotted path read by an expression, e.g. ``('review', 'legal', 'outputs')``."""

    path: tuple[str, ...]
    position: int


@dataclass(frozen=True)
class CompiledExpression:
    text: str
    tree: ast.expr
    references: tuple[NameReference, ...]
    calls: tuple[tuple[str, int], ...]


_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Is,
    ast.IsNot,
    ast.IfExp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Attribute,
    ast.Subscript,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Dict,
)

_FRIENDLY_NODE_NAMES: dict[type[ast.AST], str] = {
    ast.Lambda: "lambda functions",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "generator expressions",
    ast.JoinedStr: "f-strings (use + and text() instead)",
    ast.NamedExpr: "assignment (:=)",
    ast.Starred: "* unpacking",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.Slice: "slices",
    ast.BitAnd: "bitwise operators",
    ast.BitOr: "bitwise operators",
    ast.BitXor: "bitwise operators",
    ast.LShift: "bitwise operators",
    ast.RShift: "bitwise operators",
    ast.Invert: "bitwise operators",
    ast.MatMult: "the @ operator",
    ast.Set: "set literals",
}


def _column(node: ast.AST) -> int:
    return int(getattr(node, "col_offset", 0)) + 1


def _dotted_path(node: ast.expr) -> tuple[str, ...] | None:
    parts: list[str] = []
    current: ast.expr = node
    while isinstance(current, ast.Attribute):
        parts.append(current.attr)
        current = current.value
    if isinstance(current, ast.Name):
        parts.append(current.id)
        return tuple(reversed(parts))
    return None


class _Checker(ast.NodeVisitor):
    def __init__(self, text: str) -> None:
        self.text = text
        self.references: list[NameReference] = []
        self.calls: list[tuple[str, int]] = []
        self.depth = 0

    def fail(self, message: str, node: ast.AST) -> ExpressionError:
        return ExpressionError(message, self.text, _column(node))

    def generic_visit(self, node: ast.AST) -> None:
        if not isinstance(node, _ALLOWED_NODES):
            what = _FRIENDLY_NODE_NAMES.get(type(node), type(node).__name__)
            raise self.fail(f"{what} are not allowed in expressions", node)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail("expression is nested too deeply", node)
        super().generic_visit(node)
        self.depth -= 1

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr.startswith("_"):
            raise self.fail(f"names starting with '_' are not allowed ('{node.attr}')", node)
        path = _dotted_path(node)
        if path is not None:
            self.references.append(NameReference(path, _column(node)))
            self._check_names(node)
            return
        self.generic_visit(node)

    def _check_names(self, node: ast.expr) -> None:
        current: ast.expr = node
        while isinstance(current, ast.Attribute):
            if current.attr.startswith("_"):
                raise self.fail(f"names starting with '_' are not allowed ('{current.attr}')", node)
            current = current.value
        if isinstance(current, ast.Name) and current.id.startswith("_"):
            raise self.fail(f"names starting with '_' are not allowed ('{current.id}')", current)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("_"):
            raise self.fail(f"names starting with '_' are not allowed ('{node.id}')", node)
        self.references.append(NameReference((node.id,), _column(node)))

    def visit_Call(self, node: ast.Call) -> None:
        if not isinstance(node.func, ast.Name):
            raise self.fail("only the built-in helper functions can be called", node)
        if node.keywords:
            raise self.fail("keyword arguments are not supported; pass values in order", node)
        name = node.func.id
        if name not in HELPERS:
            hint = did_you_mean(name, HELPERS)
            raise self.fail(f"unknown function '{name}'{hint}", node)
        self.calls.append((name, _column(node)))
        for arg in node.args:
            self.visit(arg)

    def visit_Dict(self, node: ast.Dict) -> None:
        if any(key is None for key in node.keys):
            raise self.fail("** unpacking is not allowed in expressions", node)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, bytes | complex) or node.value is Ellipsis:
            raise self.fail(f"{type(node.value).__name__} literals are not allowed", node)


def _parse(text: str) -> CompiledExpression:
    if not isinstance(text, str):
        raise ExpressionError("an expression must be text")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"expression is {len(text)} characters long; the limit is {MAX_EXPRESSION_LENGTH}"
        )
    stripped = text.strip()
    if not stripped:
        raise ExpressionError("expression is empty")
    source = " ".join(stripped.splitlines())
    offset = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        reason = exc.msg or "invalid syntax"
        if not exc.offset:
            # Python reports offset 0 when the text ends before the expression does.
            reason, column = "the expression ends too early", len(text.rstrip()) + 1
        else:
            column = exc.offset + offset
        raise ExpressionError(f"syntax error: {reason}", text, column) from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError("expression cannot be parsed", text) from None
    checker = _Checker(text)
    try:
        checker.visit(tree.body)
    except RecursionError:
        raise ExpressionError("expression is nested too deeply", text) from None
    return CompiledExpression(
        text=text,
        tree=tree.body,
        references=tuple(checker.references),
        calls=tuple(checker.calls),
    )


@lru_cache(maxsize=8192)
def compile_expression(text: str) -> CompiledExpression:
    """Parse and check ``text`` once; later calls with the same text are free."""
    return _parse(text)
