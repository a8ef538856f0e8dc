"""Evaluating compiled expressions over plain data, in a sandbox, within limits.

The sandbox has three walls: the compiler refuses any syntax outside a small subset (no
comprehensions, lambdas, method calls or underscore names); calls go only to the helpers in
``helpers.HELPERS``; and attribute access (``a.b``) reads dictionary keys only, never Python
attributes, so no object's internals are reachable whatever data a run holds. Values can
therefore only be plain data, which is why simpleeval's own check of every result for
modules and forbidden functions (a walk through the whole value, at every node) is skipped.

Work is bounded by ``limits``: each evaluation has a step budget, and arithmetic, literals,
comparisons and helper calls pay for the characters and items they build or look through.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Mapping
from typing import Any

import simpleeval

from engine.expressions import limits
from engine.expressions.compiler import CompiledExpression, ExpressionError, compile_expression
from engine.expressions.helpers import HELPERS, HelperError, work

# Comparisons and unary operators come from simpleeval; arithmetic from ``limits.BINARY``.
_OPERATORS = {
    op: fn
    for op, fn in simpleeval.DEFAULT_OPERATORS.items()
    if issubclass(op, ast.cmpop | ast.unaryop) and op is not ast.Invert
}


class _Missing:
    """Marks a name that the context does not define."""


_MISSING = _Missing()


class _Evaluator(simpleeval.EvalWithCompoundTypes):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(operators=_OPERATORS, functions=dict(HELPERS), names={})
        # EvalWithCompoundTypes adds list(), dict()...; expressions call only the helpers.
        self.functions = dict(HELPERS)
        self.source = ""
        self.budget = limits.Budget()

    def _eval(self, node: ast.AST) -> Any:
        self.budget.spend(1)
        handler = self.nodes.get(type(node))
        if handler is None:
            raise ExpressionError(f"{type(node).__name__} is not allowed", self.source, _col(node))
        try:
            return handler(node)
        except ExpressionError as exc:
            raise exc.located(self.source, _col(node)) from None
        except HelperError as exc:
            raise ExpressionError(str(exc), self.source, _col(node)) from None
        except simpleeval.InvalidExpression as exc:
            raise ExpressionError(str(exc), self.source, _col(node)) from None
        except ZeroDivisionError:
            raise ExpressionError("division by zero", self.source, _col(node)) from None
        except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
            raise ExpressionError(_explain(node, exc), self.source, _col(node)) from None
        except RecursionError:
            raise ExpressionError("expression is nested too deeply", self.source) from None
        except MemoryError:
            raise ExpressionError("not enough memory", self.source, _col(node)) from None

    def _eval_binop(self, node: ast.BinOp) -> Any:
        operation = limits.BINARY[type(node.op)]
        return operation(self._eval(node.left), self._eval(node.right), self.budget)

    def _eval_compare(self, node: ast.Compare) -> Any:
        right = self._eval(node.left)
        result: Any = True
        for operator, comparator in zip(node.ops, node.comparators, strict=True):
            left, right = right, self._eval(comparator)
            self.budget.spend(limits.comparison_work(operator, left, right))
            result = self.operators[type(operator)](left, right)
            if not result:
                break
        return result

    def _eval_call(self, node: ast.Call) -> Any:
        # The compiler allows only helpers called by name, with positional arguments.
        name = node.func.id  # type: ignore[attr-defined]
        helper = self.functions.get(name)
        if helper is None:
            raise ExpressionError(f"unknown function '{name}'", self.source, _col(node))
        args = [self._eval(arg) for arg in node.args]
        self.budget.spend(work(name, args))
        return limits.number(helper(*args))

    def _eval_list(self, node: ast.List) -> Any:
        return limits.built([self._eval(item) for item in node.elts], self.budget)

    def _eval_tuple(self, node: ast.Tuple) -> Any:
        return limits.built(tuple(self._eval(item) for item in node.elts), self.budget)

    def _eval_dict(self, node: ast.Dict) -> Any:
        record = {
            self._eval(key): self._eval(value)
            for key, value in zip(node.keys, node.values, strict=True)
            if key is not None  # ** unpacking, refused by the compiler
        }
        return limits.built(record, self.budget)

    def _eval_name(self, node: ast.Name) -> Any:
        value = self.names.get(node.id, _MISSING)
        if value is _MISSING:
            if node.id in self.functions:
                raise ExpressionError(
                    f"'{node.id}' is a function: call it as {node.id}(...)", self.source, _col(node)
                )
            raise ExpressionError(f"unknown name '{node.id}'", self.source, _col(node))
        return value

    def _eval_attribute(self, node: ast.Attribute) -> Any:
        container = self._eval(node.value)
        if isinstance(container, Mapping):
            return container.get(node.attr)
        if container is None:
            raise ExpressionError(
                f"cannot read '{node.attr}' of nothing (null)", self.source, _col(node)
            )
        raise ExpressionError(
            f"cannot read '{node.attr}': the value is not a record or object",
            self.source,
            _col(node),
        )

    def _eval_subscript(self, node: ast.Subscript) -> Any:
        container = self._eval(node.value)
        key = self._eval(node.slice)
        if isinstance(container, Mapping):
            return container.get(key)
        if isinstance(container, list | tuple | str):
            if not isinstance(key, int) or isinstance(key, bool):
                raise ExpressionError("list positions must be whole numbers", self.source)
            try:
                return container[key]
            except IndexError:
                return None
        raise ExpressionError("only lists, text and records can be indexed", self.source)


def _col(node: ast.AST) -> int | None:
    offset = getattr(node, "col_offset", None)
    return None if offset is None else int(offset) + 1


def _explain(node: ast.AST, exc: Exception) -> str:
    if isinstance(node, ast.BinOp) and isinstance(exc, OverflowError):
        return "the result is out of range (too large a number or date)"
    if isinstance(node, ast.Compare) and isinstance(exc, TypeError):
        return "these values cannot be compared (e.g. a number with text, or with null)"
    if isinstance(node, ast.BinOp) and isinstance(exc, TypeError):
        return "this operation does not apply to these values (e.g. adding text to a number)"
    return str(exc) or type(exc).__name__


_local = threading.local()


def _evaluator() -> _Evaluator:
    evaluator: _Evaluator | None = getattr(_local, "evaluator", None)
    if evaluator is None:
        evaluator = _Evaluator()
        _local.evaluator = evaluator
    return evaluator


def evaluate(expression: str | CompiledExpression, names: Mapping[str, Any]) -> Any:
    """Evaluate ``expression`` with ``names`` (plain data: dicts, lists, text, numbers, dates).

    Raises ``ExpressionError`` with a column for anything that goes wrong, and a
    ``LimitError`` (a kind of ``ExpressionError``) naming the limit when the expression would
    build too large a value or do too much work (see ``limits``).
    """
    compiled = (
        expression if isinstance(expression, CompiledExpression) else compile_expression(expression)
    )
    evaluator = _evaluator()
    evaluator.names = names
    evaluator.source = evaluator.expr = compiled.text
    evaluator.budget = limits.Budget()
    try:
        return evaluator._eval(compiled.tree)
    finally:
        evaluator.names = {}


def evaluate_condition(expression: str | CompiledExpression, names: Mapping[str, Any]) -> bool:
    """Evaluate a condition; null counts as false, anything else by its truth."""
    return bool(evaluate(expression, names))
