"""Scenario files: located problems, names checked before running, stubs, time travel,
stuck waits, expected refusals, JUnit XML and --watch (``baton test``)."""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from engine.cli import scenarios as scenarios_cli
from engine.cli.main import main
from engine.scenarios.format import load_scenario_file
from engine.scenarios.suite import load_suite, run_suite
from engine.services.baton import Baton

FLOW = """\
format: 1
name: flow
variables:
  - {name: amount, type: number, input: true, required: true}
forms:
  ok: {fields: [{name: note, type: text, required: true}], outcomes: [{name: approve}, {name: deny}]}
elements:
  - kind: stage
    name: call_out
    steps:
      - kind: background
        name: score
        retry: {attempts: 2, backoff_seconds: 60, max_backoff_seconds: 60}
        actions:
          - {type: http_request, method: POST, url: "http://127.0.0.1:9/score", output: scored}
      - kind: background
        name: keep_score
        start: {when: after, steps: [score]}
        actions:
          - {type: set_variables, values: {score: "call_out.score.outputs.scored.body.score"}}
  - kind: stage
    name: waiting
    steps:
      - kind: background
        name: await_payment
        actions:
          - {type: wait_for_event, event: payment, key: "text(run.id)"}
      - kind: interactive
        name: check
        form: ok
        assignee: {user: alice}
        due: 4 hours
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def scenario_file(folder: Path, body: str, *, setup: str = "") -> Path:
    write(folder, "flow.yaml", FLOW)
    head = f"""\
format: 1
orchestration: flow.yaml
setup:
  people: [alice, bob]
  now: 2026-03-02T09:00 UTC
{textwrap.indent(textwrap.dedent(setup), "  ")}
scenarios:
"""
    return write(folder, "flow_test.yaml", head + textwrap.dedent(body))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["test", *args])
    return code, capsys.readouterr().out


def test_a_malformed_file_gets_every_problem_at_once_located(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        """\
        format: 1
        orchestration: flow.yaml
        setup: {now: yesterday}
        scenarios:
          - name: one
            steps:
              - compelte: {step: check}
              - advance: 2 busness days
              - expect: {stauts: Completed}
              - advance: -1 day
          - name: one
        """,
    )
    from engine.definitions import DefinitionError

    with pytest.raises(DefinitionError) as caught:
        load_scenario_file(str(path))
    text = str(caught.value)
    assert f"{path}: line 3" in text and "'yesterday' is not a moment" in text
    assert "line 7" in text and "'compelte' is not a step (did you mean 'complete'?)" in text
    assert "line 8" in text and "'2 busness days' is not a duration" in text
    assert "line 9" in text and "unknown field 'stauts'" in text
    assert "line 10" in text and "'-1 day': time only moves forward" in text
    assert "line 11" in text and "another scenario on line 5 has this name" in text
    assert len(caught.value.problems) == 6


def test_unknown_names_are_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario_file(
        tmp_path,
        """\
        - name: typos
          start: {inputs: {amout: 5}}
          steps:
            - complete: {step: chek, as: alice}
            - complete: {step: check, as: alcie, fields: {noet: x}, outcome: aprove}
            - expect: {work: [{step: check, assigned_to: "queue:legal"}], emails: [{to: bbo}]}
        """,
    )
    code, out = run(capsys, str(path))
    assert code == 2
    assert "there is no user 'bbo' (did you mean 'bob'?)" in out
    assert "PASS" not in out and "FAIL" not in out  # refused before it ran
    for said in (
        "line 9: scenarios[0].start: there is no input variable of flow 'amout' (did you mean 'amount'?)",
        "line 11: scenarios[0].steps[0]: there is no step in flow 'chek' (did you mean 'check'?)",
        "there is no user 'alcie' (did you mean 'alice'?)",
        "there is no field of form 'ok' 'noet' (did you mean 'note'?)",
        "there is no outcome of form 'ok' 'aprove' (did you mean 'approve'?)",
        "line 13: scenarios[0].steps[2]: there is no queue 'legal'",
    ):
        assert said in out


STUBBED = """\
- name: the scoring service answers
  stubs: [{step: score, respond: {score: 710}}]
  start: {inputs: {amount: 5}}
  steps:
    - run_background: all
    - expect: {stage: waiting, variables: {score: 710}, outputs: {score: {scored: {status: 200}}}}
    - publish_event: {name: payment, key: "{{ run.id }}", data: {paid: true}}
    - run_background: all
    - expect: {steps: {await_payment: Completed}, work: [{step: check, due: 2026-03-02T13:00}]}
- name: the scoring service is down
  stubs: [{url: /score, fail: connection refused by the stub}]
  start: {inputs: {amount: 5}}
  steps:
    - run_background: all
    - advance: 2 minutes
    - expect: {status: Error, error: connection refused by the stub}
- name: the scoring service is too slow
  stubs: [{step: score, delay: 1 minute, respond: {score: 1}}]
  start: {inputs: {amount: 5}}
  steps:
    - advance: {until: done}
    - expect: {status: Error, error: did not answer within 30 seconds}
- name: nothing is called for real
  start: {inputs: {amount: 5}}
  steps:
    - advance: 1 hour
    - expect: {status: Error, error: "no stub answers HTTP POST http://127.0.0.1:9/score"}
"""


def test_external_calls_are_answered_by_stubs_never_for_real(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, str(scenario_file(tmp_path, STUBBED)))
    assert code == 0, out
    assert out.count("PASS") == 4


def test_a_wait_that_nothing_ends_fails_as_stuck_and_never_hangs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario_file(
        tmp_path,
        """\
        - name: waits for ever
          start: {inputs: {amount: 5}}
          steps:
            - run_background: all
            - advance: {until: done}
        - name: expects the end too soon
          start: {inputs: {amount: 5}}
          steps:
            - run_background: all
            - expect: {status: Completed}
        """,
        setup="stubs: [{step: score, respond: {score: 1}}]",
    )
    code, out = run(capsys, str(path))
    assert code == 1
    first, second = out.split("FAIL")[1:3]
    waiting = "stuck at waiting: waiting for event 'payment' with key '1' (await_payment)"
    assert "flow_test.yaml:12: advance:" in first and waiting in first
    assert "work on check (user alice)" in first
    assert "flow_test.yaml:17: expect:" in second
    assert "expected the run Completed; it is InProgress" in second and waiting in second
    assert "history:" in second and "step_started call_out.score" in second


def test_refusals_are_checked_both_ways(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario_file(
        tmp_path,
        """\
        - name: refusals
          start: {inputs: {amount: 5}}
          steps:
            - publish_event: {name: payment, key: "{{ run.id }}"}
            - run_background: all
            - complete: {step: check, as: bob, fields: {note: x}, outcome: approve, refused: cannot}
            - complete: {step: check, fields: {note: x}, outcome: approve, refused: already completed}
        """,
        setup="stubs: [{step: score, respond: {score: 1}}]",
    )
    code, out = run(capsys, str(path))
    assert code == 1
    assert "flow_test.yaml:14: complete:" in out
    assert "expected it refused ('already completed'); it was done" in out


# The common JUnit schema (xunit2, as Jenkins, GitLab and others read it): the attributes
# each element may carry, and those it must.
ALLOWED = {
    "testsuites": {"name", "time", "tests", "failures", "errors", "disabled"},
    "testsuite": {
        *("name", "tests", "failures", "errors", "group", "time", "skipped", "timestamp"),
        *("hostname", "id", "package", "file", "log", "url", "version"),
    },
    "testcase": {"name", "classname", "assertions", "time", "status"},
    "failure": {"message", "type"},
    "error": {"message", "type"},
}
REQUIRED = {
    "testsuites": set(),
    "testsuite": {"name", "tests"},
    "testcase": {"name"},
    "failure": set(),
    "error": set(),
}


def _attributes_fit(element: ET.Element) -> None:
    names = set(element.attrib)
    assert names <= ALLOWED[element.tag], (element.tag, names - ALLOWED[element.tag])
    assert REQUIRED[element.tag] <= names, (element.tag, REQUIRED[element.tag] - names)
    for count in ("tests", "failures", "errors", "skipped"):
        if count in element.attrib:
            assert int(element.attrib[count]) >= 0
    if "time" in element.attrib:
        assert float(element.attrib["time"]) >= 0


def _check_junit(text: str) -> ET.Element:
    """The shape of the common JUnit XSD, checked by hand (no schema can be downloaded)."""
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    _attributes_fit(root)
    total = 0
    for suite in root:
        assert suite.tag == "testsuite"
        _attributes_fit(suite)
        cases = list(suite)
        assert int(suite.get("tests", "")) == len(cases)
        failed = 0
        for case in cases:
            assert case.tag == "testcase"
            _attributes_fit(case)
            for child in case:
                assert child.tag in ("failure", "error", "skipped", "system-out", "system-err")
                if child.tag in ("failure", "error"):
                    _attributes_fit(child)
                    failed += child.tag == "failure"
        assert int(suite.get("failures", "")) == failed
        total += len(cases)
    assert int(root.get("tests", "")) == total
    return root


def test_junit_xml_has_the_shape_ci_systems_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario_file(
        tmp_path,
        """\
        - name: passes
          stubs: [{step: score, respond: {score: 710}}]
          start: {inputs: {amount: 5}}
          steps:
            - run_background: all
            - expect: {stage: waiting}
        - name: fails
          start: {inputs: {amount: 5}}
          steps:
            - expect: {stage: waiting}
        """,
    )
    write(tmp_path, "broken_test.yaml", "format: 1\norchestration: flow.yaml\nscenarios: 3\n")
    report = tmp_path / "report.xml"
    code, _ = run(capsys, str(path), str(tmp_path / "broken_test.yaml"), "--junit", str(report))
    assert code == 2  # a file was refused
    root = _check_junit(report.read_text(encoding="utf-8"))
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")
    failure = root.find("./testsuite/testcase[@name='fails']/failure")
    assert failure is not None and "line 17" in failure.get("message", "")
    assert "flow_test.yaml:17: expect:" in (failure.text or "")


def test_scenarios_run_alike_in_several_processes(tmp_path: Path) -> None:
    body = "".join(
        textwrap.dedent(f"""\
        - name: run {n}
          stubs: [{{step: score, respond: {{score: {n}}}}}]
          start: {{inputs: {{amount: {n}}}}}
          steps:
            - run_background: all
            - expect: {{variables: {{score: {n if n != 2 else 99}}}}}
        """)
        for n in range(4)
    )
    suite, missing = load_suite([str(scenario_file(tmp_path, body))])
    assert not suite.problems
    try:
        alone = run_suite(suite, jobs=1)
        together = run_suite(suite, jobs=2)
    finally:
        suite.close()
    assert not missing
    assert [(r.name, r.passed) for r in alone] == [(r.name, r.passed) for r in together]
    assert [r.passed for r in together] == [True, True, False, True]


def test_watch_runs_again_when_a_file_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario_file(
        tmp_path,
        """\
        - name: reaches the wait
          stubs: [{step: score, respond: {score: 1}}]
          start: {inputs: {amount: 5}}
          steps:
            - run_background: all
            - expect: {stage: call_out}
        """,
    )
    args = argparse.Namespace(paths=[str(path)], jobs=1, junit=None, coverage=False, db=None)
    edits = iter([path.read_text().replace("stage: call_out", "stage: waiting"), None])

    def pause() -> None:
        text = next(edits)
        if text is not None:
            path.write_text(text)
            import os

            stat = path.stat()
            os.utime(path, (stat.st_atime, stat.st_mtime + 5))

    code = scenarios_cli.watch(args, runs=2, pause=pause)
    out = capsys.readouterr().out
    assert code == 0
    assert out.index("FAIL") < out.index("files changed, running again") < out.index("PASS")


def test_missing_files_are_said_in_a_sentence_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        "setup_test.yaml",
        """\
        format: 1
        orchestration: flow.yaml
        setup: {directory: people.yaml, calendars: calendars.yaml}
        scenarios: [{name: one}]
        """,
    )
    write(tmp_path, "flow.yaml", FLOW)
    code, out = run(capsys, str(path), str(tmp_path / "absent.yaml"))
    assert code == 2
    assert f"line 3: setup.directory: there is no file {tmp_path / 'people.yaml'}" in out
    assert f"line 3: setup.calendars: there is no file {tmp_path / 'calendars.yaml'}" in out
    assert f"ERROR {tmp_path / 'absent.yaml'}: no such file or folder" in out


def test_a_stored_orchestration_is_tested_from_the_database_given(
    baton: Baton, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baton.definitions.import_text(FLOW, activate=True)
    path = scenario_file(
        tmp_path,
        """\
        - name: stored
          stubs: [{step: score, respond: {score: 3}}]
          start: {inputs: {amount: 5}}
          steps:
            - run_background: all
            - expect: {stage: waiting, variables: {score: 3}}
        """,
    )
    path.write_text(path.read_text().replace("orchestration: flow.yaml", "orchestration: flow"))
    code, out = run(capsys, str(path), "--db", baton.db.url)
    assert code == 0, out
    code, out = run(capsys, str(path))
    assert code == 2
    assert "'flow' names a stored orchestration: give a definition file, or a database" in out


def test_the_json_schema_of_scenario_files(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["title"] == "Baton scenario file (format 1)"
    steps = schema["$defs"]["ScenarioModel"]["properties"]["steps"]["items"]["oneOf"]
    assert {next(iter(s["required"])) for s in steps} == {
        "expect",
        "complete",
        "claim",
        "release",
        "reassign",
        "run_background",
        "advance",
        "publish_event",
        "save_record",
        "intervene",
    }


def test_a_supervisor_retries_a_failed_step_and_moves_the_run_to_a_new_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "flow_v2.yaml", FLOW.replace("name: flow\n", "name: flow\nlabel: Flow 2\n"))
    path = scenario_file(
        tmp_path,
        """\
        - name: retried after the cause is fixed
          stubs:
            - {step: score, fail: the service is down, times: 2}
            - {step: score, respond: {score: 8}}
          start: {inputs: {amount: 5}}
          steps:
            - run_background: all
            - advance: 2 minutes
            - expect: {status: Error, steps: {score: Error}, error: the service is down}
            - intervene: {action: resume, as: admin, refused: retry its failed step}
            - intervene: {action: retry, step: score, as: admin, reason: service is back}
            - run_background: all
            - expect: {stage: waiting, variables: {score: 8}, log: [step_retried]}
            - intervene: {action: migrate, definition: flow_v2.yaml, reason: new label}
            - expect: {log: [{event: run_migrated}]}
        """,
    )
    code, out = run(capsys, str(path))
    assert code == 0, out


def test_each_scenario_starts_from_the_setup_whatever_the_one_before_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = """\
        - name: leaves things behind {n}
          start: {{inputs: {{amount: 5}}}}
          steps:
            - expect: {{log: [{{event: run_started, message_contains: flow v1}}]}}
            - publish_event: {{name: payment, key: "{{{{ run.id + 1 }}}}"}}
            - run_background: all
            - expect: {{stage: waiting, steps: {{await_payment: InProgress}}}}
        """
    body = "".join(textwrap.dedent(one.format(n=n)) for n in range(3))
    path = scenario_file(tmp_path, body, setup="stubs: [{step: score, respond: {score: 1}}]")
    code, out = run(capsys, str(path))
    assert code == 0, out  # had run 1's event reached run 2, its wait would have ended
