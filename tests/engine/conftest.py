"""Fixtures of the engine's tests: a demo database, made once and copied for each test."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from engine.cli.main import main


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    assert main(["--db", str(path), "demo"]) == 0
    with sqlite3.connect(path) as connection:  # all of it in the file itself, for copying
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "baton.sqlite3"
    shutil.copy(demo_template, path)
    return str(path)
