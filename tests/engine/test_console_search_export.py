"""Searching runs by what is in them, and streaming a whole list for an export: on SQLite and
on PostgreSQL, checked against the rows themselves."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.clients.history import generate_history
from engine.errors import InvalidInput
from engine.services.baton import Baton
from engine.services.queries import RunFilter, WorkFilter
from engine.store.models import RecordRow, RunRow
from tests.conftest import define


@pytest.fixture
def generated(baton: Baton) -> Baton:
    generate_history(baton, 160, days=20, seed=11)
    return baton


def _runs(baton: Baton) -> list[Any]:
    with baton.db.read() as session:
        rows = session.execute(
            select(RunRow.id, RunRow.variables, RunRow.record_id, RunRow.error)
        ).all()
        records = dict(session.execute(select(RecordRow.id, RecordRow.data)).all())
    return [(r.id, r.variables or {}, records.get(r.record_id) or {}, r.error) for r in rows]


def _ids(baton: Baton, f: RunFilter) -> set[int]:
    console = baton.as_user("carol").console
    found = {r.id for page in console.stream_runs(f, page_size=50) for r in page}
    assert console.count_runs(f) == len(found)
    return found


def _text(value: Any) -> str:
    """A JSON value as the search compares it (True is not 1 here, as it is to a dict)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def test_a_variable_value_finds_the_runs_holding_it(generated: Baton) -> None:
    runs = _runs(generated)
    for name, value in [
        ("customer_name", "acme corporation"),  # text, whatever its case
        ("amount", "250000"),  # a JSON number
        ("activated", "true"),  # a JSON true, not SQLite's 1
        ("review_round", "1"),
    ]:
        expected = {i for i, v, _, _ in runs if _text(v.get(name)).lower() == value}
        assert expected, (name, value)
        assert _ids(generated, RunFilter(variable=name, variable_value=value)) == expected
    # unnamed: anywhere in the variables
    expected = {i for i, v, _, _ in runs if any("globex" in _text(x).lower() for x in v.values())}
    assert expected and _ids(generated, RunFilter(variable_value="Globex")) == expected


def test_a_record_field_and_the_error_text(generated: Baton) -> None:
    runs = _runs(generated)
    expected = {i for i, _, rec, _ in runs if _text(rec.get("industry")).lower() == "finance"}
    assert expected
    found = _ids(generated, RunFilter(record_field="industry", record_value="Finance"))
    assert found == expected
    errors = sorted(error for _, _, _, error in runs if error)
    words = errors[0][-14:]  # the end of an error the history holds, e.g. "internal error"
    expected = {i for i, _, _, error in runs if error and words.lower() in error.lower()}
    assert expected and _ids(generated, RunFilter(error_text=words.upper())) == expected
    # combined with the other filters, and a search that matches nothing
    failed = RunFilter(statuses=("Error",), error_text=words)
    assert _ids(generated, failed) == expected
    assert _ids(generated, RunFilter(variable="customer_name", variable_value="100%_")) == set()


def test_a_search_without_a_value_is_refused_clearly(generated: Baton) -> None:
    console = generated.as_user("carol").console
    with pytest.raises(InvalidInput, match="which value of the variable 'amount'"):
        console.runs(RunFilter(variable="amount"))
    with pytest.raises(InvalidInput, match="at most 200 characters"):
        console.runs(RunFilter(variable="x" * 201, variable_value="1"))
    saved = RunFilter(variable="amount", variable_value="10", error_text="boom")
    assert RunFilter.from_json(saved.to_json()) == saved


def test_streamed_runs_are_the_list_in_its_order(generated: Baton) -> None:
    console = generated.as_user("carol").console
    for f in (RunFilter(), RunFilter(sort="id", descending=False), RunFilter(statuses=("Error",))):
        listed = [r.id for r in console.runs(f, limit=1000)]
        pages = list(console.stream_runs(f, page_size=7))
        assert [r.id for page in pages for r in page] == listed
        assert all(len(page) == 7 for page in pages[:-1])


UNDATED = """
format: 1
name: undated
forms: {ok: {fields: [{name: note, type: text}]}}
elements:
  - kind: stage
    name: main
    steps:
      - {kind: interactive, name: look, form: ok, assignee: {user: alice}}
"""


def test_streamed_work_items_are_the_list_in_its_order(generated: Baton) -> None:
    define(generated, UNDATED)
    for _ in range(12):  # work without a due date, listed after the dated
        generated.runs.start("undated")
    console = generated.as_user("carol").console
    undated = {w.id for w in console.work_items(WorkFilter(orchestration="undated"))}
    for f in (
        WorkFilter(statuses=()),  # by due date: the undated last, as the list shows them
        WorkFilter(statuses=(), sort="due", descending=True),
        WorkFilter(sort="created", descending=True),
        WorkFilter(statuses=("Completed",), sort="id"),
    ):
        listed = [w.id for w in console.work_items(f, limit=1000)]
        streamed = [w.id for page in console.stream_work_items(f, page_size=9) for w in page]
        assert streamed == listed
        assert f.sort != "due" or (listed[-1] in undated and listed[0] not in undated)


def test_the_inbox_streams_as_it_lists(generated: Baton) -> None:
    work = generated.as_user("carol").work
    for sort in ("priority", "due", "item"):
        listed = [w.id for w in work.list(sort=sort, limit=1000)]
        streamed = [w.id for page in work.stream(sort=sort, page_size=5) for w in page]
        assert listed and streamed == listed
    with pytest.raises(InvalidInput, match="cannot sort work by 'size'"):
        next(iter(work.stream(sort="size")))
