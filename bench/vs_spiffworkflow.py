"""Baton side by side with SpiffWorkflow 3.x on the onboarding workload (BENCHMARK.md).

    .venv/bin/python bench/vs_spiffworkflow.py              # 1,000 runs, 3 rounds
    .venv/bin/python bench/vs_spiffworkflow.py --runs 300 --rounds 5

SpiffWorkflow is pip-installed into a bench-only virtualenv that this script makes (kept in
the temporary directory, reused next time; ``--venv`` to choose where). Its workload is
``bench/onboarding.bpmn`` run by ``bench/spiff_child.py``: in memory, and kept in a SQLite
file (WAL) with Spiff's JSON serializer as a host application keeps it, one transaction per
request (start a run; a user completes a task: read the workflow, complete, save). Baton's is ``bench/onboarding.py``'s durable throughput. Each figure is a fresh
process; a round runs Baton, Spiff saved to SQLite, Spiff in memory, one after the other,
so the ratios of a round were measured under the same load. A benchmark prints figures; it
never fails.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SPIFF = "SpiffWorkflow>=3,<4"


def spiff_python(venv: Path) -> Path:
    """The bench virtualenv's Python, with SpiffWorkflow installed (made the first time)."""
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"making {venv} with {SPIFF} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if subprocess.run([str(python), "-c", "import SpiffWorkflow"], capture_output=True).returncode:
        subprocess.run([str(python), "-m", "pip", "install", "-q", SPIFF], check=True)
    return python


def figure(command: list[str]) -> dict[str, float]:
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=BENCH)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--venv", type=Path, default=Path(tempfile.gettempdir()) / "baton-bench-spiffworkflow"
    )
    args = parser.parse_args()
    python = spiff_python(args.venv)
    version = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('SpiffWorkflow'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    runs = str(args.runs)
    baton_cmd = [sys.executable, str(BENCH / "onboarding.py"), "--child", "throughput"]
    spiff_cmd = [str(python), str(BENCH / "spiff_child.py"), "--runs", runs, "--mode"]
    print(f"onboarding, {args.runs} runs (6 step completions each); SpiffWorkflow {version}")
    print(
        "round   Baton (SQLite)   Spiff SQLite   Spiff memory   Baton/Spiff SQLite  Baton/Spiff memory"
    )
    durable, memory = [], []
    for number in range(1, args.rounds + 1):
        baton = figure([*baton_cmd, "--runs", runs])["steps_per_s"]
        spiff_db = figure([*spiff_cmd, "sqlite"])["steps_per_s"]
        spiff_mem = figure([*spiff_cmd, "memory"])["steps_per_s"]
        durable.append(baton / spiff_db)
        memory.append(baton / spiff_mem)
        print(
            f"{number:>5}   {baton:>10,.0f}/s   {spiff_db:>10,.0f}/s   {spiff_mem:>10,.0f}/s"
            f"   {durable[-1]:>17.2f}×  {memory[-1]:>17.2f}×",
            flush=True,
        )
    print(
        f"median ratio: {statistics.median(durable):.2f}× SpiffWorkflow saved to SQLite "
        f"(goal 6×), {statistics.median(memory):.2f}× SpiffWorkflow in memory (goal 1.5×)"
    )


if __name__ == "__main__":
    main()
