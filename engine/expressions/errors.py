"""The errors expressions report, kept apart so the compiler, the limits and the evaluator can
all raise them without importing one another."""

from __future__ import annotations


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

    def located(self, expression: str, position: int | None) -> ExpressionError:
        """The same error placed in ``expression`` at ``position``, unless it is placed already."""
        if self.position is not None and self.expression:
            return self
        where = self.position if self.position is not None else position
        return type(self)(self.message, self.expression or expression, where)


class LimitError(ExpressionError):
    """An expression would build too large a value or do too much work.

    Raised where the breach is found, before the work is done; the message names the limit.
    """
