"""Background actions. Inline actions change only the database, so they run inside the
step's transaction and are atomic with it. External actions (HTTP, plugins) reach outside;
they run between transactions under a lease, and their result is written only if the
attempt that started them still holds the step (see worker.py)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from sqlalchemy import select

from engine.definitions.durations import parse_duration
from engine.definitions.model import (
    CreateRecord,
    HttpRequest,
    PythonAction,
    SendEmail,
    SetVariables,
    StartOrchestration,
    UpdateRecord,
    WaitForEvent,
    WaitUntil,
)
from engine.expressions.helpers import text as as_text
from engine.runtime import http_client, notify
from engine.runtime.engine import RunEngine, RunFailed
from engine.store.base import utcnow
from engine.store.ids import next_id
from engine.store.models import EventRow, ObjectTypeRow, RecordRow
from engine.store.rows import StepRunRec
from engine.values import ValueProblem, convert

TEMPLATE_OPEN, TEMPLATE_CLOSE = "{{", "}}"


class ActionFailed(Exception):
    """The action did not succeed this attempt; it may be retried."""


@dataclass(frozen=True)
class Wait:
    """The step waits: until a time, for an event, or for a child run."""

    until: dt.datetime | None
    event: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class ExternalCall:
    """Prepared inputs of an external action, to run outside any transaction."""

    action: HttpRequest | PythonAction
    inputs: dict[str, Any]
    timeout: float = 300.0


def render(engine: RunEngine, template: str, where: str) -> str:
    out: list[str] = []
    rest = template
    while TEMPLATE_OPEN in rest:
        before, _, after = rest.partition(TEMPLATE_OPEN)
        expression, found, rest = after.partition(TEMPLATE_CLOSE)
        out.append(before)
        if not found:
            out.append(TEMPLATE_OPEN + expression)
            rest = ""
            break
        value = engine.value(expression.strip(), where)
        out.append(as_text(value) if not isinstance(value, dict | list) else json.dumps(value))
    out.append(rest)
    return "".join(out)


def _typed_values(
    engine: RunEngine, object_type: ObjectTypeRow, values: dict[str, str], where: str
) -> dict[str, Any]:
    fields = {f["name"]: f for f in object_type.fields}
    clean: dict[str, Any] = {}
    for name, expression in values.items():
        if name == "owner":
            clean["owner"] = engine.value(expression, where)
            continue
        field = fields.get(name)
        if field is None:
            raise RunFailed(f"{where}: '{object_type.name}' has no field '{name}'")
        raw = engine.value(expression, where)
        if isinstance(raw, dt.datetime | dt.date):
            raw = raw.isoformat()
        try:
            clean[name] = convert(field.get("type", "text"), raw, field.get("options"))
        except ValueProblem as exc:
            raise RunFailed(f"{where}: field '{name}': {exc}") from None
    return clean


def run_inline(
    engine: RunEngine, row: StepRunRec, action: Any, where: str
) -> dict[str, Any] | Wait | ExternalCall:
    """Do an inline action now; return its outputs, a Wait, or an ExternalCall to make."""
    session = engine.session
    if isinstance(action, SetVariables):
        # Every value is computed before any is set: the action applies whole or not at all.
        values = {name: _plain(engine.value(expr, where)) for name, expr in action.values.items()}
        engine.set_variables(values)
        engine.log("variables_set", step=row.step, details=values)
        return {}
    if isinstance(action, CreateRecord):
        object_type = session.scalar(
            select(ObjectTypeRow).where(ObjectTypeRow.name == action.object)
        )
        if object_type is None:
            raise RunFailed(f"{where}: no object type named '{action.object}'")
        data = _typed_values(engine, object_type, action.values, where)
        owner = data.pop("owner", None)
        now = utcnow()
        new = RecordRow(
            id=next_id(session, RecordRow),
            object_type_id=object_type.id,
            data=data,
            owner=owner,
            created_at=now,
            created_by=engine.actor,
            updated_at=now,
            updated_by=engine.actor,
            row_version=1,
        )
        session.add(new)
        engine.log("record_created", step=row.step, message=f"{object_type.label} {new.id}")
        from engine.runtime.triggers import on_record_saved

        on_record_saved(session, new, None, engine.actor, by_run=engine.run)
        return {action.output: new.id} if action.output else {}
    if isinstance(action, UpdateRecord):
        record_id = engine.value(action.record, where)
        target = (
            session.get(RecordRow, record_id, with_for_update=True)
            if isinstance(record_id, int)
            else None
        )
        if target is None:
            raise RunFailed(f"{where}: no record with id {record_id!r}")
        record = target
        object_type = session.get_one(ObjectTypeRow, record.object_type_id)
        data = _typed_values(engine, object_type, action.values, where)
        from engine.runtime.context import record_context
        from engine.runtime.triggers import on_record_saved

        previous = record_context(record)
        if "owner" in data:
            record.owner = data.pop("owner")
        record.data = {**record.data, **data}
        record.updated_at = utcnow()
        record.updated_by = engine.actor
        record.row_version += 1
        session.flush()
        engine.changed()
        engine.log(
            "record_updated",
            step=row.step,
            message=f"{object_type.label} {record.id}",
            details={k: _plain(v) for k, v in data.items()},
        )
        on_record_saved(session, record, previous, engine.actor, by_run=engine.run)
        return {}
    if isinstance(action, SendEmail):
        subject = render(engine, action.subject, where)
        body = render(engine, action.body, where)
        sent = []
        for recipient in action.to:
            for email in notify.recipient_emails(session, render(engine, recipient, where)):
                notify.queue_email(session, email, subject, body, engine.run.id)
                sent.append(email)
        engine.log(
            "email_queued", step=row.step, message=f"to {', '.join(sent) or 'nobody'}: {subject}"
        )
        return {}
    if isinstance(action, WaitUntil):
        moment = engine.value(action.until, where)
        if isinstance(moment, str):
            try:
                moment = dt.datetime.fromisoformat(moment)
            except ValueError:
                raise RunFailed(f"{where}: '{moment}' is not a date and time") from None
        if isinstance(moment, dt.date) and not isinstance(moment, dt.datetime):
            moment = dt.datetime(moment.year, moment.month, moment.day, tzinfo=dt.UTC)
        if not isinstance(moment, dt.datetime):
            raise RunFailed(f"{where}: wait_until needs a date and time, got {moment!r}")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return {} if moment <= utcnow() else Wait(until=moment)
    if isinstance(action, WaitForEvent):
        key = as_text(engine.value(action.key, where))
        event = session.scalar(
            select(EventRow)
            .where(
                EventRow.name == action.event, EventRow.key == key, EventRow.consumed_at.is_(None)
            )
            .order_by(EventRow.id)
            .limit(1)
        )
        if event is not None:
            event.consumed_at = utcnow()
            event.consumed_by_step_run_id = row.id
            engine.log("event_received", step=row.step, message=f"{action.event} [{key}]")
            return {action.output: event.data} if action.output else {}
        until = utcnow() + parse_duration(action.timeout).as_timedelta() if action.timeout else None
        return Wait(until=until, event=action.event, key=key)
    if isinstance(action, StartOrchestration):
        from engine.runtime.starting import MAX_NESTING, nesting_of, start_run_by_name

        level = nesting_of(session, engine.run) + 1
        if level > MAX_NESTING:
            raise RunFailed(
                f"{where}: starting '{action.orchestration}' was refused: it would be a child run "
                f"{level} levels deep (the limit is {MAX_NESTING}); runs starting each other "
                "need a condition that stops them"
            )

        child_inputs = {k: _plain(engine.value(v, where)) for k, v in action.inputs.items()}
        child = start_run_by_name(
            session,
            action.orchestration,
            child_inputs,
            record_id=engine.run.record_id,
            actor=engine.actor,
            parent_run_id=engine.run.id,
            parent_step_run_id=row.id if action.wait else None,
            # A child acts for its parent: its saves count from the parent's level, so a
            # loop of triggers that passes through a child still ends at the limit.
            trigger_depth=engine.run.trigger_depth,
        )
        engine.log(
            "child_run_started", step=row.step, message=f"run {child.id} of {action.orchestration}"
        )
        if action.wait and child.status not in ("Completed", "Canceled", "Error"):
            return Wait(until=None, event="child_run", key=str(child.id))
        if action.wait and child.status != "Completed":
            raise ActionFailed(
                f"run {child.id} of {action.orchestration} ended {child.status}: {child.error}"
            )
        outputs = {"run_id": child.id, "variables": dict(child.variables or {})}
        return {action.output: outputs} if action.output else {}
    if isinstance(action, HttpRequest | PythonAction):
        inputs: dict[str, Any] = {}
        if isinstance(action, HttpRequest):
            inputs["url"] = render(engine, action.url, where)
            inputs["headers"] = {k: render(engine, v, where) for k, v in action.headers.items()}
            inputs["body"] = _plain(engine.value(action.body, where)) if action.body else None
        else:
            inputs = {k: _plain(engine.value(v, where)) for k, v in action.inputs.items()}
        return ExternalCall(action, inputs)
    raise RunFailed(f"{where}: unknown action {type(action).__name__}")


def _plain(value: Any) -> Any:
    """JSON-storable form of an expression result."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


@functools.cache
def _installed_plugins() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group="baton.actions")}


def plugin_actions() -> dict[str, Any]:
    """Python actions registered under the entry point group ``baton.actions``.

    Scanning the installed packages takes milliseconds, so it is done once per process; a
    name not found rescans (``find_plugin``), so a plugin installed while Baton runs is seen."""
    return _installed_plugins()


def find_plugin(name: str) -> Any | None:
    """The entry point of the Python action ``name``, or None if none is installed."""
    entry = plugin_actions().get(name)
    if entry is None:
        _installed_plugins.cache_clear()
        entry = plugin_actions().get(name)
    return entry


# Who answers external calls made in this context: the real world, unless something that
# must never reach it (a scenario of ``baton test``) answers them itself.
_answerer: ContextVar[Callable[[ExternalCall], Any] | None] = ContextVar(
    "baton_external_answerer", default=None
)


@contextmanager
def answered_by(answer: Callable[[ExternalCall], Any] | None) -> Iterator[None]:
    """External calls made in this block go to ``answer`` (which returns the action's result
    or raises ActionFailed) instead of the network or a plugin; None: to the real world."""
    token = _answerer.set(answer)
    try:
        yield
    finally:
        _answerer.reset(token)


def call_external(call: ExternalCall) -> Any:
    """Make the call; raises ActionFailed. Runs outside any transaction."""
    answer = _answerer.get()
    if answer is not None:
        return answer(call)
    action = call.action
    if isinstance(action, HttpRequest):
        body = call.inputs.get("body")
        data = json.dumps(body).encode() if body is not None else None
        headers = dict(call.inputs.get("headers") or {})
        if data is not None:
            headers.setdefault("Content-Type", "application/json")
        if not any(name.lower() == "user-agent" for name in headers):
            headers["User-Agent"] = "Baton"
        try:
            reply = http_client.request(
                action.method,
                call.inputs["url"],
                body=data,
                headers=headers,
                timeout=action.timeout_seconds,
            )
        except http_client.HttpFailure as exc:
            raise ActionFailed(f"HTTP {action.method} {call.inputs['url']} failed: {exc}") from None
        status = reply.status
        payload = reply.body.decode("utf-8", "replace")
        if status not in action.expect_status:
            raise ActionFailed(
                f"HTTP {action.method} {call.inputs['url']} answered {status}: {payload[:200]}"
            )
        try:
            parsed: Any = json.loads(payload) if payload else None
        except json.JSONDecodeError:
            parsed = payload
        return {"status": status, "body": parsed}
    entry = find_plugin(action.action)
    if entry is None:
        raise ActionFailed(
            f"no Python action named '{action.action}' is installed (entry points baton.actions)"
        )
    try:
        function = entry.load()
    except Exception as exc:  # a broken plugin is a step failure, never a worker crash
        raise ActionFailed(f"Python action '{action.action}' cannot be loaded: {exc}") from None
    done: dict[str, Any] = {}
    inputs = call.inputs

    def invoke() -> None:
        try:
            done["value"] = function(**inputs)
        except Exception as exc:  # reported as the step's failure below
            done["error"] = exc

    # In a thread of its own, so a plugin that hangs is a timed-out attempt, not a stuck worker
    # slot. Python cannot stop a thread: one past its timeout is abandoned, left to finish (or
    # not) in the background, renamed to say so; whatever it returns or does then is ignored,
    # and being a daemon thread it does not keep the process from exiting.
    worker = threading.Thread(target=invoke, name=f"baton-action-{action.action}", daemon=True)
    worker.start()
    worker.join(call.timeout)
    if worker.is_alive():
        worker.name = f"baton-action-{action.action} (abandoned after {call.timeout:g} s)"
        raise ActionFailed(
            f"Python action '{action.action}' did not finish within {call.timeout:g} seconds"
        )
    if "error" in done:
        error = done["error"]
        if isinstance(error, ActionFailed):
            raise error
        raise ActionFailed(
            f"Python action '{action.action}' raised {type(error).__name__}: {error}"
        )
    return _plain(done.get("value"))
