"""Example Python actions for Baton, registered under the entry point group ``baton.actions``.

An action is a plain function. Baton calls it with the step's inputs as keyword arguments
(plain data: text, numbers, true/false, lists, objects) and stores what it returns — plain
data again — as the step's output. Raising an exception fails the attempt; the step's retry
policy decides what happens next. Actions run outside any database transaction and may be
called more than once for the same step (after a retry, or if a worker dies mid-call), so
make them safe to repeat.
"""

from __future__ import annotations

import time
from pathlib import Path


def greet(name: str) -> dict[str, str]:
    """The simplest action: inputs in, an output back."""
    return {"greeting": f"Hello, {name}!"}


def add_vat(amount: float, rate: float = 0.2) -> dict[str, float]:
    """A calculation a business rule might need."""
    if amount < 0:
        raise ValueError(f"amount must not be negative, got {amount}")
    return {"net": amount, "vat": round(amount * rate, 2), "gross": round(amount * (1 + rate), 2)}


def record_call(path: str, token: str) -> dict[str, str]:
    """Appends ``token`` to a file: lets tests count how often an action really ran."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return {"recorded": token}


def wait_for_file(path: str, started: str, timeout: float = 120) -> dict[str, bool]:
    """Says it has started (by creating ``started``), then waits until ``path`` exists: lets
    tests stop a worker in the middle of a step."""
    Path(started).touch()
    deadline = time.monotonic() + timeout
    while not Path(path).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.05)
    return {"released": True}
