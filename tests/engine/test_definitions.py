"""Definition files: validation with located messages, malformed input, round trips, schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from engine.definitions import (
    DefinitionError,
    json_schema,
    load_file,
    load_text,
    to_data,
    to_json,
    to_yaml,
)
from engine.definitions.reader import MAX_DEPTH
from tests.conftest import RESOURCES

DATA = Path(__file__).parent / "data"
DEFINITIONS = sorted((RESOURCES / "definitions").glob("*.yaml"))

MINIMAL = """
format: 1
name: tiny
elements:
  - kind: stage
    name: only
    steps:
      - kind: background
        name: work
        actions: [{type: set_variables, values: {done: "True"}}]
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_text(text)
    return [p.describe() for p in caught.value.problems]


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.name)
def test_every_resource_definition_is_valid(path: Path) -> None:
    definition = load_file(str(path))
    assert definition.elements


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.name)
def test_round_trip_yaml_and_json(path: Path) -> None:
    definition = load_file(str(path))
    assert load_text(to_yaml(definition)) == definition
    assert load_text(to_json(definition)) == definition
    assert to_data(load_text(to_yaml(definition))) == to_data(definition)


def test_ten_mistakes_give_ten_located_messages() -> None:
    with pytest.raises(DefinitionError) as caught:
        load_file(str(DATA / "ten_mistakes.yaml"))
    messages = [p.describe() for p in caught.value.problems]
    assert len(messages) == 10, "\n".join(messages)
    expected = [
        "line 12, column 9: forms.review.fields[0].options: a picklist needs a list of options",
        "line 15, column 15: forms.review.fields[1].type: 'nubmer' is not one of",
        "line 24, column 29: elements[0].steps[0].actions[0].values.score: expression 'vars.amount * ': "
        "syntax error: the expression ends too early",
        "line 31, column 19: elements[0].steps[1].start.steps[0]: no step named 'credit_chek' in stage "
        "'underwriting' (did you mean 'credit_check'?)",
        "line 33, column 15: elements[0].steps[2].name: stage 'underwriting' has two steps named 'manual_review'",
        "line 34, column 15: elements[0].steps[2].form: no form named 'reviw' (did you mean 'review'?)",
        "line 37, column 5: elements[1].default: decision 'decide' has no default",
        "has no output 'decison' (did you mean 'decision'?)",
        "line 42, column 15: elements[1].outcomes[0].next: no element named 'fund' (did you mean 'funding'?)",
        "line 51, column 27: elements[2].steps[0].retry.attempts: expected a whole number, got 'lots'",
    ]
    for fragment in expected:
        assert any(fragment in m for m in messages), f"missing: {fragment}\n" + "\n".join(messages)


def test_unknown_field_is_reported() -> None:
    text = MINIMAL.replace("    name: only\n", "    name: only\n    colour: blue\n")
    assert any("elements[0].colour: unknown field 'colour'" in m for m in problems_of(text))


def test_unreachable_element() -> None:
    text = (
        MINIMAL.replace("    name: only\n", "    name: only\n    next: end\n")
        + """
  - kind: stage
    name: orphan
    steps:
      - kind: background
        name: w
        actions: [{type: set_variables, values: {x: "1"}}]
"""
    )
    assert any("elements[1]: 'orphan' can never be reached" in m for m in problems_of(text))


@pytest.mark.parametrize(
    ("replacement", "fragment"),
    [
        ("name: Stage 2", "is not a valid name"),
        ("name: run", "'run' is reserved"),
    ],
)
def test_bad_names(replacement: str, fragment: str) -> None:
    text = MINIMAL.replace("name: only", replacement)
    assert any(fragment in m for m in problems_of(text))


def test_step_dependency_cycle() -> None:
    text = """
format: 1
name: circles
elements:
  - kind: stage
    name: s
    steps:
      - {kind: background, name: a, start: {when: after, steps: [b]}, actions: [{type: set_variables, values: {x: "1"}}]}
      - {kind: background, name: b, start: {when: after, steps: [a]}, actions: [{type: set_variables, values: {x: "1"}}]}
"""
    assert any("wait for each other in a circle: a → b → a" in m for m in problems_of(text))


def test_expression_names_unknown_variable_and_step() -> None:
    text = MINIMAL.replace(
        'values: {done: "True"}', 'values: {done: "vars.amout > only.wrk.status"}'
    )
    messages = problems_of(text)
    assert any("no variable named 'amout'" in m for m in messages)
    assert any("no step named 'wrk' in stage 'only' (did you mean 'work'?)" in m for m in messages)


def test_record_trigger_needs_a_trigger() -> None:
    text = MINIMAL.replace("name: tiny", "name: tiny\ntype: record_triggered")
    assert any("needs a trigger" in m for m in problems_of(text))


def test_yes_read_as_boolean_gets_a_hint() -> None:
    text = MINIMAL.replace("name: work", "name: yes")
    assert any("put the word in quotes" in m for m in problems_of(text))


# ---------------------------------------------------------------- malformed files


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("format: 1\nname: [unclosed", "not valid YAML"),
        ('{"format": 1,', "not valid JSON"),
        ("", "the file is empty"),
        ("- just\n- a list", "must be a mapping"),
        ("name: x\nelements: []", "missing 'format'"),
        ("format: 99\nname: x", "written by a newer Baton"),
        ("format: one\nname: x", "format must be a whole number"),
        ("format: 1\nelements: 7", "missing required field 'name'"),
        ("format: 1\nname: x\nelements: 7", "elements: expected a list"),
        ("a: &x [1]\nb: *x", "aliases (*name) are not allowed"),
        (
            "format: 1\nname: x\nelements:\n  - kind: stagee\n    name: a",
            "kind 'stagee' is not one of",
        ),
        ("format: 1\nname: x\nelements:\n  - name: a", "missing 'kind'"),
    ],
)
def test_malformed_input_gives_a_clear_message(text: str, fragment: str) -> None:
    messages = problems_of(text)
    assert any(fragment in m for m in messages), messages


def test_deep_nesting_yaml_and_json() -> None:
    deep_yaml = "format: 1\nname: x\nd: " + "[" * (MAX_DEPTH + 10) + "]" * (MAX_DEPTH + 10)
    assert any("nested more than" in m for m in problems_of(deep_yaml))
    deep_json = '{"format": 1, "d": ' + "[" * 5000 + "]" * 5000 + "}"
    assert any("nested" in m for m in problems_of(deep_json))


def test_huge_file_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.write(b"format: 1\n")
        handle.write(b"# padding\n" * (5 * 1024 * 1024))
    with pytest.raises(
        DefinitionError, match=r"the file is 52,428,810 bytes, more than the 5,242,880"
    ):
        load_file(str(path))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("format: 1\nname: caf\xe9\n".encode("latin-1"))
    with pytest.raises(DefinitionError, match="not UTF-8"):
        load_file(str(path))


def test_missing_file() -> None:
    with pytest.raises(DefinitionError, match="cannot read the file"):
        load_file("/no/such/file.yaml")


# ---------------------------------------------------------------- schema


def test_json_schema_describes_the_format() -> None:
    schema = json_schema()
    assert schema["title"].startswith("Baton orchestration definition")
    assert {"format", "name", "elements"} <= set(schema["properties"])
    json.dumps(schema)
    # Every step kind and action type the format knows is in the schema.
    text = json.dumps(schema)
    for word in (
        "interactive",
        "background",
        "set_variables",
        "wait_for_event",
        "start_orchestration",
    ):
        assert word in text


def test_json_and_yaml_read_the_same() -> None:
    data = yaml.safe_load(MINIMAL)
    assert load_text(json.dumps(data)) == load_text(MINIMAL)
