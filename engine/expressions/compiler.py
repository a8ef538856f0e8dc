"""Parsing Baton expressions: syntax, the allowed subset of Python, and the names used.

An expression is parsed once (``compile_expression`` is cached) into a ``CompiledExpression``
that keeps the syntax tree for evaluation and the dotted name paths it reads, so that
definition validation can check every name without evaluating anything. The parts written
with literals only (``'x' * 10 ** 9``) are worked out here under the evaluator's limits, so
validation refuses what could only ever fail at run time.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache

from engine.expressions import limits
from engine.expressions.errors import ExpressionError, LimitError
from engine.expressions.helpers import HELPERS
from engine.text import did_you_mean

__all__ = ["CompiledExpression", "ExpressionError", "NameReference", "compile_expression"]

MAX_EXPRESSION_LENGTH = 4000
MAX_DEPTH = 60


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
    _check_literal_parts(tree.body, text, {})
    return CompiledExpression(
        text=text,
        tree=tree.body,
        references=tuple(checker.references),
        calls=tuple(checker.calls),
    )


# Literal parts: built from literals by operators, with no name, call or condition inside
# (each branch of `a if c else b` and each side of a comparison is checked on its own).
_LITERAL_NODES = (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.BinOp, ast.UnaryOp)
_LITERAL_CONTEXT = (ast.operator, ast.unaryop, ast.Load)


def _is_literal(node: ast.AST, known: dict[ast.AST, bool]) -> bool:
    if node not in known:
        known[node] = isinstance(node, _LITERAL_NODES) and all(
            isinstance(child, _LITERAL_CONTEXT) or _is_literal(child, known)
            for child in ast.iter_child_nodes(node)
        )
    return known[node]


def _check_literal_parts(node: ast.AST, text: str, known: dict[ast.AST, bool]) -> None:
    """Refuse a literal part that breaks a limit, placed at the operator that breaks it.

    Other failures (``1 / 0``) stay run-time errors, as before: the part may sit in a branch
    that never runs. Such a part is not worked out whole; its pieces are checked one by one.
    """
    if _is_literal(node, known) and not isinstance(node, ast.Constant):
        try:
            _literal_value(node, limits.Budget())
            return
        except LimitError as exc:
            raise exc.located(text, _column(node)) from None
        except (ExpressionError, ArithmeticError, TypeError, ValueError, MemoryError):
            pass
    for child in ast.iter_child_nodes(node):
        _check_literal_parts(child, text, known)


def _literal_value(node: ast.AST, budget: limits.Budget) -> object:
    budget.spend(1)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple):
        items = [_literal_value(item, budget) for item in node.elts]
        return limits.built(items if isinstance(node, ast.List) else tuple(items), budget)
    if isinstance(node, ast.Dict):
        pairs = zip(node.keys, node.values, strict=True)
        record = {
            _literal_value(k, budget): _literal_value(v, budget) for k, v in pairs if k is not None
        }
        return limits.built(record, budget)
    if isinstance(node, ast.UnaryOp):
        operand: object = _literal_value(node.operand, budget)
        if isinstance(node.op, ast.Not):
            return not operand
        return -operand if isinstance(node.op, ast.USub) else +operand  # type: ignore[operator]
    assert isinstance(node, ast.BinOp)
    left, right = _literal_value(node.left, budget), _literal_value(node.right, budget)
    try:
        return limits.BINARY[type(node.op)](left, right, budget)
    except LimitError as exc:
        raise exc.located("", _column(node)) from None


@lru_cache(maxsize=8192)
def compile_expression(text: str) -> CompiledExpression:
    """Parse and check ``text`` once; later calls with the same text are free."""
    return _parse(text)
