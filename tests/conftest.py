"""Fixtures shared by every test: a fresh Baton on a SQLite file, and definitions from text."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.services.baton import Baton

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "resources"


@pytest.fixture(autouse=True)
def _no_ambient_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never touch the developer's own database."""
    monkeypatch.delenv("BATON_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "baton.sqlite3"


@pytest.fixture
def baton(any_url: str) -> Iterator[Baton]:
    """A fresh Baton, once on a SQLite file and once on PostgreSQL."""
    service = Baton(any_url, actor="admin", upgrade=True)
    yield service
    service.close()


def people(baton: Baton) -> None:
    """A small directory: users, a queue and a group."""
    for name, role in [
        ("admin", "admin"),
        ("alice", "user"),
        ("bob", "user"),
        ("carol", "supervisor"),
        ("dave", "user"),
        ("erin", "user"),
    ]:
        baton.directory.create_user(name, email=f"{name}@example.com", role=role)
    baton.directory.create_group("queue", "legal")
    baton.directory.add_member("queue", "legal", "bob")
    baton.directory.add_member("queue", "legal", "dave")
    baton.directory.create_group("group", "security")
    baton.directory.add_member("group", "security", "erin")


def flow(actions_yaml: str, *, retry: str = "", name: str = "flow") -> str:
    """A definition of one stage with one background step, ``job``, doing ``actions_yaml``."""
    return f"""
format: 1
name: {name}
elements:
  - kind: stage
    name: work
    steps:
      - kind: background
        name: job
        {retry}
        actions: {actions_yaml}
"""


def define(baton: Baton, text: str, *, activate: bool = True) -> str:
    """Import a definition written inline (YAML) and return its name."""
    version = baton.definitions.import_text(textwrap.dedent(text), activate=activate)
    return version.orchestration


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    from tests.pg import PostgresServer

    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: object) -> str:
    """A fresh, empty database on the suite's throwaway PostgreSQL server."""
    from tests.pg import PostgresServer

    assert isinstance(postgres_server, PostgresServer)
    return postgres_server.new_database()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "baton.sqlite3")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def clock() -> Iterator[object]:
    """Move the engine's time forward: ``clock.advance(timedelta(...))``."""
    from engine import clock as engine_clock

    engine_clock.reset()
    yield engine_clock
    engine_clock.reset()


def step_status(baton: Baton, run_id: int) -> dict[str, str]:
    """'stage.step' → status of the latest visit of each step."""
    detail = baton.runs.show(run_id)
    return {f"{s.stage}.{st.step}": st.status for s in detail.stages for st in s.steps}


def open_items(baton: Baton, run_id: int) -> list[str]:
    return sorted(
        w.step for w in baton.runs.show(run_id).work_items if w.status in ("Assigned", "Claimed")
    )


def events(baton: Baton, run_id: int) -> list[str]:
    return [e.event for e in baton.runs.show(run_id).log]
