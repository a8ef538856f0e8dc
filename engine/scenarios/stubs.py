"""Answers to external actions in a scenario: a response, a failure or a delay, declared in the
file. No HTTP request or Python plugin is called for real unless a stub says ``real: true``;
a call no stub answers fails the attempt, saying which stub is missing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from engine.clock import Clock
from engine.definitions.durations import parse_duration
from engine.definitions.model import BackgroundStep, HttpRequest, Orchestration
from engine.runtime.actions import ActionFailed, ExternalCall, answered_by, call_external
from engine.scenarios.model import Stub


@dataclass
class Answers:
    """Answers external calls from the stubs, first match first; counts what was used."""

    stubs: list[Stub]
    definition: Orchestration
    clock: Clock
    used: dict[int, int] = field(default_factory=dict)
    unanswered: list[str] = field(default_factory=list)

    def steps_of(self, call: ExternalCall) -> set[str]:
        """The steps whose actions include this call's (a call carries no step name)."""
        return {
            step.name
            for stage in self.definition.stages()
            for step in stage.steps
            if isinstance(step, BackgroundStep) and call.action in step.actions
        }

    def matches(self, stub: Stub, call: ExternalCall) -> bool:
        action = call.action
        if stub.step is not None and stub.step not in self.steps_of(call):
            return False
        if isinstance(action, HttpRequest):
            if stub.action is not None:
                return False
            if stub.url is not None and stub.url not in str(call.inputs.get("url", "")):
                return False
            return stub.method is None or stub.method.upper() == action.method
        if stub.url is not None or stub.method is not None:
            return False
        return stub.action is None or stub.action == action.action

    def __call__(self, call: ExternalCall) -> Any:
        for index, stub in enumerate(self.stubs):
            if stub.times is not None and self.used.get(index, 0) >= stub.times:
                continue
            if self.matches(stub, call):
                self.used[index] = self.used.get(index, 0) + 1
                return self.answer(stub, call)
        what = describe(call)
        self.unanswered.append(what)
        raise ActionFailed(
            f"no stub answers {what} in this scenario: declare one under stubs "
            "(with respond:, fail:, or real: true to make the call)"
        )

    def answer(self, stub: Stub, call: ExternalCall) -> Any:
        if stub.real:
            with answered_by(None):
                return call_external(call)
        if stub.delay is not None:
            took = parse_duration(stub.delay).as_timedelta()
            limit = _timeout(call)
            if took.total_seconds() > limit:
                self.clock.advance(dt.timedelta(seconds=limit))
                raise ActionFailed(f"{describe(call)} did not answer within {limit:g} seconds")
            self.clock.advance(took)
        if stub.fail is not None:
            raise ActionFailed(stub.fail)
        action = call.action
        if isinstance(action, HttpRequest):
            if stub.status not in action.expect_status:
                raise ActionFailed(
                    f"HTTP {action.method} {call.inputs.get('url')} answered {stub.status}: "
                    f"{str(stub.respond)[:200]}"
                )
            return {"status": stub.status, "body": stub.respond}
        return stub.respond


def _timeout(call: ExternalCall) -> float:
    action = call.action
    return action.timeout_seconds if isinstance(action, HttpRequest) else call.timeout


def describe(call: ExternalCall) -> str:
    action = call.action
    if isinstance(action, HttpRequest):
        return f"HTTP {action.method} {call.inputs.get('url')}"
    return f"Python action '{action.action}'"
