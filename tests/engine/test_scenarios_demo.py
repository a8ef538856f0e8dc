"""The demo orchestrations ship with scenarios that reach every stage, step, outcome and
loop-back, and ``baton test resources/`` passes; a broken definition fails them, located."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.scenarios.coverage import coverage_of
from engine.scenarios.suite import load_suite, run_suite
from tests.conftest import RESOURCES


def test_baton_test_resources_passes_with_full_coverage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["test", str(RESOURCES), "--coverage"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "FAIL" not in out and "NOT REACHED" not in out
    for name in ("customer_onboarding", "employee_hiring", "refund_request"):
        assert f"coverage of {name}: " in out
        assert out.split(f"coverage of {name}: ")[1].split("\n")[0].endswith("(100 %)")


def test_every_stage_step_outcome_and_loop_of_the_demos_is_reached() -> None:
    suite, missing = load_suite([str(RESOURCES / "scenarios")])
    try:
        results = run_suite(suite, jobs=1)
        definitions = [suite.worlds[f.path].definition for f in suite.files]
    finally:
        suite.close()
    assert not missing and not suite.problems
    assert {d.name for d in definitions} == {
        "customer_onboarding",
        "employee_hiring",
        "refund_request",
    }
    for definition in definitions:
        coverage = coverage_of(definition, results)
        assert coverage.missed() == [], definition.name
        kinds = {i.kind for i in coverage.items}
        assert {"stage", "step", "outcome"} <= kinds
    onboarding = next(d for d in definitions if d.name == "customer_onboarding")
    loops = [i for i in coverage_of(onboarding, results).items if i.kind == "loop"]
    assert [(i.element, i.name) for i in loops] == [("rework", "next → review")]
    assert all(r.passed for r in results)
    small = next(r for r in results if r.name == "small contract is approved and activated")
    assert small.path == ["intake", "review", "all_approved", "activation"]


def test_a_decision_pointing_the_wrong_way_fails_the_demo_scenario_where_it_expects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder in ("definitions", "scenarios", "demo"):
        shutil.copytree(RESOURCES / folder, tmp_path / folder)
    definition = tmp_path / "definitions" / "customer_onboarding.yaml"
    text = definition.read_text(encoding="utf-8")
    assert text.count("next: activation") == 1 and text.count("default: rework") == 1
    swapped = text.replace("next: activation", "next: rework").replace(
        "default: rework", "default: activation"
    )  # the decision's arrows swapped: approved goes to rework, the rest to activation
    definition.write_text(swapped, encoding="utf-8")
    scenarios = tmp_path / "scenarios" / "customer_onboarding.yaml"
    lines = scenarios.read_text(encoding="utf-8").splitlines()
    first_end = next(i for i, line in enumerate(lines) if "status: Completed" in line)
    expect_line = first_end  # the '- expect:' line above it, counted from 1

    code = main(["test", str(scenarios)])
    out = capsys.readouterr().out
    assert code == 1
    failure = out.split("FAIL  ")[1]
    assert "customer_onboarding.yaml:9  small contract is approved and activated" in failure
    assert f"customer_onboarding.yaml:{expect_line}: expect:" in failure
    assert "expected the run Completed; it is InProgress" in failure
    assert "stuck at rework: waiting for work on address_findings (user alice)" in failure
    assert "decision all_approved by frank: outcome 'approved' → rework" in failure  # history


def test_the_complete_example_of_docs_testing_md_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = (RESOURCES.parent / "docs" / "testing.md").read_text(encoding="utf-8")
    example = doc.split("## A complete example")[1].split("```yaml\n")[1].split("```")[0]
    for folder in ("definitions", "demo"):
        shutil.copytree(RESOURCES / folder, tmp_path / folder)
    (tmp_path / "scenarios").mkdir()
    path = tmp_path / "scenarios" / "example.yaml"
    path.write_text(example, encoding="utf-8")
    code = main(["test", str(path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1 passed, 0 failed" in out


def test_the_designer_runs_the_scenarios_of_its_draft() -> None:
    from engine.definitions import load_file
    from engine.scenarios.suite import run_against

    definition = load_file(str(RESOURCES / "definitions" / "refund_request.yaml"))
    draft = definition.model_copy(update={"label": "Refunds (draft)"})
    report = run_against(draft, [str(RESOURCES / "scenarios")])
    assert not report.problems
    assert {r.orchestration for r in report.results} == {"refund_request"}
    assert all(r.passed for r in report.results) and len(report.results) == 4
    assert report.coverage.percent == 100
    assert [i.name for i in report.coverage.of_element("approved")] == ["rejected", "default"]
    paid = next(r for r in report.results if r.name == "a small refund is paid straight away")
    assert paid.path == ["approval", "approved", "payment"]


def test_the_designer_tests_the_draft_not_the_file() -> None:
    from engine.definitions import load_text
    from engine.scenarios.suite import run_against

    text = (RESOURCES / "definitions" / "refund_request.yaml").read_text(encoding="utf-8")
    swapped = text.replace("next: rejection", "next: __").replace(
        "default: payment", "default: rejection"
    )
    draft = load_text(swapped.replace("next: __", "next: payment"))
    report = run_against(draft, [str(RESOURCES / "scenarios")])
    failed = {r.name for r in report.results if not r.passed}
    assert "a small refund is paid straight away" in failed
