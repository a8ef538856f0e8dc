"""Evaluating compiled expressions over plain data, in a sandbox.

The sandbox has three walls: the compiler refuses any syntax outside a small subset (no
comprehensions, lambdas, method calls or underscore names); calls go only to the helpers in
``helpers.HELPERS``; and attribute access (``a.b``) reads dictionary keys only, never Python
attributes, so no object's internals are reachable whatever data a run holds.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Mapping
from typing import Any

import simpleeval

from engine.expressions.compiler import CompiledExpression, ExpressionError, compile_expression
from engine.expressions.helpers import HELPERS, HelperError

_OPERATORS = {
    op: fn
    for op, fn in simpleeval.DEFAULT_OPERATORS.items()
    if op
    not in (
        ast.BitAnd,
        ast.BitOr,
        ast.BitXor,
        ast.LShift,
        ast.RShift,
        ast.Invert,
        ast.MatMult,
    )
}


class _Missing:
    """Marks a name that the context does not define."""


_MISSING = _Missing()


class _Evaluator(simpleeval.EvalWithCompoundTypes):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(operators=_OPERATORS, functions=dict(HELPERS), names={})
        self.source = ""

    def _eval(self, node: ast.AST) -> Any:
        try:
            return super()._eval(node)
        except ExpressionError:
            raise
        except HelperError as exc:
            raise ExpressionError(str(exc), self.source, _col(node)) from None
        except simpleeval.NameNotDefined as exc:
            raise ExpressionError(f"unknown name '{exc.name}'", self.source, _col(node)) from None
        except simpleeval.FunctionNotDefined as exc:
            name = exc.func_name
            raise ExpressionError(f"unknown function '{name}'", self.source, _col(node)) from None
        except simpleeval.InvalidExpression as exc:
            raise ExpressionError(str(exc), self.source, _col(node)) from None
        except ZeroDivisionError:
            raise ExpressionError("division by zero", self.source, _col(node)) from None
        except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
            raise ExpressionError(_explain(node, exc), self.source, _col(node)) from None
        except RecursionError:
            raise ExpressionError("expression is nested too deeply", self.source) from None

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

    Raises ``ExpressionError`` with a column for anything that goes wrong.
    """
    compiled = (
        expression if isinstance(expression, CompiledExpression) else compile_expression(expression)
    )
    evaluator = _evaluator()
    evaluator.names = names
    evaluator.source = compiled.text
    evaluator.expr = compiled.text
    try:
        return evaluator.eval(compiled.text, previously_parsed=compiled.tree)
    finally:
        evaluator.names = {}


def evaluate_condition(expression: str | CompiledExpression, names: Mapping[str, Any]) -> bool:
    """Evaluate a condition; null counts as false, anything else by its truth."""
    return bool(evaluate(expression, names))
