"""The limits that keep an expression cheap: the size of what it builds and the work it does.

An expression has no loops, so its time is the sum of its operations, and an operation is
cheap unless its values are big. So every operation that can build something bigger than
its operands (``+``, ``*``, ``**``, list and record literals) works out the size of its result
*before* building it and refuses past ``MAX_VALUE_SIZE`` (or ``MAX_INTEGER_DIGITS`` for whole
numbers). And every evaluation carries a ``Budget`` of ``MAX_STEPS`` steps, spent by each
part of the expression evaluated, each character or item built, and each character or item
a comparison or a helper looks through: however large the run's data, one evaluation ends
after a bounded amount of work. Every count is deterministic (no clocks), so a limit is hit
the same way in a test, at validation and in production.

The compiler applies these same operations to the parts of an expression written with
literals only, so ``'x' * 10 ** 9`` is refused when the definition is validated.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from typing import Any

from engine.expressions.errors import ExpressionError, LimitError

MAX_VALUE_SIZE = 1_000_000
"""Characters of text plus items of lists and records, nested ones counted every time."""

MAX_INTEGER_DIGITS = 4_000
"""Digits of a whole number (Python itself cannot turn one past 4,300 digits into text)."""

MAX_STEPS = 2_000_000
"""Work one evaluation may do (see the module docstring for what a step is)."""

_MAX_INTEGER_BITS = math.ceil(MAX_INTEGER_DIGITS * math.log2(10))


class Budget:
    """The steps one evaluation has left."""

    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = MAX_STEPS

    def affordable(self) -> int:
        """The largest size worth measuring: past it, the value is refused either way."""
        return max(min(MAX_VALUE_SIZE, self.left), 0)

    def spend(self, steps: int) -> None:
        self.left -= steps
        if self.left < 0:
            raise LimitError(
                f"the expression does too much work: more than {MAX_STEPS:,} steps "
                "(the limit for one evaluation)"
            )


def length(value: Any) -> int:
    """Characters of text or items of a list or record; 0 for anything else."""
    return len(value) if isinstance(value, str | list | tuple | dict) else 0


_CONTAINERS = (list, tuple, dict)
_SIZED = (str, list, tuple, dict)
_SHORT = 32  # items: below this, a plain Python loop is faster than the scans in C


def size(value: Any, limit: int = MAX_VALUE_SIZE, budget: Budget | None = None) -> int:
    """The logical size of ``value``: characters of text plus items of lists and records.

    A list repeated inside another counts each time it appears, as it would once stored or
    sent. Counting stops as soon as the total passes ``limit`` (the answer is then some number
    above it). With a ``budget``, each distinct list or record looked into costs
    ``VISIT_STEPS``: a million tiny distinct records cost far more to walk than their size.
    """
    if isinstance(value, str):
        return len(value)
    if not isinstance(value, _CONTAINERS):
        return 0
    return _Measure(budget).container(value, limit)


VISIT_STEPS = 10
"""Steps charged for looking into one distinct list or record while measuring a value."""


class _Measure:
    """One measurement. ``known`` maps id() to the size of each container met so far (all
    alive, being parts of the value), so ``[row] * 1000`` looks into ``row`` once."""

    __slots__ = ("budget", "known")

    def __init__(self, budget: Budget | None) -> None:
        self.budget = budget
        self.known: dict[int, int] = {}

    def container(self, container: Any, limit: int) -> int:
        if self.budget is not None:
            self.budget.spend(VISIT_STEPS)
        total = len(container)
        if isinstance(container, dict):
            if total <= limit:
                total += self.group(container.keys(), limit - total)
            if total <= limit:
                total += self.group(container.values(), limit - total)
        elif total <= limit:
            total += self.group(container, limit - total)
        self.known[id(container)] = total
        return total

    def group(self, group: Any, limit: int) -> int:
        # A long group of numbers or text is measured by scans that run in C (a list of a
        # million numbers costs milliseconds); Python walks only groups holding containers.
        if len(group) > _SHORT:
            kinds = set(map(type, group))
            if not any(issubclass(kind, _CONTAINERS) for kind in kinds):
                if all(issubclass(kind, str) for kind in kinds):
                    return sum(map(len, group))
                return sum(len(part) for part in group if isinstance(part, str))
        total = 0
        known = self.known
        for part in group:
            if isinstance(part, str):
                total += len(part)
            elif isinstance(part, _CONTAINERS):
                inner = known.get(id(part))
                total += self.container(part, limit - total) if inner is None else inner
                if total > limit:
                    break
        return total


def _too_large() -> LimitError:
    return LimitError(
        f"the result would be too large: more than {MAX_VALUE_SIZE:,} characters and items "
        "(the limit for any value)"
    )


def _too_many_digits() -> LimitError:
    return LimitError(
        f"the result would be a number of more than {MAX_INTEGER_DIGITS:,} digits "
        "(the limit for whole numbers)"
    )


def built(value: Any, budget: Budget) -> Any:
    """Check and pay for a value just built (a list or record literal); return it."""
    measured = size(value, budget.affordable(), budget)
    if measured > MAX_VALUE_SIZE:
        raise _too_large()
    budget.spend(measured)
    return value


def number(value: Any) -> Any:
    """Refuse a whole number past ``MAX_INTEGER_DIGITS``; return anything else unchanged."""
    if type(value) is int and value.bit_length() > _MAX_INTEGER_BITS:
        raise _too_many_digits()
    return value


def _is_whole(value: Any) -> bool:
    return isinstance(value, int)


def _repeat(sequence: Any, times: int, budget: Budget) -> Any:
    if times <= 0:
        return sequence[:0]
    unit = size(sequence, budget.affordable() // times, budget)
    if unit == 0:
        return sequence[:0]
    if unit * times > MAX_VALUE_SIZE:
        raise _too_large()
    budget.spend(unit * times)
    return sequence * times


def _add(a: Any, b: Any, budget: Budget) -> Any:
    if isinstance(a, str) and isinstance(b, str):
        total = len(a) + len(b)
    elif (isinstance(a, list) and isinstance(b, list)) or (
        isinstance(a, tuple) and isinstance(b, tuple)
    ):
        total = size(a, budget.affordable(), budget) + size(b, budget.affordable(), budget)
    else:
        return number(a + b)
    if total > MAX_VALUE_SIZE:
        raise _too_large()
    budget.spend(total)
    return a + b


def _subtract(a: Any, b: Any, budget: Budget) -> Any:
    return number(a - b)


def _multiply(a: Any, b: Any, budget: Budget) -> Any:
    if isinstance(a, str | list | tuple) and _is_whole(b):
        return _repeat(a, b, budget)
    if isinstance(b, str | list | tuple) and _is_whole(a):
        return _repeat(b, a, budget)
    if (
        type(a) is int
        and type(b) is int
        and a.bit_length() + b.bit_length() > _MAX_INTEGER_BITS + 1
    ):
        raise _too_many_digits()
    return number(a * b)


def _divide(a: Any, b: Any, budget: Budget) -> Any:
    return a / b


def _floor_divide(a: Any, b: Any, budget: Budget) -> Any:
    return a // b


def _modulo(a: Any, b: Any, budget: Budget) -> Any:
    if isinstance(a, str):
        # Python's printf-style formatting: '%999999999s' % x would build a gigabyte.
        raise ExpressionError("% does not apply to text (build text with + and text())")
    return a % b


def _digits(base: int, exponent: int) -> float:
    if exponent.bit_length() > 64:
        return math.inf
    return exponent * math.log10(abs(base))


def _power(a: Any, b: Any, budget: Budget) -> Any:
    # Estimated from the operands: computing 4000000 ** 4000000 first would take seconds.
    if (
        _is_whole(a)
        and _is_whole(b)
        and b > 1
        and abs(a) > 1
        and _digits(a, b) > MAX_INTEGER_DIGITS
    ):
        raise _too_many_digits()
    result = a**b
    if isinstance(result, complex):
        raise ExpressionError("** has no real result here (a negative number to a fraction)")
    return number(result)


BinaryOperation = Callable[[Any, Any, Budget], Any]

BINARY: dict[type[ast.operator], BinaryOperation] = {
    ast.Add: _add,
    ast.Sub: _subtract,
    ast.Mult: _multiply,
    ast.Div: _divide,
    ast.FloorDiv: _floor_divide,
    ast.Mod: _modulo,
    ast.Pow: _power,
}
"""The arithmetic operators, each checking its limits: shared by the evaluator and the
compiler's check of literal parts, so both refuse exactly the same things."""


def comparison_work(operator: ast.cmpop, left: Any, right: Any) -> int:
    """How many characters or items comparing ``left`` with ``right`` may look through."""
    if isinstance(operator, ast.In | ast.NotIn):
        return length(right)
    if isinstance(operator, ast.Is | ast.IsNot):
        return 0
    return min(length(left), length(right))
