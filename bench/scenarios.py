"""``baton test`` speed: the wall time of ``baton test resources/`` and of 100 scenarios of the
onboarding demo, as a person runs them (a fresh process, imports included).

    .venv/bin/python bench/scenarios.py              # both, 3 repetitions, medians
    .venv/bin/python bench/scenarios.py --count 300  # more onboarding scenarios

Target: 100 onboarding scenarios in under 10 s on a 2-core machine. Each scenario gets a
copy of its file's template database (people, calendars, record types and the definition
already stored) and a frozen clock; above 24 scenarios they are shared between processes.
A benchmark prints figures; it never fails.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "resources"


class _NoAliases(yaml.SafeDumper):
    """Scenario files refuse YAML aliases, so repeated steps are written out each time."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def onboarding_file(folder: Path, count: int) -> Path:
    """``count`` scenarios: the demo's onboarding scenarios over and over, each named anew."""
    source = RESOURCES / "scenarios" / "customer_onboarding.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    for key in ("directory", "calendars", "object_types"):
        data["setup"][key] = str((source.parent / data["setup"][key]).resolve())
    data["orchestration"] = str((source.parent / data["orchestration"]).resolve())
    demo = data["scenarios"]
    data["scenarios"] = [
        {**demo[n % len(demo)], "name": f"{demo[n % len(demo)]['name']} #{n}"} for n in range(count)
    ]
    path = folder / "onboarding_many.yaml"
    path.write_text(yaml.dump(data, Dumper=_NoAliases, sort_keys=False), encoding="utf-8")
    return path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(*args: str) -> tuple[float, int, str, float]:
    """Wall time, scenarios passed, the summary line, and the CPU seconds spent (on a busy
    machine the CPU time says what the wall time would be on an idle one)."""
    cpu = _children_cpu()
    began = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from engine.cli.main import main; sys.exit(main())",
            "test",
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    spent = time.perf_counter() - began
    passed = done.stdout.count("\nPASS") + done.stdout.startswith("PASS")
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return spent, passed, summary, _children_cpu() - cpu


def report(label: str, runs: list[tuple[float, int, str, float]]) -> None:
    seconds = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[3] for r in runs)
    scenarios = runs[0][1]
    print(
        f"{label}: {scenarios} scenarios in {seconds:.2f} s wall, {cpu:.2f} s CPU "
        f"(median of {len(runs)}), {scenarios / seconds:.1f} scenarios/s — {runs[0][2]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100, help="onboarding scenarios (100)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, help="processes (default: baton test's own choice)")
    args = parser.parse_args()
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    report(
        "baton test resources/",
        [timed("resources/", *jobs) for _ in range(args.repeat)],
    )
    with tempfile.TemporaryDirectory() as folder:
        path = onboarding_file(Path(folder), args.count)
        report(
            f"{args.count} onboarding scenarios",
            [timed(str(path), *jobs) for _ in range(args.repeat)],
        )


if __name__ == "__main__":
    main()
