"""The command line starts fast: each call imports only what its command needs.

Each check runs in a fresh interpreter, since this one has long since imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from engine.services.baton import Baton
from engine.store.database import _script_directory, head_revision

ROOT = Path(__file__).resolve().parents[2]


def _loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_help_and_a_usage_error_do_not_load_the_engine() -> None:
    for argv in (["--help"], ["work", "lst"], ["runs", "show", "x"]):
        loaded = _loaded_after(
            "import contextlib, io\n"
            "from engine.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
            f"    main({argv!r})"
        )
        assert not {m for m in loaded if m.split(".")[0] in {"sqlalchemy", "pydantic"}}, argv


def test_listing_work_opens_the_database_without_alembic_or_unrelated_services(
    tmp_path: Path,
) -> None:
    path = tmp_path / "b.sqlite3"
    baton = Baton(str(path))
    baton.directory.create_user("alice")
    baton.close()
    loaded = _loaded_after(
        "import contextlib, io\n"
        "from engine.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['--db', {str(path)!r}, 'work', 'list', '--user', 'alice']) == 0"
    )
    assert "alembic" not in loaded
    for unrelated in (
        "engine.services.console",
        "engine.services.dashboards",
        "engine.salesforce",
        "engine.runtime.work",  # the runtime acts on work; listing it needs the store only
        "engine.definitions",
        "pydantic",
    ):
        assert unrelated not in loaded


def test_the_head_read_from_the_migration_files_is_alembics() -> None:
    assert head_revision() == _script_directory().get_current_head()


def test_an_older_schema_is_still_found_and_upgraded(tmp_path: Path) -> None:
    """The quick check only ever says 'up to date': anything else goes through Alembic."""
    path = tmp_path / "old.sqlite3"
    baton = Baton(str(path))
    baton.db.downgrade("0005")
    baton.close()
    reopened = Baton(str(path))  # SQLite: upgraded on opening
    state = reopened.db.schema_state()
    assert state.current == state.head == head_revision()
    reopened.close()


def _run(code: str) -> Any:
    """What a fresh interpreter prints last (JSON) after running ``code``."""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_command_imports_with_the_collector_waiting_then_collects_as_usual(
    tmp_path: Path,
) -> None:
    """The launcher makes the collector rare while the command imports; opening the database
    ends that, with what was imported frozen (walked by no pass, nor at exit)."""
    path = tmp_path / "b.sqlite3"
    baton = Baton(str(path))
    baton.directory.create_user("alice")
    baton.close()
    usual, during, after, frozen = _run(
        "import contextlib, gc, io, json\n"
        "usual = gc.get_threshold()\n"
        "from desktop_app.launcher import main\n"
        "during = gc.get_threshold()\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['--db', {str(path)!r}, 'work', 'list', '--user', 'alice']) == 0\n"
        "print(json.dumps([usual, during, gc.get_threshold(), gc.get_freeze_count()]))"
    )
    assert during == [100_000, *usual[1:]]
    assert after == usual
    assert frozen > 10_000  # the modules' objects, SQLAlchemy's among them


def test_loaded_without_loading_leaves_the_collector_alone() -> None:
    """In-process callers (the tests, an embedding program) never called ``loading``."""
    threshold, frozen, again = _run(
        "import gc, json\n"
        "from engine.loading import loaded, loading\n"
        "loaded()\n"
        "first = [gc.get_threshold(), gc.get_freeze_count()]\n"
        "loading(); loading(); loaded(); gc.unfreeze(); loaded()\n"
        "print(json.dumps([*first, [gc.get_threshold(), gc.get_freeze_count()]]))"
    )
    assert frozen == 0
    assert again == [threshold, 0]  # paused twice, resumed once: usual again, frozen once


def test_whether_orchestrations_exist_is_asked_without_the_definition_models(
    tmp_path: Path,
) -> None:
    path = tmp_path / "b.sqlite3"
    baton = Baton(str(path))
    before = baton.has_orchestrations()
    baton.definitions.import_file(
        str(ROOT / "resources" / "definitions" / "customer_onboarding.yaml")
    )
    baton.close()
    assert before is False
    answer, loaded = _run(
        "import json, sys\n"
        "from engine.services.baton import Baton\n"
        f"answer = Baton({str(path)!r}).has_orchestrations()\n"
        "print(json.dumps([answer, sorted(sys.modules)]))"
    )
    assert answer is True
    assert "pydantic" not in loaded and "engine.definitions" not in loaded


def test_a_command_without_a_database_of_its_own_collects_as_usual_once_it_opens_one() -> None:
    """``baton test`` makes its own scratch databases and can watch for ever: the first
    ``Baton`` a process opens ends the pause, not only the command line's own opening."""
    usual, after, frozen = _run(
        "import contextlib, gc, io, json\n"
        "usual = gc.get_threshold()\n"
        "from desktop_app.launcher import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['test', 'resources/scenarios/refund_request.yaml']) == 0\n"
        "print(json.dumps([usual, gc.get_threshold(), gc.get_freeze_count()]))"
    )
    assert after == usual
    assert frozen > 10_000
