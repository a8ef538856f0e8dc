"""The onboarding workload in SpiffWorkflow 3.x; run by bench/vs_spiffworkflow.py with the
bench-only virtualenv's Python (it imports nothing of Baton's). Prints one JSON line.

    python spiff_child.py --runs 1000 --mode memory|sqlite

``sqlite``: as a host application keeps its workflows, in a SQLite file (WAL,
synchronous=NORMAL, as Baton's) with Spiff's own JSON serializer, one transaction per
request: starting a run (both intake scripts run) saves it; each user's completion reads
the run's workflow back, completes the task, runs the workflow to its next wait (after the
last review: the decision and the activation script) and saves it. Baton's completions read
their run from the database too. ``memory``: the same, the workflows kept as objects.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState

BPMN = Path(__file__).with_name("onboarding.bpmn")
REVIEWS = ("legal", "security", "finance")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--mode", choices=["memory", "sqlite"], default="memory")
    args = parser.parse_args()
    n = args.runs

    bpmn = BpmnParser()
    bpmn.add_bpmn_file(str(BPMN))
    spec = bpmn.get_spec("onboarding")
    serializer = BpmnWorkflowSerializer()

    with tempfile.TemporaryDirectory() as tmp:
        db = None
        if args.mode == "sqlite":
            db = sqlite3.connect(Path(tmp) / "spiff.sqlite3", isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE workflow (id INTEGER PRIMARY KEY, state TEXT NOT NULL)")

        def begin() -> None:  # a request's transaction: begin() … save()
            if db is not None:
                db.execute("BEGIN IMMEDIATE")

        def load(run_id: int, workflow: BpmnWorkflow) -> BpmnWorkflow:
            if db is None:
                return workflow
            (state,) = db.execute("SELECT state FROM workflow WHERE id = ?", (run_id,)).fetchone()
            loaded: BpmnWorkflow = serializer.deserialize_json(state)
            return loaded

        def save(run_id: int, workflow: BpmnWorkflow) -> None:
            if db is None:
                return
            state = serializer.serialize_json(workflow)
            db.execute("INSERT OR REPLACE INTO workflow (id, state) VALUES (?, ?)", (run_id, state))
            db.execute("COMMIT")

        began = time.perf_counter()
        workflows = []
        for run_id in range(n):
            begin()
            workflow = BpmnWorkflow(spec)
            workflow.do_engine_steps()  # the two intake scripts, up to the three reviews
            save(run_id, workflow)
            workflows.append(workflow)
        for review in REVIEWS:  # each user works through their inbox, as in Baton's bench
            for run_id in range(n):
                begin()
                workflow = workflows[run_id] = load(run_id, workflows[run_id])
                (task,) = [
                    t
                    for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                    if t.task_spec.name == review
                ]
                task.data[f"{review}_approved"] = True
                task.run()
                workflow.do_engine_steps()
                save(run_id, workflow)
        elapsed = time.perf_counter() - began
        done = sum(1 for w in workflows if w.is_completed() and w.data.get("activated"))
        assert done == n, f"only {done} of {n} workflows completed"
        if db is not None:
            db.close()
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "steps_per_s": 6 * n / elapsed,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
