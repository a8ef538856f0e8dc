"""Recording a Try it session as a scenario: what was done (from the trial's journal, at the
trial's time), the world it was done in (people, queues, calendars, record types of the
scratch database), and the end state it reached as the scenario's last ``expect``. Replayed
by ``baton test``, it reaches the same end state."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

from engine.clients.trial import Trial
from engine.scenarios.format import FORMAT_VERSION
from engine.statuses import WorkStatus

# Gaps in the trial's time shorter than this are the seconds a person takes between clicks,
# not time travel: the replay does not wait them out.
QUIET = dt.timedelta(minutes=1)


def _moment(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds") + " UTC"


def _world(trial: Trial) -> dict[str, Any]:
    scratch = trial.scratch.as_user(None)
    users = scratch.directory.users()
    setup: dict[str, Any] = {
        "people": [
            {
                "username": u.username,
                "role": u.role,
                **({"email": u.email} if u.email else {}),
                **({"display_name": u.display_name} if u.display_name else {}),
            }
            for u in users
        ],
        "queues": {g.name: list(g.members) for g in scratch.directory.groups("queue")},
        "groups": {g.name: list(g.members) for g in scratch.directory.groups("group")},
    }
    calendars = [
        {
            "name": c.name,
            "timezone": c.timezone,
            "hours": c.hours,
            "holidays": list(c.holidays),
            "hours_per_day": c.hours_per_day,
            "default": c.is_default,
        }
        for c in scratch.calendars.list()
    ]
    if calendars:
        setup["calendars"] = calendars
    types = [
        {"name": t.name, "label": t.label, "title_field": t.title_field, "fields": t.fields}
        for t in scratch.records.types()
    ]
    if types:
        setup["object_types"] = types
    return setup


def _end_state(trial: Trial, run_id: int) -> dict[str, Any]:
    detail = trial.scratch.as_user(None).runs.show(run_id)
    expect: dict[str, Any] = {"status": detail.run.status}
    if detail.run.current_element:
        expect["stage"] = detail.run.current_element
    steps: dict[str, str] = {}
    for stage in detail.stages:
        for step in stage.steps:
            steps[f"{stage.stage}.{step.step}"] = step.status
    expect["steps"] = steps
    if detail.variables:
        expect["variables"] = detail.variables
    open_work = [
        {"step": i.step, "assigned_to": f"{i.assignee_kind}:{i.assignee}"}
        for i in detail.work_items
        if i.status in WorkStatus.OPEN
    ]
    if open_work:
        expect["work"] = open_work
    else:
        expect["no_open_work"] = True
    return expect


def record_trial(trial: Trial, run_id: int, *, name: str, orchestration: str) -> dict[str, Any]:
    """A scenario file (as data) that replays what the trial did to ``run_id``.

    ``orchestration`` is what the file names as the tested definition (a path relative to
    where the file will be kept, or a stored name)."""
    journal = [d for d in trial.journal if d.details.get("run") in (run_id, None)]
    started = next((d for d in journal if d.action == "start"), None)
    if started is None:
        raise ValueError(f"run {run_id} was not started in this trial")
    steps: list[dict[str, Any]] = []
    last = started.at
    for done in journal:
        if done.action == "start":
            continue
        if done.at - last >= QUIET and done.action != "advance":
            steps.append({"advance": {"until": _moment(done.at)}})
        last = done.at
        if done.action == "complete":
            details = {k: v for k, v in done.details.items() if v is not None and k != "run"}
            steps.append({"complete": details})
        elif done.action == "advance":
            steps.append({"advance": {"until": _moment(done.at)}})
    start: dict[str, Any] = {"as": trial.owner} if trial.owner else {}
    record = started.details.get("record")
    definition = trial.scratch.definitions.get(trial.name)[1]
    if definition.trigger is not None and record is not None:
        start["record"] = {"type": definition.trigger.object, "values": dict(record)}
    else:
        start["inputs"] = dict(started.details.get("inputs") or {})
    steps.append({"run_background": "all"})
    steps.append({"expect": _end_state(trial, run_id)})
    setup = _world(trial)
    setup["now"] = _moment(started.at)
    return {
        "format": FORMAT_VERSION,
        "orchestration": orchestration,
        "setup": setup,
        "scenarios": [{"name": name, "start": start, "steps": steps}],
    }


def to_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
