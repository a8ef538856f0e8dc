"""Reading definition files a person named: what is not a regular file is refused at once,
a key written twice is refused naming both lines, and big files stay cheap to read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
import yaml

from engine.definitions import DefinitionError, load_file, load_text
from engine.definitions.reader import MAX_ITEMS, read_text

ROOT = Path(__file__).resolve().parents[2]


def problems_of(text: str, *, kind: str | None = None) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_text(text, kind=kind)
    return [p.describe() for p in caught.value.problems]


# ---------------------------------------------------------------- not regular files


def test_a_fifo_is_refused_at_once_by_validate_review_and_import(tmp_path: Path) -> None:
    fifo = tmp_path / "definition.yaml"
    os.mkfifo(fifo)
    db = tmp_path / "baton.sqlite3"
    script = (
        "import sys\n"
        "from engine.cli.main import main\n"
        "for command in ('validate', 'review', 'import'):\n"
        "    code = main(['--db', sys.argv[1], 'definitions', command, sys.argv[2]])\n"
        "    print('exit', command, code, flush=True)\n"
    )
    # A separate process with a timeout: if reading ever waits on the pipe again, this test
    # fails instead of hanging the suite.
    result = subprocess.run(
        [sys.executable, "-c", script, str(db), str(fifo)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    out = result.stdout + result.stderr
    assert "Traceback" not in out
    assert out.count("the file is not a regular file (a pipe, socket or device)") == 3, out
    for command in ("validate", "review", "import"):
        assert f"exit {command} 0" not in out, out
        assert f"exit {command} " in out, out


def test_a_folder_and_a_device_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="the file is a folder, not a file"):
        load_file(str(tmp_path))
    with pytest.raises(DefinitionError, match="not a regular file"):
        load_file(os.devnull)


# ---------------------------------------------------------------- keys written twice


def test_a_yaml_key_written_twice_is_refused_naming_both_lines() -> None:
    text = """\
format: 1
name: twice
elements:
  - kind: stage
    name: first
    steps:
      - kind: background
        name: a
        actions: [{type: set_variables, values: {x: "1"}}]
        name: b
name: again
"""
    assert problems_of(text) == [
        "line 10, column 9: elements[0].steps[0].name: 'name' is written twice in the same "
        "mapping, on lines 8 and 10: keep one",
        "line 11, column 1: name: 'name' is written twice in the same mapping, on lines 2 and "
        "11: keep one",
    ]


def test_a_key_twice_in_a_flow_mapping_and_keys_that_read_the_same() -> None:
    assert problems_of("format: 1\nname: x\nforms: {a: {}, a: {}}\n") == [
        "line 3, column 16: forms.a: 'a' is written twice in the same mapping, on line 3: keep one"
    ]
    # yes and true are the same key once read (both mean true)
    assert any("written twice" in m for m in problems_of("format: 1\nyes: 1\ntrue: 2\n"))


def test_the_same_key_in_different_mappings_is_fine() -> None:
    text = "format: 1\nname: x\nforms: {a: {fields: []}, b: {fields: []}}\n"
    assert read_text(text).data["forms"] == {"a": {"fields": []}, "b": {"fields": []}}


def test_a_json_key_written_twice_is_refused_naming_both_lines() -> None:
    text = '{\n  "format": 1,\n  "name": "x",\n  "forms": {"a": {}, "b": {}},\n  "name": "y"\n}\n'
    assert problems_of(text) == [
        "line 5, column 3: name: 'name' is written twice in the same mapping, on lines 3 and 5: "
        "keep one"
    ]
    escaped = '{"format": 1, "name": "x", "n\\u0061me": "y"}'
    assert any("'name' is written twice" in m for m in problems_of(escaped))


def test_json_problems_are_located_like_yaml_ones() -> None:
    text = json.dumps(
        {
            "format": 1,
            "name": "x",
            "elements": [{"kind": "stage", "name": "s", "steps": [], "colour": "red"}],
        },
        indent=2,
    )
    messages = problems_of(text)
    assert messages == [
        "line 8, column 16: elements[0].steps: stage 's' has no steps",
        "line 9, column 17: elements[0].colour: unknown field 'colour'",
    ]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("format: 1\n<<: {name: x}\n", "line 2, column 1: (top level): merge keys (<<) are not"),
        ("format: 1\nname: !!python/object:os.system x\n", "the tag"),
        ("format: 1\nforms: !!set {a, b}\n", "line 2, column 8: forms: the tag"),
        ("format: 1\n? [a, b]\n: x\n", "a key must be a single word or value"),
        (
            "format: 1\nname: x\n---\nformat: 1\n",
            "line 3, column 1: (top level): a definition file holds one",
        ),
    ],
)
def test_yaml_that_is_not_plain_data_is_refused_where_it_stands(text: str, fragment: str) -> None:
    messages = problems_of(text)
    assert any(fragment in m for m in messages), messages


# ---------------------------------------------------------------- big files


def _many_keys(count: int) -> str:
    """Like the report: a 4.4 MB definition whose one action sets 400,000 variables."""
    values = ",".join(f"k{i:x}: '1'" for i in range(count))
    return (
        "format: 1\nname: big\nerror_recipients: [ops@example.com]\nelements:\n"
        "  - kind: stage\n    name: s\n    steps:\n      - kind: background\n        name: b\n"
        "        on_failure: continue\n        actions:\n          - type: set_variables\n"
        f"            values: {{{values}}}\n"
    )


def test_a_file_with_400000_keys_is_refused_early_in_little_memory() -> None:
    text = _many_keys(400_000)
    tracemalloc.start()
    try:
        messages = problems_of(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(messages) == 1
    assert messages[0].startswith("line 13, column ")
    assert f"holds more than {MAX_ITEMS:,} keys and values" in messages[0]
    # Reading it all used to take 700 MB (and 22 s); refusing it takes a fraction.
    assert peak < 150 * 1024 * 1024, f"{peak / 1024 / 1024:.0f} MB"


def test_a_json_file_with_too_many_keys_is_refused_too() -> None:
    data = yaml.safe_load(_many_keys(10))
    data["elements"][0]["steps"][0]["actions"][0]["values"] = {
        f"k{i}": "1" for i in range(MAX_ITEMS)
    }
    messages = problems_of(json.dumps(data, indent=1))
    assert any(f"holds more than {MAX_ITEMS:,} keys" in m for m in messages), messages[:3]


def test_a_big_file_under_the_limits_reads_all_of_it() -> None:
    definition = load_text(_many_keys(20_000))
    step = definition.elements[0].steps[0]
    assert len(step.actions[0].values) == 20_000  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", ["yaml", "json"])
def test_a_number_of_thousands_of_digits_is_refused_where_it_stands(kind: str) -> None:
    digits = "9" * 5000
    text = (
        f"format: 1\nname: big\nvariables:\n  - {{name: n, type: number, default: {digits}}}\n"
        if kind == "yaml"
        else f'{{"format": 1, "name": "big",\n "variables": [{{"name": "n", "default": {digits}}}]}}'
    )
    with pytest.raises(DefinitionError) as refused:
        read_text(text, kind=kind)
    [problem] = refused.value.problems
    assert "5,000 digits" in problem.message and problem.line in (2, 4)
