"""Dashboards: run history in charts (pyqtgraph). Every number comes from an SQL aggregate
of the engine's dashboards service; each chart loads on its own in the background."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.console.charts import Chart
from desktop_app.messages import describe
from desktop_app.session import AppSession
from engine import clock
from engine.services.dashboards import AGE_BUCKETS, Backlog, DayCount, DurationStat, SlaDay
from engine.statuses import WorkStatus

BLUE, GREEN, RED, ORANGE, GREY = "#2e6fdb", "#1f9d55", "#d92d20", "#f79009", "#98a2b3"
WINDOWS = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90, "Last year": 365}
CHARTS = ("runs", "durations", "aging", "backlog", "sla")
UNITS = ((120, "seconds", 1), (7200, "minutes", 60), (172800, "hours", 3600))


def time_unit(longest_seconds: float) -> tuple[str, float]:
    """The unit a chart of times reads best in: seconds, minutes, hours or days."""
    for below, name, size in UNITS:
        if longest_seconds < below:
            return name, size
    return "days", 86400.0


def _day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


class DrillWindow(QWidget):
    """The runs or work items a dashboard bar counts, in a list of their own."""

    def __init__(self, session: AppSession, title: str, kind: str, pinned: dict[str, Any]) -> None:
        super().__init__()
        from desktop_app.console.runs_panel import RunsList
        from desktop_app.console.work_panel import WorkItemsPanel

        self.setWindowTitle(title)
        self.setObjectName("dashboardDrill")
        self.list: Any = RunsList(session) if kind == "runs" else WorkItemsPanel(session)
        self.list.pin(**pinned)
        heading = QLabel(title)
        heading.setStyleSheet("font-weight: 600")
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.list, 1)
        self.resize(1100, 600)


class DashboardsPanel(QWidget):
    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.window_choice = QComboBox()
        self.window_choice.setObjectName("dashboardWindow")
        self.window_choice.addItems(list(WINDOWS))
        self.window_choice.setCurrentText("Last 30 days")
        self.orchestration = QComboBox()
        self.orchestration.setObjectName("dashboardOrchestration")
        self.orchestration.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        refresh = QPushButton("Refresh")
        refresh.setObjectName("dashboardRefresh")
        refresh.clicked.connect(self.refresh)
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #b42318")
        top = QHBoxLayout()
        top.addWidget(QLabel("Window"))
        top.addWidget(self.window_choice)
        top.addWidget(QLabel("Durations of"))
        top.addWidget(self.orchestration)
        top.addWidget(refresh)
        top.addWidget(self.problem, 1)
        self.charts = {
            "runs": Chart("Runs per day", "chartRuns"),
            "durations": Chart(
                "Step time: median and p95",
                "chartDurations",
                horizontal=True,
                category="step",
                integer=False,
            ),
            "aging": Chart("Open work by age", "chartAging", category="age"),
            "backlog": Chart(
                "Backlog by assignee and queue", "chartBacklog", horizontal=True, category="who"
            ),
            "sla": Chart("Work falling due, and SLA breaches, per day", "chartSla"),
        }
        c = self.charts
        c["runs"].add_bars("started", BLUE, -0.27, 0.27)
        c["runs"].add_bars("completed", GREEN, 0.0, 0.27)
        c["runs"].add_bars("failed", RED, 0.27, 0.27)
        c["durations"].add_bars("median", BLUE, -0.18, 0.36)
        c["durations"].add_bars("p95", ORANGE, 0.18, 0.36)
        c["aging"].add_bars("open", GREY)
        c["aging"].add_bars("of which overdue", RED)
        c["backlog"].add_bars("open", BLUE)
        c["backlog"].add_bars("overdue", RED)
        c["sla"].add_line("fell due", GREY)
        c["sla"].add_line("breached", RED, fill=pg.mkBrush(217, 45, 32, 50))
        self.runs, self.durations, self.aging, self.backlog, self.sla = (
            c[name].plot for name in CHARTS
        )
        c["runs"].clicked.connect(self._open_runs)
        c["aging"].clicked.connect(self._open_aging)
        c["backlog"].clicked.connect(self._open_backlog)
        grid = QGridLayout()
        grid.addWidget(c["runs"], 0, 0, 1, 2)
        grid.addWidget(c["sla"], 0, 2)
        grid.addWidget(c["durations"], 1, 0)
        grid.addWidget(c["backlog"], 1, 1)
        grid.addWidget(c["aging"], 1, 2)
        for column in range(3):
            grid.setColumnStretch(column, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(top)
        layout.addLayout(grid, 1)
        self.loaded: set[str] = set()  # charts drawn since the last refresh (tests wait on it)
        self.drills: list[DrillWindow] = []
        self._days: list[str] = []
        self._aging: list[str] = []
        self._holders: list[Backlog] = []
        self.loads = {name: tasks.Latest() for name in CHARTS}
        self.window_choice.currentTextChanged.connect(lambda _: self.refresh())
        self.orchestration.currentTextChanged.connect(lambda _: self._durations())
        session.user_changed.connect(lambda _: self._user_changed())
        self._load_names()
        self.refresh()  # alongside the names: only the durations chart waits for them

    def _load_names(self) -> None:
        service = self.session.service
        tasks.run(
            lambda: [o.name for o in service.definitions.list() if o.active_version], self._names
        )

    def _user_changed(self) -> None:
        """The previous person's figures go at once; the new person's load (or are refused)."""
        for chart in self.charts.values():
            chart.clear_data()
        for window in list(self.drills):
            window.close()
        self.drills.clear()
        self._load_names()
        self.refresh()

    def _names(self, names: list[str]) -> None:
        self.orchestration.blockSignals(True)
        self.orchestration.clear()
        self.orchestration.addItems(names)
        self.orchestration.blockSignals(False)
        self._durations()

    @property
    def days(self) -> int:
        return WINDOWS[self.window_choice.currentText()]

    def _load(self, chart: str, fetch: Callable[[], Any], draw: Callable[[Any], None]) -> None:
        def done(result: Any) -> None:
            draw(result)
            self.loaded.add(chart)

        self.loads[chart].run(fetch, done, lambda exc: self.problem.setText(describe(exc)))

    def refresh(self) -> None:
        """Every chart's query at once, each drawn as soon as its answer comes."""
        self.loaded.clear()
        self.problem.setText("")
        boards, days = self.session.service.dashboards, self.days
        self._load("runs", lambda: boards.runs_per_day(days), self._draw_runs)
        self._load("sla", lambda: boards.sla_breaches(days), self._draw_sla)
        self._durations()
        self._load("backlog", boards.backlog, self._draw_backlog)
        self._load("aging", boards.work_aging, self._draw_aging)

    def _durations(self) -> None:
        name = self.orchestration.currentText()
        if not name:
            return
        boards, days = self.session.service.dashboards, self.days
        self._load("durations", lambda: boards.durations(name, days), self._draw_durations)

    # ------------------------------------------------------------ drawing

    def _draw_runs(self, days: list[DayCount]) -> None:
        self._days = [d.day for d in days]
        self.charts["runs"].set_data(
            [d.day[5:] for d in days],
            {
                "started": [d.started for d in days],
                "completed": [d.completed for d in days],
                "failed": [d.failed for d in days],
            },
            every=max(1, len(days) // 10),
        )

    def _draw_durations(self, stats: list[DurationStat]) -> None:
        steps = [s for s in stats if s.step is not None]
        longest = max([s.p95_seconds or 0.0 for s in steps] + [0.0])
        unit, size = time_unit(longest)
        chart = self.charts["durations"]
        chart.set_title(f"Step time ({unit})")  # median and p95: the legend says which
        chart.set_data(
            [f"{s.stage}.{s.step}" for s in steps],
            {
                "median": [(s.median_seconds or 0.0) / size for s in steps],
                "p95": [(s.p95_seconds or 0.0) / size for s in steps],
            },
        )

    def _draw_aging(self, buckets: list[tuple[str, int, int]]) -> None:
        self._aging = [b[0] for b in buckets]
        self.charts["aging"].set_data(
            self._aging,
            {"open": [b[1] for b in buckets], "of which overdue": [b[2] for b in buckets]},
        )

    def _draw_backlog(self, rows: list[Backlog]) -> None:
        self._holders = rows
        label = {"user": "", "queue": "queue ", "group": "group "}
        self.charts["backlog"].set_data(
            [f"{label.get(r.assignee_kind, '')}{r.assignee}" for r in rows],
            {"open": [r.open for r in rows], "overdue": [r.overdue for r in rows]},
        )

    def _draw_sla(self, days: list[SlaDay]) -> None:
        self.charts["sla"].set_data(
            [d.day[5:] for d in days],
            {"fell due": [d.due for d in days], "breached": [d.breached for d in days]},
            every=max(1, len(days) // 6),
        )

    # ------------------------------------------------------------ a bar's rows

    def drill(self, title: str, kind: str, **pinned: Any) -> DrillWindow:
        window = DrillWindow(self.session, title, kind, pinned)
        self.drills.append(window)
        window.show()
        return window

    def _open_runs(self, index: int, series: str) -> None:
        day = _day(self._days[index])
        span = {"from": day, "to": day + dt.timedelta(days=1)}
        if series == "started":
            self.drill(
                f"Runs started on {day:%Y-%m-%d}",
                "runs",
                started_from=span["from"],
                started_to=span["to"],
            )
            return
        status, verb = ("Completed", "completed") if series == "completed" else ("Error", "failed")
        self.drill(
            f"Runs {verb} on {day:%Y-%m-%d}",
            "runs",
            statuses=(status,),
            ended_from=span["from"],
            ended_to=span["to"],
        )

    def _open_aging(self, index: int, series: str) -> None:
        now = clock.now()
        limits = [0, *(days for days, _ in AGE_BUCKETS)]
        newest = now - dt.timedelta(days=limits[index]) if index > 0 else None
        oldest = now - dt.timedelta(days=limits[index + 1]) if index + 1 < len(limits) else None
        pinned: dict[str, Any] = {
            "statuses": WorkStatus.OPEN,
            "created_from": oldest,
            "created_to": newest,
        }
        title = f"Open work {self._aging[index]} old"
        if series != "open":
            pinned["sla"] = "overdue"
            title += ", overdue"
        self.drill(title, "work", **pinned)

    def _open_backlog(self, index: int, series: str) -> None:
        holder = self._holders[index]
        pinned: dict[str, Any] = {"statuses": WorkStatus.OPEN, "assignee": holder.assignee}
        title = f"Open work of {holder.assignee}"
        if series == "overdue":
            pinned["sla"] = "overdue"
            title = f"Overdue work of {holder.assignee}"
        self.drill(title, "work", **pinned)
