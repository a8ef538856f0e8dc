"""The desktop bundle builds, and the built program starts and quits (``--smoke``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_bundle_builds_and_starts(tmp_path: Path) -> None:
    build = subprocess.run(
        [str(ROOT / "packaging" / "build.sh"), str(tmp_path / "dist")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    program = tmp_path / "dist" / "baton" / "baton"
    assert program.exists()
    assert (tmp_path / "dist" / "baton" / "baton.desktop").exists()
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    smoke = subprocess.run(
        [str(program), "--db", str(tmp_path / "smoke.sqlite3"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert "smoke: main window open" in smoke.stdout
    cli = subprocess.run(
        [str(program), "--db", str(tmp_path / "smoke.sqlite3"), "runs", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    assert "customer_onboarding" in cli.stdout  # the demo came from the bundle's resources
