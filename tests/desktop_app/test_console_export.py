"""Exporting lists to CSV, searching runs by what is in them, and dashboards a person can
read (hover, click through, save), through the widgets."""

from __future__ import annotations

import csv
import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QPushButton

from desktop_app.console import charts, export
from desktop_app.console.charts import Chart
from desktop_app.console.dashboards import CHARTS, DashboardsPanel, time_unit
from desktop_app.console.runs_panel import RunsPanel
from desktop_app.console.work_panel import WorkItemsPanel
from desktop_app.panels.inbox import InboxPanel
from desktop_app.session import AppSession
from engine.clients.history import generate_history
from engine.services.baton import Baton
from engine.services.queries import RunFilter
from engine.store.models import RunRow

WAIT = 15000
MANY = 100_000


@pytest.fixture
def history(demo: Baton) -> Baton:
    generate_history(demo, 300, days=30, seed=5)
    return demo


def _grow(baton: Baton, total: int) -> None:
    """Copies of the generated runs, a second apart, until there are ``total`` runs: the
    list and the export read runs alone, so work items and steps need no copies."""
    table = RunRow.__table__
    with baton.db.read() as session:
        rows = [dict(r._mapping) for r in session.execute(table.select()).all()]
        top = max(r["id"] for r in rows)
    began = min(r["started_at"] for r in rows) - dt.timedelta(days=1)
    copies = []
    for n in range(total - len(rows)):
        row = dict(rows[n % len(rows)], id=top + 1 + n, parent_run_id=None)
        row["started_at"] = began - dt.timedelta(seconds=n)
        copies.append(row)
    with baton.db.engine.begin() as conn:  # bulk, as the history generator writes
        for at in range(0, len(copies), 10_000):
            conn.execute(table.insert(), copies[at : at + 10_000])


@pytest.fixture
def carol(history: Baton) -> Iterator[AppSession]:
    session = AppSession.open(history, "carol")
    yield session
    session.close()


@pytest.fixture
def save_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the file dialog says to save (a person would pick it there)."""
    path = tmp_path / "export.csv"
    monkeypatch.setattr(export, "ask_path", lambda parent, name: path)
    return path


class Probe:
    """A timer on the GUI thread: the longest gap between its ticks is the longest time the
    GUI thread was kept from its events."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.longest = 0.0

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last)
        self.last = now

    def stop(self) -> float:
        self.timer.stop()
        return self.longest


def _runs(qtbot: Any, session: AppSession) -> RunsPanel:
    panel = RunsPanel(session)
    qtbot.addWidget(panel)
    panel.show()
    runs = panel.runs
    qtbot.waitUntil(lambda: runs.model.total > 0 and runs.model.row(0) is not None, timeout=WAIT)
    return panel


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_exporting_100000_runs_leaves_the_list_responsive(
    qtbot: Any, history: Baton, save_to: Path
) -> None:
    _grow(history, MANY)
    session = AppSession.open(history, "carol")
    try:
        panel = _runs(qtbot, session)
        runs = panel.runs
        assert runs.model.total == MANY
        said: list[str] = []
        runs.status.connect(said.append)
        probe = Probe()
        probe.start()
        qtbot.mouseClick(runs.export_button, Qt.MouseButton.LeftButton)
        (job,) = runs.findChildren(export.ExportJob)
        assert job.dialog.isVisible() and not job.dialog.isModal()
        # The person scrolls to the far end meanwhile: those rows load while the file is written.
        qtbot.waitUntil(lambda: job.written > 0, timeout=WAIT)
        runs.view.scrollToBottom()
        qtbot.waitUntil(lambda: runs.model.row(MANY - 1) is not None, timeout=WAIT)
        scrolled_during_export = job.running
        qtbot.waitUntil(lambda: any(m.startswith("Exported") for m in said), timeout=180_000)
        longest = probe.stop()
        assert scrolled_during_export
        assert longest < 0.1, f"the GUI thread was blocked {longest * 1000:.0f} ms"
        assert said[-1] == f"Exported 100,000 runs to {save_to}"
        rows = _rows(save_to)
        assert rows[0][:4] == ["run", "orchestration", "version", "status"]
        assert len(rows) == MANY + 1
        first = history.console.runs(limit=3)
        assert [int(r[0]) for r in rows[1:4]] == [r.id for r in first]
        assert len({r[0] for r in rows[1:]}) == MANY
        assert not save_to.with_name("export.csv.part").exists()
        assert not job.dialog.isVisible()
    finally:
        session.close()


def test_canceling_an_export_writes_no_file(
    qtbot: Any, carol: AppSession, history: Baton, save_to: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = _runs(qtbot, carol)
    runs = panel.runs
    console = carol.service.console
    real = console.stream_runs
    held = threading.Event()  # the second page waits until the person has pressed Cancel

    def pages(where: RunFilter, page_size: int) -> Iterator[list[Any]]:
        for n, page in enumerate(real(where, page_size=10)):
            if n == 1:
                held.wait(WAIT / 1000)
            yield page

    monkeypatch.setattr(console, "stream_runs", pages)
    said: list[str] = []
    runs.status.connect(said.append)
    qtbot.mouseClick(runs.export_button, Qt.MouseButton.LeftButton)
    (job,) = runs.findChildren(export.ExportJob)
    qtbot.waitUntil(lambda: job.written == 10, timeout=WAIT)
    assert "10 rows" in job.dialog.labelText()
    (cancel,) = job.dialog.findChildren(QPushButton)
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    held.set()
    qtbot.waitUntil(lambda: bool(said), timeout=WAIT)
    assert said == ["Export canceled; export.csv not written"]
    assert not save_to.exists()
    assert not save_to.with_name("export.csv.part").exists()
    assert not job.dialog.isVisible() and not job.running


def test_work_items_and_the_inbox_export_their_filter(
    qtbot: Any, carol: AppSession, history: Baton, save_to: Path
) -> None:
    panel = WorkItemsPanel(carol)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.model.total > 0, timeout=WAIT)
    said: list[str] = []
    panel.status.connect(said.append)
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(said), timeout=WAIT)
    rows = _rows(save_to)
    assert len(rows) == panel.model.total + 1
    assert {r[2] for r in rows[1:]} <= {"Assigned", "Claimed"}  # the filter: open work
    assert rows[0][-1] == "sla"

    frank = AppSession.open(history, "frank")
    try:
        inbox = InboxPanel(frank)
        qtbot.addWidget(inbox)
        qtbot.waitUntil(lambda: inbox.total is not None and inbox.total > 0, timeout=WAIT)
        said.clear()
        inbox.status.connect(said.append)
        qtbot.mouseClick(inbox.export_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(said), timeout=WAIT)
        rows = _rows(save_to)
        assert said == [f"Exported {inbox.total:,} work items to {save_to}"]
        listed = history.as_user("frank").work.list(user="frank", hide_claimed_by_others=True)
        assert [int(r[0]) for r in rows[1:]] == [w.id for w in listed]
    finally:
        frank.close()


def test_the_runs_search_finds_a_variable_a_field_and_an_error(
    qtbot: Any, carol: AppSession, history: Baton
) -> None:
    panel = _runs(qtbot, carol)
    runs = panel.runs
    bar = runs.bar
    console = history.as_user("carol").console

    def search(where: str, text: str) -> None:
        bar.search_in.setCurrentText(where)
        bar.search.clear()
        qtbot.keyClicks(bar.search, text)
        qtbot.keyClick(bar.search, Qt.Key.Key_Return)

    def shows(f: RunFilter) -> bool:
        expected = console.count_runs(f)
        first = runs.model.row(0)
        return expected > 0 and runs.model.total == expected and first is not None

    search("Variable", "customer_name = acme corporation")
    wanted = RunFilter(variable="customer_name", variable_value="acme corporation")
    qtbot.waitUntil(lambda: shows(wanted), timeout=WAIT)
    assert runs.model.total < console.count_runs()
    detail = history.runs.show(runs.model.row(0).id)
    assert detail.variables["customer_name"] == "Acme Corporation"

    search("Record field", "industry = Finance")
    qtbot.waitUntil(
        lambda: shows(RunFilter(record_field="industry", record_value="Finance")), timeout=WAIT
    )
    words = (console.runs(RunFilter(statuses=("Error",)))[0].error or "")[-14:]
    search("Error", words.upper())
    qtbot.waitUntil(lambda: shows(RunFilter(error_text=words)), timeout=WAIT)
    assert words in (runs.model.row(0).error or "")

    search("Variable", "amount =")
    assert runs.error.text() == "Search: say which value of 'amount' to look for (amount = …)"
    bar.search.clear()
    qtbot.keyClick(bar.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: runs.model.total == console.count_runs(), timeout=WAIT)
    assert runs.error.text() == ""


# ---------------------------------------------------------------- dashboards


def _dashboards(qtbot: Any, session: AppSession) -> DashboardsPanel:
    panel = DashboardsPanel(session)
    qtbot.addWidget(panel)
    panel.resize(1400, 800)
    panel.show()
    qtbot.waitUntil(lambda: panel.loaded >= set(CHARTS), timeout=WAIT)
    return panel


def _widget_point(chart: Chart, scene_point: Any) -> Any:
    return chart.plot.mapFromScene(scene_point)


def test_a_click_on_a_dashboard_bar_opens_what_it_counts(
    qtbot: Any, carol: AppSession, history: Baton
) -> None:
    panel = _dashboards(qtbot, carol)
    chart = panel.charts["runs"]
    failed = chart.series[2].values
    day = max(range(len(failed)), key=lambda i: failed[i])  # the day most runs failed
    assert failed[day] > 0
    point = _widget_point(chart, chart.bar_centre(day, "failed"))
    qtbot.mouseMove(chart.plot.viewport(), point)
    qtbot.waitUntil(lambda: chart.hover_text != "", timeout=WAIT)
    assert chart.hover_text == f"{chart.categories[day]} · failed: {failed[day]:,.0f}"
    qtbot.mouseClick(chart.plot.viewport(), Qt.MouseButton.LeftButton, pos=point)
    (window,) = panel.drills
    runs = window.list
    qtbot.waitUntil(lambda: runs.model.row(0) is not None, timeout=WAIT)
    assert runs.model.total == failed[day]
    assert {runs.model.row(i).status for i in range(runs.model.total)} == {"Error"}
    assert window.windowTitle().startswith("Runs failed on ")

    backlog = panel.charts["backlog"]
    # The first holder with open work not all overdue: its open bar shows beyond the red one.
    at, holder = next((i, h) for i, h in enumerate(panel._holders) if h.open > h.overdue)
    point = _widget_point(backlog, backlog.bar_centre(at, "open"))
    qtbot.mouseClick(backlog.plot.viewport(), Qt.MouseButton.LeftButton, pos=point)
    work = panel.drills[-1].list
    qtbot.waitUntil(lambda: work.model.row(0) is not None, timeout=WAIT)
    assert work.model.total == holder.open
    for drill in panel.drills:
        drill.close()


@pytest.mark.parametrize("overdue", [3, 14, 26])
def test_a_click_lands_on_the_part_of_a_bar_that_shows(qtbot: Any, overdue: int) -> None:
    """Overdue work is drawn over open work, from the same start: a click in the middle of
    what shows of the open bar opens the open work, however much of it is overdue (at more
    than half, the middle of the whole bar is red, and opened the overdue work)."""
    chart = Chart("Backlog", "chartTest", horizontal=True, category="who")
    qtbot.addWidget(chart)
    chart.add_bars("open", "#2e90fa")
    chart.add_bars("overdue", "#d92d20")
    chart.set_data(["frank", "grace"], {"open": [27, 5], "overdue": [overdue, 1]})
    chart.resize(600, 300)
    chart.show()
    qtbot.waitExposed(chart)
    for name in ("open", "overdue"):
        point = _widget_point(chart, chart.bar_centre(0, name))
        with qtbot.waitSignal(chart.clicked, timeout=WAIT) as clicked:
            qtbot.mouseClick(chart.plot.viewport(), Qt.MouseButton.LeftButton, pos=point)
        assert clicked.args == [0, name]


def test_charts_read_plainly_and_save_as_png_and_csv(
    qtbot: Any, carol: AppSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = _dashboards(qtbot, carol)
    for chart in panel.charts.values():
        box = chart.plot.getViewBox()
        (low, _), (bottom, _) = box.viewRange()
        assert (low if chart.horizontal else bottom) >= 0  # nothing below zero
        assert not chart.plot.getAxis("left").autoSIPrefix
    durations = panel.charts["durations"]
    unit = durations.title.split("(")[1].split(")")[0]  # "Step time (hours)"
    assert unit in ("seconds", "minutes", "hours", "days")
    assert time_unit(0.004) == ("seconds", 1) and time_unit(5400)[0] == "minutes"
    assert time_unit(3 * 3600)[0] == "hours" and time_unit(9 * 86400)[0] == "days"
    counts = panel.charts["aging"].plot.getAxis("left")
    assert counts._tickSpacing is not None and counts._tickSpacing[0][0] >= 1  # whole numbers

    aging = panel.charts["aging"]
    targets = iter([tmp_path / "aging.png", tmp_path / "aging.csv"])
    monkeypatch.setattr(charts, "ask_file", lambda *a: next(targets))
    qtbot.mouseClick(aging.png, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(aging.csv, Qt.MouseButton.LeftButton)
    assert (tmp_path / "aging.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = _rows(tmp_path / "aging.csv")
    assert rows[0] == ["age", "open", "of which overdue"]
    assert [r[0] for r in rows[1:]] == aging.categories
    work = carol.service.dashboards.work_aging()
    assert [[int(r[1]), int(r[2])] for r in rows[1:]] == [[b[1], b[2]] for b in work]


def test_a_refresh_updates_the_charts_items_in_place(qtbot: Any, carol: AppSession) -> None:
    panel = _dashboards(qtbot, carol)
    before = {name: list(panel.charts[name].plot.plotItem.items) for name in CHARTS}
    panel.window_choice.setCurrentText("Last 7 days")
    qtbot.waitUntil(lambda: panel.loaded >= set(CHARTS), timeout=WAIT)
    for name in CHARTS:
        assert panel.charts[name].plot.plotItem.items == before[name]
    assert len(panel.charts["runs"].categories) == 7


def test_the_dashboards_queries_run_at_the_same_time(
    qtbot: Any, carol: AppSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each chart's query waits until all five are running: it passes only if none of them
    queues behind another (the charts then take as long as the slowest query, not the sum)."""
    boards = carol.service.dashboards
    together = threading.Barrier(len(CHARTS), timeout=WAIT / 1000)
    for name in ("runs_per_day", "durations", "work_aging", "backlog", "sla_breaches"):
        real = getattr(boards, name)

        def meeting(*args: Any, real: Any = real, **kwargs: Any) -> Any:
            together.wait()
            return real(*args, **kwargs)

        monkeypatch.setattr(boards, name, meeting)
    panel = DashboardsPanel(carol)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.loaded >= set(CHARTS), timeout=2 * WAIT)
    assert panel.problem.text() == ""


def test_an_export_that_cannot_write_says_where_and_why(
    qtbot: Any, carol: AppSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = _runs(qtbot, carol)
    runs = panel.runs
    target = tmp_path / "gone" / "runs.csv"  # a folder that does not exist
    monkeypatch.setattr(export, "ask_path", lambda parent, name: target)
    said: list[str] = []
    runs.status.connect(said.append)
    qtbot.mouseClick(runs.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(said), timeout=WAIT)
    assert said == [f"Export of runs failed: could not write {target}: No such file or directory"]
    assert not target.parent.exists()


@pytest.mark.parametrize("horizontal", [False, True])
def test_a_chart_of_nothing_says_so(qtbot: Any, horizontal: bool) -> None:
    # A newcomer's "Work falling due" chart, with nothing due in the window, was bare axes.
    chart = Chart("Work falling due", "chartEmpty", horizontal=horizontal)
    qtbot.addWidget(chart)
    chart.add_bars("fell due", "#98a2b3")
    chart.resize(600, 300)
    chart.show()
    qtbot.waitExposed(chart)
    chart.set_data(["11-29", "11-30", "12-01"], {"fell due": [0, 0, 0]})
    note = chart.empty_note
    assert note.isVisible() and note.toPlainText() == "Nothing in this window"
    (x0, x1), (y0, y1) = chart.plot.getViewBox().viewRange()
    assert x0 <= note.pos().x() <= x1 and y0 <= note.pos().y() <= y1  # where it can be read
    chart.set_data(["11-29", "11-30", "12-01"], {"fell due": [0, 2, 0]})
    assert not note.isVisible()
