"""``expect:`` checked against what the scratch database holds: each part that does not hold
says what was expected and what was found instead."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from engine.scenarios.format import parse_moment
from engine.scenarios.model import EmailExpect, Expect, LogExpect, WorkExpect
from engine.services.dto import RunDetail, WorkItemInfo
from engine.statuses import PRIORITIES, PRIORITY_NAMES, WorkStatus


@dataclass(frozen=True)
class Snapshot:
    """What an expectation looks at, read once."""

    detail: RunDetail
    emails: list[dict[str, Any]]
    record: dict[str, Any] | None
    records: dict[str, dict[str, Any]]
    users: dict[str, str]  # username → e-mail
    zone: dt.tzinfo


def _show(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes")
    return json.dumps(value, default=str)


def _same(expected: Any, actual: Any) -> bool:
    """Equal as a person reading the file means it: 250000 is 250000.0, a date matches the
    ISO text stored, a mapping matches when the keys it names match."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(expected) == float(actual)
    if isinstance(expected, dt.datetime):
        try:
            return parse_moment(actual) == expected
        except ValueError:
            return False
    if isinstance(expected, dt.date):
        return str(actual)[:10] == expected.isoformat()
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(k in actual and _same(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(_same, expected, actual))
    return bool(expected == actual)


def _latest_steps(detail: RunDetail) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """step name and stage.step → (status, error, outputs) of its latest visit."""
    out: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for stage in detail.stages:
        for step in stage.steps:
            value = (step.status, step.error or "", step.outputs)
            out[step.step] = value
            out[f"{stage.stage}.{step.step}"] = value
    return out


def _assignee(item: WorkItemInfo) -> str:
    return f"{item.assignee_kind}:{item.assignee}"


def _describe_item(item: WorkItemInfo, zone: dt.tzinfo) -> str:
    parts = [f"{item.step} ({item.status}, {_assignee(item)}"]
    if item.claimed_by:
        parts.append(f", claimed by {item.claimed_by}")
    if item.due_at:
        parts.append(f", due {item.due_at.astimezone(zone):%Y-%m-%dT%H:%M}")
    parts.append(f", {PRIORITY_NAMES.get(item.priority, item.priority)})")
    return "".join(parts)


def _work_matches(want: WorkExpect, item: WorkItemInfo, snapshot: Snapshot) -> list[str]:
    """What about ``item`` differs from ``want`` (empty: it matches)."""
    wrong = []
    if want.assigned_to is not None:
        kind, _, name = want.assigned_to.partition(":")
        ok = (item.assignee_kind, item.assignee) == (kind, name) if name else item.assignee == kind
        if not ok:
            wrong.append(f"assigned to {_assignee(item)}")
    if want.claimed_by is not None and item.claimed_by != want.claimed_by:
        wrong.append(f"claimed by {item.claimed_by or 'nobody'}")
    if want.completed_by is not None and item.completed_by != want.completed_by:
        wrong.append(f"completed by {item.completed_by or 'nobody'}")
    if want.due is not None:
        due = parse_moment(want.due, snapshot.zone)
        if item.due_at is None or abs((item.due_at - due).total_seconds()) >= 60:
            shown = (
                f"{item.due_at.astimezone(snapshot.zone):%Y-%m-%dT%H:%M}"
                if item.due_at
                else "never"
            )
            wrong.append(f"due {shown}")
    if want.priority is not None:
        number = (
            want.priority if isinstance(want.priority, int) else PRIORITIES.get(str(want.priority))
        )
        if number != item.priority:
            wrong.append(f"priority {PRIORITY_NAMES.get(item.priority, item.priority)}")
    return wrong


def _work(want: WorkExpect, snapshot: Snapshot) -> str | None:
    items = [i for i in snapshot.detail.work_items if i.step == want.step]
    statuses = (want.status,) if want.status else WorkStatus.OPEN
    candidates = [i for i in items if i.status in statuses]
    label = f"{'open' if not want.status else want.status} work on {want.step}"
    if not candidates:
        found = ", ".join(_describe_item(i, snapshot.zone) for i in items) or "no work on it at all"
        return f"expected {label}; found {found}"
    differences = [_work_matches(want, item, snapshot) for item in reversed(candidates)]
    if any(not d for d in differences):
        return None
    return f"expected {label} {_describe_want(want)}; it is {', '.join(differences[0])}"


def _describe_want(want: WorkExpect) -> str:
    parts = []
    for name in ("assigned_to", "claimed_by", "completed_by", "due", "priority"):
        value = getattr(want, name)
        if value is not None:
            parts.append(f"{name.replace('_', ' ')} {value}")
    return ", ".join(parts)


def _email(want: EmailExpect, snapshot: Snapshot) -> str | None:
    address = want.to
    if address is not None and "@" not in address:
        address = snapshot.users.get(address, address)
    for message in snapshot.emails:
        if address is not None and message["recipient"] != address:
            continue
        if want.subject is not None and message["subject"] != want.subject:
            continue
        subject = str(message["subject"]).lower()
        if want.subject_contains is not None and want.subject_contains.lower() not in subject:
            continue
        body = str(message["body"]).lower()
        if want.body_contains is not None and want.body_contains.lower() not in body:
            continue
        return None
    sent = "; ".join(f"to {m['recipient']}: {m['subject']}" for m in snapshot.emails) or "none"
    shown = ", ".join(f"{k} {v}" for k, v in want.model_dump(exclude_none=True).items())
    return f"expected an e-mail {shown}; e-mails in the outbox: {sent}"


def _log(want: str | LogExpect, snapshot: Snapshot) -> str | None:
    entry = LogExpect(event=want) if isinstance(want, str) else want
    for logged in snapshot.detail.log:
        if logged.event != entry.event:
            continue
        if entry.stage is not None and logged.stage != entry.stage:
            continue
        if entry.step is not None and logged.step != entry.step:
            continue
        if entry.actor is not None and logged.actor != entry.actor:
            continue
        message = (logged.message or "").lower()
        if entry.message_contains is not None and entry.message_contains.lower() not in message:
            continue
        return None
    shown = ", ".join(f"{k} {v}" for k, v in entry.model_dump(exclude_none=True).items())
    return f"expected a log entry {shown}; there is none"


def check(expect: Expect, snapshot: Snapshot) -> list[str]:
    """Every part of ``expect`` that does not hold, said as expected vs found."""
    detail = snapshot.detail
    run = detail.run
    wrong: list[str] = []
    if expect.status is not None and run.status != expect.status:
        because = f" ({run.error})" if run.error else ""
        wrong.append(f"expected the run {expect.status}; it is {run.status}{because}")
    if expect.stage is not None and run.current_element != expect.stage:
        wrong.append(
            f"expected the run at {expect.stage}; it is at {run.current_element or 'no stage'}"
        )
    latest_stage = {s.stage: s.status for s in detail.stages}
    for stage, status in expect.stages.items():
        found = latest_stage.get(stage, "never entered")
        if found != status:
            wrong.append(f"expected stage {stage} {status}; it is {found}")
    steps = _latest_steps(detail)
    for step, status in expect.steps.items():
        found_step = steps.get(step)
        found = found_step[0] if found_step else "never started (its stage was not entered)"
        if found != status:
            error = f" ({found_step[1]})" if found_step and found_step[1] else ""
            wrong.append(f"expected step {step} {status}; it is {found}{error}")
    for step, outputs in expect.outputs.items():
        got = steps.get(step, ("", "", {}))[2]
        if not _same(outputs, got):
            wrong.append(f"expected outputs of {step} {_show(outputs)}; they are {_show(got)}")
    for want in expect.work:
        problem = _work(want, snapshot)
        if problem:
            wrong.append(problem)
    if expect.no_open_work:
        open_items = [i for i in detail.work_items if i.status in WorkStatus.OPEN]
        if open_items:
            shown = ", ".join(_describe_item(i, snapshot.zone) for i in open_items)
            wrong.append(f"expected no open work; there is {shown}")
    for name, value in expect.variables.items():
        if name not in detail.variables:
            wrong.append(f"expected variable {name} = {_show(value)}; it has no value")
        elif not _same(value, detail.variables[name]):
            wrong.append(
                f"expected variable {name} = {_show(value)}; it is {_show(detail.variables[name])}"
            )
    if expect.record:
        if snapshot.record is None:
            wrong.append("expected fields of the run's record; the run has no record")
        else:
            wrong += _fields("the run's record", expect.record, snapshot.record)
    for alias, values in expect.records.items():
        wrong += _fields(f"record {alias}", values, snapshot.records.get(alias, {}))
    for email in expect.emails:
        problem = _email(email, snapshot)
        if problem:
            wrong.append(problem)
    for entry in expect.log:
        problem = _log(entry, snapshot)
        if problem:
            wrong.append(problem)
    if expect.error is not None and expect.error.lower() not in (run.error or "").lower():
        wrong.append(f"expected the run's error to say '{expect.error}'; it is {_show(run.error)}")
    return wrong


def _fields(what: str, expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    return [
        f"expected {what}'s {name} = {_show(value)}; it is {_show(actual.get(name))}"
        for name, value in expected.items()
        if not _same(value, actual.get(name))
    ]
