"""A chart a person can read: bars or lines over named categories (days, buckets, people).

Its items are made once and given new data with ``setOpts`` / ``setData``, so a refresh
only moves numbers. Hovering shows the value under the pointer; a click on a bar says which
category and series it was (``clicked``), for the dashboard to open what it counts. The
value axis starts at zero, counts tick in whole numbers and no axis writes ``5e-06``.
Every chart saves itself as PNG and its numbers as CSV.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from desktop_app import theme


@dataclass
class Series:
    name: str
    item: Any  # BarGraphItem or PlotDataItem, made once
    offset: float = 0.0  # from the category's centre
    thickness: float = 0.6
    bar: bool = True
    values: list[float] = field(default_factory=list)


def _nice_step(top: float, ticks: int = 5) -> float:
    """A tick step of 1, 2 or 5 times a power of ten giving about ``ticks`` ticks."""
    raw = max(top, 1e-9) / ticks
    power = 10 ** math.floor(math.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def ask_file(parent: QWidget, title: str, name: str, kind: str) -> Path | None:
    """Where to save; None when the person cancels (tests answer for them)."""
    chosen, _ = QFileDialog.getSaveFileName(
        parent, title, str(Path.home() / name), f"{kind.upper()} files (*.{kind})"
    )
    if not chosen:
        return None
    path = Path(chosen)
    return path if path.suffix else path.with_suffix(f".{kind}")


class Chart(QWidget):
    clicked = Signal(int, str)  # category index, series name

    def __init__(
        self,
        title: str,
        name: str,
        *,
        horizontal: bool = False,
        category: str = "day",
        integer: bool = True,
    ) -> None:
        super().__init__()
        self.name, self.horizontal, self.category, self.integer = (
            name,
            horizontal,
            category,
            integer,
        )
        self.plot = plot = pg.PlotWidget(background="w")
        plot.setObjectName(name)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.showGrid(x=horizontal, y=not horizontal, alpha=0.25)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setTextPen("#475467")
            plot.getAxis(axis).setPen("#d0d5dd")
            plot.getAxis(axis).enableAutoSIPrefix(False)
        plot.addLegend(offset=(-8, 8), labelTextColor="#344054")
        if horizontal:
            plot.getViewBox().invertY(True)
            legend = plot.plotItem.legend
            if legend is not None:  # bottom right: where the shortest bars leave room
                legend.anchor(itemPos=(1, 1), parentPos=(1, 1), offset=(-8, -8))
        self.set_title(title)
        self.tip = pg.TextItem("", color="#101828", fill=pg.mkBrush(255, 255, 255, 230))
        self.tip.setZValue(100)
        self.tip.hide()
        plot.addItem(self.tip, ignoreBounds=True)
        # A chart of nothing but zeros says so, rather than showing empty axes.
        self.empty_note = pg.TextItem("Nothing in this window", color="#667085", anchor=(0.5, 0.5))
        self.empty_note.hide()
        plot.addItem(self.empty_note, ignoreBounds=True)
        self.hover_text = ""
        self.series: list[Series] = []
        self.categories: list[str] = []
        plot.scene().sigMouseMoved.connect(self._hover)
        plot.scene().sigMouseClicked.connect(self._click)
        self.png = QPushButton("PNG…")
        self.png.setObjectName(f"{name}Png")
        self.png.setToolTip("Save this chart as a picture")
        self.png.clicked.connect(lambda: self._ask_and_save("png"))
        self.csv = QPushButton("CSV…")
        self.csv.setObjectName(f"{name}Csv")
        self.csv.setToolTip("Save this chart's numbers as CSV")
        self.csv.clicked.connect(lambda: self._ask_and_save("csv"))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.png, self.csv):
            button.setFlat(True)
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(buttons)
        layout.addWidget(plot, 1)
        theme.on_change(self.apply_theme)

    def apply_theme(self, dark: bool) -> None:
        """The chart's canvas, axes and title in the light or the dark theme."""
        self.ink = "#e7eaee" if dark else "#101828"
        self.plot.setBackground("#23282f" if dark else "w")
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setTextPen("#aab3bd" if dark else "#475467")
            self.plot.getAxis(axis).setPen("#4a5460" if dark else "#d0d5dd")
        self.tip.setColor(self.ink)
        legend = self.plot.plotItem.legend
        if legend is not None:  # the series' names readable on either background
            legend.setLabelTextColor("#c9d1d9" if dark else "#344054")
        self.tip.fill = pg.mkBrush(35, 40, 47, 230) if dark else pg.mkBrush(255, 255, 255, 230)
        self.set_title(self.title)

    def set_title(self, title: str) -> None:
        self.title = title
        self.plot.setTitle(title, color=getattr(self, "ink", "#101828"), size="11pt")

    # ------------------------------------------------------------ series, made once

    def add_bars(self, name: str, colour: str, offset: float = 0.0, thickness: float = 0.6) -> None:
        if self.horizontal:
            item = pg.BarGraphItem(
                x0=0, y=[], width=[], height=thickness, brush=colour, pen=None, name=name
            )
        else:
            item = pg.BarGraphItem(
                x=[], height=[], width=thickness, brush=colour, pen=None, name=name
            )
        self.plot.addItem(item)
        self.series.append(Series(name, item, offset, thickness))

    def add_line(self, name: str, colour: str, *, fill: Any = None) -> None:
        options: dict[str, Any] = {"pen": pg.mkPen(colour, width=2), "name": name}
        if fill is not None:
            options.update(fillLevel=0, brush=fill)
        item = self.plot.plot([], [], **options)
        self.series.append(Series(name, item, bar=False))

    def set_data(
        self, categories: Sequence[str], values: dict[str, Sequence[float]], every: int = 1
    ) -> None:
        """New numbers for every series (by name), over ``categories``."""
        self.categories = list(categories)
        places = list(range(len(categories)))
        for s in self.series:
            s.values = [float(v or 0) for v in values.get(s.name, [0.0] * len(places))]
            at = [p + s.offset for p in places]
            if not s.bar:
                s.item.setData(places, s.values)
            elif self.horizontal:
                s.item.setOpts(x0=0, y=at, width=s.values, height=s.thickness)
            else:
                s.item.setOpts(x=at, height=s.values, width=s.thickness)
        ticks = [(i, label) for i, label in enumerate(categories) if i % max(1, every) == 0]
        self.plot.getAxis("left" if self.horizontal else "bottom").setTicks([ticks, []])
        self._ranges(len(places))
        self._hide_tip()
        empty = not any(v for s in self.series for v in s.values)
        self.empty_note.setVisible(empty)
        if empty:
            middle = (max(len(places), 1) - 1) / 2  # the value axis spans 0 to 1 then
            if self.horizontal:
                self.empty_note.setPos(0.5, middle)
            else:
                self.empty_note.setPos(middle, 0.5)

    def _ranges(self, count: int) -> None:
        top = max((v for s in self.series for v in s.values), default=0.0)
        top = top * 1.08 if top > 0 else 1.0
        value_axis = self.plot.getAxis("bottom" if self.horizontal else "left")
        if self.integer:  # counts: whole numbers only
            step = max(1.0, _nice_step(top))
            value_axis.setTickSpacing(step, step)
            top = max(top, step)
        else:
            value_axis.setTickSpacing()
        span = (-0.6, max(count, 1) - 0.4)
        if self.horizontal:
            self.plot.setLimits(xMin=0, xMax=top)
            self.plot.setRange(xRange=(0, top), yRange=span, padding=0)
        else:
            self.plot.setLimits(yMin=0, yMax=top)
            self.plot.setRange(xRange=span, yRange=(0, top), padding=0)

    def clear_data(self) -> None:
        self.set_data([], {})

    # ------------------------------------------------------------ what is under the pointer

    def hit(self, at: QPointF) -> tuple[int, Series] | None:
        """The category and series drawn at ``at`` (view coordinates), if any."""
        place, value = (at.y(), at.x()) if self.horizontal else (at.x(), at.y())
        for s in reversed(self.series):  # the last added is drawn on top
            if s.bar:
                for i, length in enumerate(s.values):
                    if abs(place - (i + s.offset)) <= s.thickness / 2 and 0 <= value <= length:
                        return i, s
        index = round(place)
        lines = [s for s in self.series if not s.bar and 0 <= index < len(s.values)]
        if lines and abs(place - index) <= 0.5:
            return index, min(lines, key=lambda s: abs(s.values[index] - value))
        return None

    def describe(self, index: int, series: Series) -> str:
        value = series.values[index]
        shown = f"{value:,.0f}" if self.integer else f"{value:,.2f}"
        return f"{self.categories[index]} · {series.name}: {shown}"

    def bar_centre(self, index: int, name: str) -> QPointF:
        """The middle of what shows of a bar, in scene coordinates (where a test clicks it): a
        bar drawn over it in the same place (overdue work over open work) hides its start."""
        s = next(s for s in self.series if s.name == name)
        place = index + s.offset
        above = self.series[self.series.index(s) + 1 :]
        hidden = max(
            (t.values[index] for t in above if t.bar and t.offset == s.offset),
            default=0.0,
        )
        middle = (min(hidden, s.values[index]) + s.values[index]) / 2
        point = QPointF(middle, place) if self.horizontal else QPointF(place, middle)
        scene: QPointF = self.plot.getViewBox().mapViewToScene(point)
        return scene

    def _view_point(self, scene_pos: Any) -> QPointF | None:
        box = self.plot.getViewBox()
        if not box.sceneBoundingRect().contains(scene_pos):
            return None
        at: QPointF = box.mapSceneToView(scene_pos)
        return at

    def _hover(self, scene_pos: Any) -> None:
        at = self._view_point(scene_pos)
        found = self.hit(at) if at is not None else None
        if found is None or at is None:
            self._hide_tip()
            return
        self.hover_text = self.describe(*found)
        self.plot.setToolTip(self.hover_text)
        self.tip.setText(self.hover_text)
        self.tip.setPos(at)
        self.tip.show()

    def _hide_tip(self) -> None:
        self.hover_text = ""
        self.plot.setToolTip("")
        self.tip.hide()

    def _click(self, event: Any) -> None:
        at = self._view_point(event.scenePos())
        found = self.hit(at) if at is not None else None
        if found is not None and found[1].bar:
            self.clicked.emit(found[0], found[1].name)

    # ------------------------------------------------------------ saving

    def rows(self) -> list[list[Any]]:
        """The chart's numbers: a header, then a row per category."""
        names = [s.name for s in self.series]
        table: list[list[Any]] = [[self.category, *names]]
        for i, label in enumerate(self.categories):
            table.append([label, *(_plain(s.values[i]) for s in self.series)])
        return table

    def save_csv(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows(self.rows())

    def save_png(self, path: Path) -> None:
        self._hide_tip()
        if not self.plot.grab().save(str(path), "PNG"):
            raise OSError(f"could not write the picture {path}")

    def _ask_and_save(self, kind: str) -> None:
        from desktop_app.messages import show_error

        name = f"{self.name.removeprefix('chart').lower() or 'chart'}.{kind}"
        path = ask_file(self, f"Save {self.title}", name, kind)
        if path is None:
            return
        try:
            self.save_png(path) if kind == "png" else self.save_csv(path)
        except OSError as exc:
            show_error(self, exc)


def _plain(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 4)
