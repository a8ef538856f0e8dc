"""CLI commands for runs: start, list and show them, and a supervisor's interventions on
one run or several."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from engine.cli.commands import open_baton, pairs
from engine.cli.output import print_json, table, when

if TYPE_CHECKING:
    from engine.services.dto import RunDetail


def runs_start(args: argparse.Namespace) -> int:
    run = open_baton(args).runs.start(args.name, pairs(args.input, "input"), record_id=args.record)
    if args.json:
        print_json(run)
    else:
        print(
            f"started run {run.id} of {run.orchestration} v{run.version}: {run.status}"
            f"{f' at {run.current_element}' if run.current_element else ''}"
        )
    return 0


def runs_list(args: argparse.Namespace) -> int:
    runs = open_baton(args).runs.list(
        status=args.status, orchestration=args.orchestration, limit=args.limit
    )
    if args.json:
        print_json(runs)
        return 0
    table(
        ["RUN", "ORCHESTRATION", "V", "STATUS", "AT", "STARTED", "BY"],
        [
            (
                r.id,
                r.orchestration,
                r.version,
                r.status,
                r.current_element or "",
                when(r.started_at),
                r.started_by,
            )
            for r in runs
        ],
        empty="no runs",
    )
    return 0


def print_run(detail: RunDetail) -> None:
    run = detail.run
    print(f"Run {run.id} of {run.orchestration} v{run.version}: {run.status}")
    print(
        f"  started {when(run.started_at)} by {run.started_by or '-'}"
        f"{f', ended {when(run.ended_at)}' if run.ended_at else ''}"
    )
    if run.record_id:
        print(f"  record {run.record_id}")
    if run.error:
        print(f"  error: {run.error}")
    if detail.variables:
        print(
            "  variables: " + ", ".join(f"{k}={v!r}" for k, v in sorted(detail.variables.items()))
        )
    print("\nStages")
    for stage in detail.stages:
        visit = f" (visit {stage.visit})" if stage.visit > 1 else ""
        print(f"  {stage.stage}{visit}: {stage.status}{f' — {stage.error}' if stage.error else ''}")
        for step in stage.steps:
            extra = f" — {step.error}" if step.error else ""
            print(f"    {step.step} [{step.kind}]: {step.status}{extra}")
    if detail.work_items:
        print("\nWork items")
        table(
            ["ITEM", "STEP", "STATUS", "ASSIGNED TO", "DUE", "DONE BY"],
            [
                (
                    w.id,
                    f"{w.stage}.{w.step}",
                    w.status,
                    f"{w.assignee_kind} {w.assignee}",
                    when(w.due_at),
                    w.completed_by or "",
                )
                for w in detail.work_items
            ],
        )
    print("\nHistory")
    for entry in detail.log:
        where = ".".join(p for p in (entry.stage, entry.step) if p)
        text = f"{when(entry.at)}  {entry.actor or '-':<10} {entry.event.replace('_', ' ')}"
        if where:
            text += f"  {where}"
        if entry.message:
            text += f"  — {entry.message}"
        print(f"  {text}")


def runs_show(args: argparse.Namespace) -> int:
    detail = open_baton(args).runs.show(args.run_id)
    if args.json:
        print_json(detail)
    else:
        print_run(detail)
    return 0


def _outputs(items: list[str]) -> dict[str, Any]:
    """``name=value`` pairs whose values are read as JSON where they parse (5, true, "x",
    [1, 2]) and kept as text where they do not."""
    values: dict[str, Any] = {}
    for name, text in pairs(items, "output").items():
        try:
            values[name] = json.loads(text)
        except ValueError:
            values[name] = text
    return values


def _intervene(args: argparse.Namespace, operation: str, **options: Any) -> int:
    """One run: the operation itself, its refusal an error. Several: each run in its own
    transaction over the list as given, a line per run, exit 1 if any was refused."""
    runs = open_baton(args).runs
    if len(args.run_ids) == 1:
        run = runs.operation(operation, args.reason, **options)(args.run_ids[0])
        where = f" at {run.current_element}" if run.current_element else ""
        print(f"run {run.id} is {run.status}{where}")
        return 0
    outcomes = runs.bulk(operation, args.run_ids, args.reason, **options)
    for outcome in outcomes:
        print(f"run {outcome.run_id}: {'done' if outcome.done else 'refused'}: {outcome.message}")
    refused = sum(not o.done for o in outcomes)
    print(f"{len(outcomes) - refused} done, {refused} refused")
    return 1 if refused else 0


def runs_cancel(args: argparse.Namespace) -> int:
    return _intervene(args, "cancel")


def runs_suspend(args: argparse.Namespace) -> int:
    return _intervene(args, "suspend")


def runs_resume(args: argparse.Namespace) -> int:
    return _intervene(args, "resume")


def runs_resume_failed(args: argparse.Namespace) -> int:
    return _intervene(args, "resume_failed")


def runs_retry(args: argparse.Namespace) -> int:
    return _intervene(args, "retry_step", step=args.step)


def runs_set(args: argparse.Namespace) -> int:
    changes = open_baton(args).runs.set_variables(
        args.run_id, pairs(args.values, "variable"), args.reason
    )
    for name, change in sorted(changes.items()):
        print(f"run {args.run_id}: {name} {change['old']!r} -> {change['new']!r}")
    return 0


def runs_skip(args: argparse.Namespace) -> int:
    return _intervene(args, "skip_step", step=args.step, outputs=_outputs(args.output))


def runs_jump(args: argparse.Namespace) -> int:
    return _intervene(args, "jump_to_stage", stage=args.stage)


def runs_migrate(args: argparse.Namespace) -> int:
    return _intervene(args, "migrate", version=args.to_version)
