"""Baton's safe expression language (see docs/expressions.md)."""

from engine.expressions.compiler import (
    CompiledExpression,
    ExpressionError,
    NameReference,
    compile_expression,
)
from engine.expressions.errors import LimitError
from engine.expressions.evaluator import evaluate, evaluate_condition
from engine.expressions.helpers import HELPERS

__all__ = [
    "HELPERS",
    "CompiledExpression",
    "ExpressionError",
    "LimitError",
    "NameReference",
    "compile_expression",
    "evaluate",
    "evaluate_condition",
]
