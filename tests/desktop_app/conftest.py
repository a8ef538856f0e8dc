"""Fixtures for the desktop app's tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app import tasks
from engine.clients.demo import load_demo
from engine.services.baton import Baton


@pytest.fixture(autouse=True)
def _no_thread_left_running() -> Iterator[None]:
    """A test fails if it leaves background work or a thread of its own still running.

    Torn down after every other fixture of the test, so the databases they opened are closed.
    """
    before = set(threading.enumerate())
    yield
    assert tasks.wait_for_all(10_000), "a background operation still ran 10 s after the test"
    left = [
        t.name
        for t in threading.enumerate()
        if t not in before and t.is_alive() and not isinstance(t, threading._DummyThread)
    ]
    assert not left, f"the test left threads running: {left}"


@pytest.fixture
def demo(db_path: Path) -> Iterator[Baton]:
    baton = Baton(str(db_path))
    load_demo(baton)
    yield baton
    baton.close()
