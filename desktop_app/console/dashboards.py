"""Dashboards: run history in charts (pyqtgraph). Every number comes from an SQL aggregate
of the engine's dashboards service; each chart loads on its own in the background."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
from desktop_app.messages import describe
from desktop_app.session import AppSession
from engine.services.dashboards import Backlog, DayCount, DurationStat, SlaDay

BLUE, GREEN, RED, ORANGE, GREY = "#2e6fdb", "#1f9d55", "#d92d20", "#f79009", "#98a2b3"
WINDOWS = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90, "Last year": 365}


def _plot(title: str, name: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w")
    plot.setObjectName(name)
    plot.setTitle(title, color="#101828", size="11pt")
    plot.showGrid(x=False, y=True, alpha=0.25)
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    for axis in ("left", "bottom"):
        plot.getAxis(axis).setTextPen("#475467")
        plot.getAxis(axis).setPen("#d0d5dd")
    plot.addLegend(offset=(-8, 8), labelTextColor="#344054")
    return plot


def _bars(
    plot: pg.PlotWidget,
    xs: Sequence[float],
    heights: Sequence[float],
    width: float,
    colour: str,
    name: str,
) -> None:
    item = pg.BarGraphItem(
        x=list(xs), height=list(heights), width=width, brush=colour, pen=None, name=name
    )
    plot.addItem(item)


def _hbars(
    plot: pg.PlotWidget,
    ys: Sequence[float],
    lengths: Sequence[float],
    thickness: float,
    colour: str,
    name: str,
) -> None:
    item = pg.BarGraphItem(
        x0=0, y=list(ys), width=list(lengths), height=thickness, brush=colour, pen=None, name=name
    )
    plot.addItem(item)


def _row_labels(plot: pg.PlotWidget, labels: Sequence[str]) -> None:
    plot.getAxis("left").setTicks([list(enumerate(labels)), []])
    plot.getViewBox().invertY(True)
    legend = plot.plotItem.legend
    if legend is not None:  # bottom right: where the shortest bars leave room
        legend.anchor(itemPos=(1, 1), parentPos=(1, 1), offset=(-8, -8))


def _ticks(plot: pg.PlotWidget, labels: Sequence[str], every: int = 1) -> None:
    ticks = [(i, label) for i, label in enumerate(labels) if i % every == 0]
    plot.getAxis("bottom").setTicks([ticks, []])


def _hours(seconds: float | None) -> float:
    return (seconds or 0.0) / 3600.0


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
        self.runs = _plot("Runs per day", "chartRuns")
        self.durations = _plot("Step time in hours: median and p95", "chartDurations")
        self.aging = _plot("Open work by age", "chartAging")
        self.backlog = _plot("Backlog by assignee and queue", "chartBacklog")
        self.sla = _plot("Work falling due, and SLA breaches, per day", "chartSla")
        grid = QGridLayout()
        grid.addWidget(self.runs, 0, 0, 1, 2)
        grid.addWidget(self.sla, 0, 2)
        grid.addWidget(self.durations, 1, 0)
        grid.addWidget(self.backlog, 1, 1)
        grid.addWidget(self.aging, 1, 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(top)
        layout.addLayout(grid, 1)
        self.loaded: set[str] = set()  # charts drawn since the last refresh (tests wait on it)
        self.window_choice.currentTextChanged.connect(lambda _: self.refresh())
        self.orchestration.currentTextChanged.connect(lambda _: self._durations())
        session.user_changed.connect(lambda _: self._user_changed())
        self._load_names()

    def _load_names(self) -> None:
        service = self.session.service
        tasks.run(
            lambda: [o.name for o in service.definitions.list() if o.active_version], self._names
        )

    def _user_changed(self) -> None:
        """The previous person's figures go at once; the new person's load (or are refused)."""
        for plot in (self.runs, self.durations, self.aging, self.backlog, self.sla):
            plot.clear()
        self._load_names()

    def _names(self, names: list[str]) -> None:
        self.orchestration.blockSignals(True)
        self.orchestration.clear()
        self.orchestration.addItems(names)
        self.orchestration.blockSignals(False)
        self.refresh()

    @property
    def days(self) -> int:
        return WINDOWS[self.window_choice.currentText()]

    def _load(self, chart: str, fetch: Callable[[], Any], draw: Callable[[Any], None]) -> None:
        def done(result: Any) -> None:
            draw(result)
            self.loaded.add(chart)

        tasks.run(fetch, done, lambda exc: self.problem.setText(describe(exc)))

    def refresh(self) -> None:
        self.loaded.clear()
        self.problem.setText("")
        boards, days = self.session.service.dashboards, self.days
        self._load("runs", lambda: boards.runs_per_day(days), self._draw_runs)
        self._load("aging", boards.work_aging, self._draw_aging)
        self._load("backlog", boards.backlog, self._draw_backlog)
        self._load("sla", lambda: boards.sla_breaches(days), self._draw_sla)
        self._durations()

    def _durations(self) -> None:
        name = self.orchestration.currentText()
        if not name:
            return
        boards, days = self.session.service.dashboards, self.days
        self._load("durations", lambda: boards.durations(name, days), self._draw_durations)

    # ------------------------------------------------------------ drawing

    def _draw_runs(self, days: list[DayCount]) -> None:
        plot = self.runs
        plot.clear()
        xs = range(len(days))
        _bars(plot, [x - 0.27 for x in xs], [d.started for d in days], 0.27, BLUE, "started")
        _bars(plot, list(xs), [d.completed for d in days], 0.27, GREEN, "completed")
        _bars(plot, [x + 0.27 for x in xs], [d.failed for d in days], 0.27, RED, "failed")
        _ticks(plot, [d.day[5:] for d in days], max(1, len(days) // 10))

    def _draw_durations(self, stats: list[DurationStat]) -> None:
        plot = self.durations
        plot.clear()
        steps = [s for s in stats if s.step is not None]
        ys = range(len(steps))
        medians = [_hours(s.median_seconds) for s in steps]
        _hbars(plot, [y - 0.18 for y in ys], medians, 0.36, BLUE, "median")
        p95 = [_hours(s.p95_seconds) for s in steps]
        _hbars(plot, [y + 0.18 for y in ys], p95, 0.36, ORANGE, "p95")
        _row_labels(plot, [f"{s.stage}.{s.step}" for s in steps])
        longest = max([*medians, *p95], default=0.0)
        if longest > 0:  # the whole of the longest bar, with room for its end
            plot.setXRange(0, longest * 1.05, padding=0)

    def _draw_aging(self, buckets: list[tuple[str, int, int]]) -> None:
        plot = self.aging
        plot.clear()
        xs = range(len(buckets))
        _bars(plot, list(xs), [b[1] for b in buckets], 0.6, GREY, "open")
        _bars(plot, list(xs), [b[2] for b in buckets], 0.6, RED, "of which overdue")
        _ticks(plot, [b[0] for b in buckets])

    def _draw_backlog(self, rows: list[Backlog]) -> None:
        plot = self.backlog
        plot.clear()
        ys = list(range(len(rows)))
        _hbars(plot, ys, [r.open for r in rows], 0.6, BLUE, "open")
        _hbars(plot, ys, [r.overdue for r in rows], 0.6, RED, "overdue")
        label = {"user": "", "queue": "queue ", "group": "group "}
        _row_labels(plot, [f"{label.get(r.assignee_kind, '')}{r.assignee}" for r in rows])

    def _draw_sla(self, days: list[SlaDay]) -> None:
        plot = self.sla
        plot.clear()
        xs = list(range(len(days)))
        plot.plot(xs, [d.due for d in days], pen=pg.mkPen(GREY, width=2), name="fell due")
        plot.plot(
            xs,
            [d.breached for d in days],
            pen=pg.mkPen(RED, width=2),
            name="breached",
            fillLevel=0,
            brush=pg.mkBrush(217, 45, 32, 50),
        )
        _ticks(plot, [d.day[5:] for d in days], max(1, len(days) // 6))
