"""The definition of an orchestration: what was designed, as immutable values.

These models describe the file format (``format: 1``). They check the shape of a file;
``validation.py`` checks what the shape cannot: references, reachability, expressions.
Runtime state never lives here (see ``engine.store``).
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine.definitions.durations import Duration
from engine.text import derived_label

FORMAT_VERSION = 1
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,62}$"
_NAME_RE = re.compile(NAME_PATTERN)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


Name = Annotated[
    str,
    Field(
        pattern=NAME_PATTERN,
        description="A name used in expressions: a letter, then letters, digits or '_'",
    ),
]
Expression = Annotated[str, Field(min_length=1, max_length=4000, description="An expression")]


def is_valid_name(value: str) -> bool:
    return bool(_NAME_RE.match(value))


# ---------------------------------------------------------------- variables and forms


class ValueType(StrEnum):
    text = "text"
    number = "number"
    boolean = "boolean"
    date = "date"
    datetime = "datetime"
    list = "list"
    object = "object"


class Variable(Model):
    name: Name
    type: ValueType = ValueType.text
    label: str | None = None
    input: bool = False
    output: bool = False
    required: bool = False
    default: Any = None


class FieldType(StrEnum):
    text = "text"
    long_text = "long_text"
    number = "number"
    currency = "currency"
    date = "date"
    datetime = "datetime"
    checkbox = "checkbox"
    picklist = "picklist"
    email = "email"


class FieldValidation(Model):
    expression: Expression = Field(
        description="True when the value is acceptable; `value` names it"
    )
    message: str = Field(min_length=1)


class FormField(Model):
    name: Name
    label: str | None = None
    type: FieldType = FieldType.text
    required: bool = False
    default: Any = None
    help: str | None = None
    options: list[str] | None = Field(default=None, description="Choices of a picklist")
    validation: FieldValidation | None = None


class FormOutcome(Model):
    """A button such as Approve / Reject; submitting with it sets the output ``outcome``."""

    name: Name
    label: str | None = None


class Form(Model):
    title: str | None = None
    instructions: str | None = None
    fields: list[FormField] = Field(default_factory=list)
    outcomes: list[FormOutcome] = Field(default_factory=list)


# ---------------------------------------------------------------- assignment and escalation


class Assignee(Model):
    """Exactly one of user, group, queue or expression (resolving to a username)."""

    user: str | None = None
    group: str | None = None
    queue: str | None = None
    expression: Expression | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Assignee:
        given = [k for k in ("user", "group", "queue", "expression") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("give exactly one of user, group, queue or expression")
        return self

    def describe(self) -> str:
        for key in ("user", "group", "queue", "expression"):
            value = getattr(self, key)
            if value:
                return f"{key} {value}"
        return "nobody"


class EscalationAction(StrEnum):
    notify = "notify"
    reassign = "reassign"
    run_actions = "run_actions"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


# ---------------------------------------------------------------- background actions


class SetVariables(Model):
    type: Literal["set_variables"]
    values: dict[Name, Expression] = Field(min_length=1)


class CreateRecord(Model):
    type: Literal["create_record"]
    object: Name
    values: dict[Name, Expression] = Field(default_factory=dict)
    output: Name | None = Field(default=None, description="Output that receives the new id")


class UpdateRecord(Model):
    type: Literal["update_record"]
    record: Expression = Field(default="record.id", description="Id of the record to update")
    values: dict[Name, Expression] = Field(min_length=1)


class SendEmail(Model):
    type: Literal["send_email"]
    to: list[str] = Field(min_length=1, description="Addresses, usernames, or {{expressions}}")
    subject: str = Field(min_length=1, description="Text with {{expression}} placeholders")
    body: str = Field(default="", description="Text with {{expression}} placeholders")


class HttpRequest(Model):
    type: Literal["http_request"]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    url: str = Field(min_length=1, description="Text with {{expression}} placeholders")
    headers: dict[str, str] = Field(default_factory=dict)
    body: Expression | None = None
    timeout_seconds: float = Field(default=30, gt=0, le=3600)
    expect_status: list[int] = Field(default_factory=lambda: [200, 201, 202, 204])
    output: Name | None = None


class WaitUntil(Model):
    type: Literal["wait_until"]
    until: Expression = Field(description="A date or time")


class WaitForEvent(Model):
    type: Literal["wait_for_event"]
    event: Name
    key: Expression = Field(description="Correlation key the event must carry")
    timeout: Duration | None = None
    output: Name | None = None


class StartOrchestration(Model):
    type: Literal["start_orchestration"]
    orchestration: Name
    inputs: dict[Name, Expression] = Field(default_factory=dict)
    wait: bool = False
    output: Name | None = None


class PythonAction(Model):
    type: Literal["python"]
    action: str = Field(min_length=1, description="Name registered in entry points baton.actions")
    inputs: dict[Name, Expression] = Field(default_factory=dict)
    output: Name | None = None


Action = Annotated[
    SetVariables
    | CreateRecord
    | UpdateRecord
    | SendEmail
    | HttpRequest
    | WaitUntil
    | WaitForEvent
    | StartOrchestration
    | PythonAction,
    Field(discriminator="type"),
]


class Escalation(Model):
    """A rung of the escalation ladder, at an offset from the due date (negative: before)."""

    offset: Duration
    action: EscalationAction
    to: Assignee | None = Field(default=None, description="Who to notify or reassign to")
    message: str | None = None
    actions: list[Action] = Field(default_factory=list)


class RetryPolicy(Model):
    attempts: int = Field(default=3, ge=1, le=100)
    backoff_seconds: float = Field(default=5, ge=0, le=86400)
    max_backoff_seconds: float = Field(default=600, ge=0, le=7 * 86400)


class OnFailure(StrEnum):
    error = "error"
    continue_ = "continue"
    fault_path = "fault_path"


# ---------------------------------------------------------------- steps


class StartOn(StrEnum):
    stage_start = "stage_start"
    after = "after"
    expression = "expression"


class WaitMode(StrEnum):
    once = "once"
    wait = "wait"


class StartCondition(Model):
    when: StartOn = StartOn.stage_start
    steps: list[Name] = Field(default_factory=list, description="With when: after")
    expression: Expression | None = Field(default=None, description="With when: expression")
    mode: WaitMode = Field(
        default=WaitMode.once,
        description="once: evaluate at stage start and skip the step if false; wait: wait until true",
    )


class StepBase(Model):
    name: Name
    label: str | None = None
    description: str | None = None
    start: StartCondition = Field(default_factory=StartCondition)


class InteractiveStep(StepBase):
    kind: Literal["interactive"]
    form: Name | None = Field(default=None, description="Name of a form in `forms`")
    assignee: Assignee | None = None
    due: Duration | None = None
    priority: Priority = Priority.normal
    escalations: list[Escalation] = Field(default_factory=list)
    completion: Expression | None = Field(
        default=None, description="Completes the step without a submission when it becomes true"
    )


class BackgroundStep(StepBase):
    kind: Literal["background"]
    actions: list[Action] = Field(default_factory=list)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    timeout_seconds: float = Field(default=300, gt=0, le=7 * 86400)
    on_failure: OnFailure | None = Field(
        default=None, description="Default: the stage's fault path if it has one, else error"
    )


Step = Annotated[InteractiveStep | BackgroundStep, Field(discriminator="kind")]


# ---------------------------------------------------------------- elements


class ExitOn(StrEnum):
    all_steps = "all_steps"
    steps = "steps"
    expression = "expression"


class ExitCondition(Model):
    when: ExitOn = ExitOn.all_steps
    steps: list[Name] = Field(default_factory=list, description="With when: steps")
    expression: Expression | None = Field(default=None, description="With when: expression")


END = "end"


class Stage(Model):
    kind: Literal["stage"]
    name: Name
    label: str | None = None
    description: str | None = None
    steps: list[Step] = Field(default_factory=list)
    exit: ExitCondition = Field(default_factory=ExitCondition)
    max_visits: int = Field(default=10, ge=1, le=100_000)
    fault: Name | None = Field(default=None, description="Element to go to when a step fails")
    next: Name | None = Field(
        default=None, description="Following element; default: the next in the list; 'end' ends"
    )


class Outcome(Model):
    name: Name
    label: str | None = None
    when: Expression
    next: Name


class Decision(Model):
    kind: Literal["decision"]
    name: Name
    label: str | None = None
    description: str | None = None
    outcomes: list[Outcome] = Field(default_factory=list)
    default: Name | None = Field(default=None, description="Target when no outcome is true")


Element = Annotated[Stage | Decision, Field(discriminator="kind")]


# ---------------------------------------------------------------- the orchestration


class OrchestrationType(StrEnum):
    autolaunched = "autolaunched"
    record_triggered = "record_triggered"


class RecordEvent(StrEnum):
    created = "created"
    updated = "updated"


class Trigger(Model):
    object: Name
    events: list[RecordEvent] = Field(default_factory=lambda: [RecordEvent.created], min_length=1)
    criteria: Expression | None = None
    only_when_newly_met: bool = Field(
        default=False,
        description="On update, start only when the change made the record meet the criteria",
    )


class Orchestration(Model):
    format: int = Field(description="Version of this file format")
    name: Name
    label: str | None = None
    description: str | None = None
    type: OrchestrationType = OrchestrationType.autolaunched
    trigger: Trigger | None = None
    variables: list[Variable] = Field(default_factory=list)
    error_recipients: list[str] = Field(default_factory=list)
    calendar: str | None = Field(default=None, description="Business calendar for due dates")
    forms: dict[Name, Form] = Field(default_factory=dict)
    elements: list[Element] = Field(default_factory=list)

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: int) -> int:
        if value != FORMAT_VERSION:
            raise ValueError(f"format {value} is not {FORMAT_VERSION}")
        return value

    # ------------------------------------------------------------ lookups

    @cached_property
    def element_index(self) -> dict[str, int]:
        """Where each element name first stands in ``elements``: lookups stay constant-time
        in a definition of thousands of elements (the model is frozen, so this never goes
        stale; pydantic leaves it out of equality and dumps)."""
        index: dict[str, int] = {}
        for position, element in enumerate(self.elements):
            index.setdefault(element.name, position)
        return index

    def element(self, name: str) -> Stage | Decision | None:
        position = self.element_index.get(name)
        return None if position is None else self.elements[position]

    def stage(self, name: str) -> Stage | None:
        element = self.element(name)
        return element if isinstance(element, Stage) else None

    def stages(self) -> list[Stage]:
        return [e for e in self.elements if isinstance(e, Stage)]

    def next_of(self, element: Stage) -> str | None:
        """The element after ``element``, or None when the run ends there."""
        if element.next is not None:
            return None if element.next == END else element.next
        index = self.element_index.get(element.name, -1)
        if index < 0 or self.elements[index] is not element:  # a draft may repeat a name
            index = self.elements.index(element)
        if index + 1 < len(self.elements):
            return self.elements[index + 1].name
        return None

    def display_label(self) -> str:
        return self.label or self.name.replace("_", " ").title()


def label_of(item: Stage | Decision | InteractiveStep | BackgroundStep | Variable) -> str:
    return item.label or derived_label(item.name)
