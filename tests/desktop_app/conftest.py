"""Fixtures for the desktop app's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app import tasks
from engine.services.baton import Baton
from engine.services.demo import load_demo


@pytest.fixture
def demo(db_path: Path) -> Iterator[Baton]:
    baton = Baton(str(db_path))
    load_demo(baton)
    yield baton
    tasks.wait_for_all()
    baton.close()
