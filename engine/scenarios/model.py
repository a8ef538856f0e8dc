"""The shape of a scenario file (``format: 1``), as pydantic models: its setup, the steps a
scenario may take, and what an ``expect`` step can check. ``engine.scenarios.format`` reads
a file into them and reports every problem with its line and column."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# ---------------------------------------------------------------- setup


class Person(Model):
    username: str
    role: Literal["admin", "supervisor", "user"] = "user"
    email: str | None = None
    display_name: str | None = None


class RecordSpec(Model):
    type: str = Field(description="Object type of the record")
    values: dict[str, Any] = Field(default_factory=dict)
    owner: str | None = None


class Stub(Model):
    """An answer to an external action (HTTP request or Python action), instead of the call."""

    step: str | None = Field(default=None, description="Answer the calls of this step")
    action: str | None = Field(default=None, description="Answer this Python action")
    url: str | None = Field(default=None, description="Answer HTTP calls whose URL holds this")
    method: str | None = None
    status: int = Field(default=200, description="HTTP status of the answer")
    respond: Any = Field(default=None, description="The answer's body (HTTP) or value (Python)")
    fail: str | None = Field(default=None, description="Fail the call with this message")
    delay: str | None = Field(
        default=None, description="The call takes this long (e.g. 40 seconds)"
    )
    times: int | None = Field(default=None, ge=1, description="Answer only this many calls")
    real: bool = Field(default=False, description="Make the real call (the scenario asks for it)")


class Setup(Model):
    directory: str | None = Field(
        default=None, description="A file of users, queues and groups (the demo's format)"
    )
    people: list[str | Person] = Field(default_factory=list)
    queues: dict[str, list[str]] = Field(default_factory=dict)
    groups: dict[str, list[str]] = Field(default_factory=dict)
    calendars: str | list[dict[str, Any]] | None = Field(
        default=None, description="A calendars file, or a list of calendars"
    )
    calendar: dict[str, Any] | None = Field(
        default=None, description="One calendar (made the default)"
    )
    object_types: str | list[dict[str, Any]] | None = Field(
        default=None, description="An object types file, or a list of object types"
    )
    records: dict[str, RecordSpec] = Field(
        default_factory=dict, description="Records made before each scenario, by alias"
    )
    orchestrations: list[str] = Field(
        default_factory=list, description="Other definition files the tested one starts"
    )
    now: Any = Field(default=None, description="When the clock starts, e.g. 2026-03-06T15:00 UTC")
    stubs: list[Stub] = Field(default_factory=list)


# ---------------------------------------------------------------- steps


class Acting(Model):
    as_: str | None = Field(default=None, alias="as", description="Who does it")
    refused: str | None = Field(
        default=None, description="The action must be refused with a message holding this text"
    )


class Start(Acting):
    inputs: dict[str, Any] = Field(default_factory=dict)
    record: str | RecordSpec | None = Field(
        default=None, description="A setup record's alias, or a record to create (record-triggered)"
    )
    values: dict[str, Any] = Field(
        default_factory=dict, description="Fields saved on the setup record, which starts the run"
    )


class Complete(Acting):
    step: str
    fields: dict[str, Any] = Field(default_factory=dict)
    outcome: str | None = None
    comment: str | None = None


class Claim(Acting):
    step: str


class Reassign(Acting):
    step: str
    to: str = Field(description="user:NAME, queue:NAME, group:NAME or a username")
    reason: str = "reassigned by the scenario"


class Advance(Model):
    by: str | None = Field(default=None, description="e.g. 2 hours, 2 business days")
    until: Any = Field(
        default=None, description="A moment, 'next timer', or 'done' (until the run ends)"
    )


class PublishEvent(Acting):
    name: str
    key: str
    data: dict[str, Any] = Field(default_factory=dict)


class SaveRecord(Acting):
    record: str | int | None = Field(
        default=None, description="Alias or id of the record to update (default: the run's)"
    )
    type: str | None = Field(default=None, description="Object type, to create a record")
    values: dict[str, Any] = Field(default_factory=dict)
    owner: str | None = None
    alias: str | None = Field(default=None, description="Name the new record for later steps")


class Intervene(Acting):
    action: Literal[
        "suspend", "resume", "resume_failed", "retry", "skip", "jump", "cancel", "migrate"
    ]
    reason: str = "done by the scenario"
    step: str | None = None
    stage: str | None = None
    outputs: dict[str, Any] = Field(default_factory=dict)
    version: int | None = None
    definition: str | None = Field(
        default=None, description="With migrate: a definition file, stored as the new version"
    )


class WorkExpect(Model):
    step: str
    assigned_to: str | None = None
    claimed_by: str | None = None
    status: str | None = Field(default=None, description="Default: open (Assigned or Claimed)")
    due: Any = None
    priority: str | int | None = None
    completed_by: str | None = None


class EmailExpect(Model):
    to: str | None = None
    subject: str | None = None
    subject_contains: str | None = None
    body_contains: str | None = None


class LogExpect(Model):
    event: str
    stage: str | None = None
    step: str | None = None
    actor: str | None = None
    message_contains: str | None = None


class Expect(Model):
    status: str | None = Field(default=None, description="The run's status")
    stage: str | None = Field(default=None, description="The element the run is at")
    stages: dict[str, str] = Field(default_factory=dict, description="Stage → status")
    steps: dict[str, str] = Field(
        default_factory=dict, description="Step (or stage.step) → status of its latest visit"
    )
    work: list[WorkExpect] = Field(default_factory=list)
    no_open_work: bool = False
    variables: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    record: dict[str, Any] = Field(default_factory=dict, description="The run's record fields")
    records: dict[str, dict[str, Any]] = Field(default_factory=dict)
    emails: list[EmailExpect] = Field(default_factory=list)
    log: list[str | LogExpect] = Field(default_factory=list)
    error: str | None = Field(default=None, description="The run's error holds this text")


ACTIONS: dict[str, type[BaseModel] | None] = {
    "expect": Expect,
    "complete": Complete,
    "claim": Claim,
    "release": Claim,
    "reassign": Reassign,
    "run_background": None,  # 'all' or a step name
    "advance": Advance,  # or a duration
    "publish_event": PublishEvent,
    "save_record": SaveRecord,
    "intervene": Intervene,
}


class ScenarioModel(Model):
    name: str = Field(min_length=1)
    description: str | None = None
    now: Any = None
    stubs: list[Stub] = Field(default_factory=list)
    start: Start = Field(default_factory=Start)
    steps: list[dict[str, Any]] = Field(default_factory=list)


class FileModel(Model):
    format: int
    orchestration: str = Field(description="A definition file (beside this one) or a stored name")
    version: int | None = Field(default=None, description="With a stored name: which version")
    setup: Setup = Field(default_factory=Setup)
    scenarios: list[ScenarioModel] = Field(min_length=1)
