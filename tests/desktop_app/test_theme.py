"""The dark theme is whole: panels rendered offscreen (QWidget.grab) and their pixels checked."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication, QCheckBox, QListWidget, QWidget

from desktop_app import tasks, theme
from desktop_app.session import AppSession
from engine.services.baton import Baton
from tests.desktop_app.test_inbox import open_inbox, select

SHOTS = os.environ.get("BATON_THEME_SHOTS")  # a folder: keep the renders to look at


def luminance(colour: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def contrast(a: QColor, b: QColor) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def mean_luminance(image: QImage) -> float:
    step = max(1, min(image.width(), image.height()) // 40)
    samples = [
        luminance(image.pixelColor(x, y))
        for x in range(0, image.width(), step)
        for y in range(0, image.height(), step)
    ]
    return sum(samples) / len(samples)


def shot(widget: QWidget, name: str) -> QImage:
    QApplication.processEvents()
    image = widget.grab().toImage()
    if SHOTS:
        image.save(str(Path(SHOTS) / f"{name}-{theme.current()}.png"))
    return image


@pytest.fixture
def dark(qapp: QApplication) -> Iterator[QApplication]:
    theme.apply(qapp, "dark")
    yield qapp
    theme.apply(qapp, "light")  # the other tests run in the light theme


def test_the_dark_palette_reads_well_everywhere_qt_draws_itself(dark: QApplication) -> None:
    palette = dark.palette()
    role = QPalette.ColorRole
    for background in (role.Base, role.AlternateBase, role.Window, role.Button, role.ToolTipBase):
        assert luminance(palette.color(background)) < 0.05, background  # dark, all of them
        assert contrast(palette.color(role.Text), palette.color(background)) >= 7, background
    assert contrast(palette.color(role.Highlight), palette.color(role.Base)) >= 3  # focus


def test_alternating_rows_and_checkboxes_are_readable_in_the_dark(  # type: ignore[no-untyped-def]
    qtbot, dark: QApplication
) -> None:
    rows = QListWidget()
    rows.setAlternatingRowColors(True)
    rows.addItems([f"row {n}" for n in range(6)])
    box = QCheckBox("Show work others have claimed")
    for widget in (rows, box):
        qtbot.addWidget(widget)
        widget.show()
    image = shot(rows, "alternating-rows")
    even = image.pixelColor(rows.visualItemRect(rows.item(0)).topLeft() + _in(2))
    odd = image.pixelColor(rows.visualItemRect(rows.item(1)).topLeft() + _in(2))
    assert luminance(even) < 0.05 and luminance(odd) < 0.05  # no light stripes
    text = dark.palette().color(QPalette.ColorRole.Text)
    assert contrast(text, odd) >= 7
    # The check box's square stands out from the window behind it.
    picture = shot(box, "checkbox")
    window = dark.palette().color(QPalette.ColorRole.Window)
    square = [
        picture.pixelColor(x, picture.height() // 2) for x in range(0, min(24, picture.width()))
    ]
    assert max(contrast(c, window) for c in square) >= 2.5


def _in(n: int) -> Any:
    from PySide6.QtCore import QPoint

    return QPoint(n, n)


def test_the_inbox_is_dark_through_and_through(qtbot, dark: QApplication, demo: Baton) -> None:  # type: ignore[no-untyped-def]
    panel = open_inbox(qtbot, demo, "alice")
    panel.resize(1300, 700)
    select(qtbot, panel, "intake_check")
    image = shot(panel, "inbox")
    assert mean_luminance(image) < 0.08
    table = shot(panel.table.viewport(), "inbox-table")
    assert mean_luminance(table) < 0.08


def test_the_designer_canvas_follows_the_theme(qtbot, qapp: QApplication, demo: Baton) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.designer.panel import DesignerPanel

    session = AppSession.open(demo, "admin")
    panel = DesignerPanel(session)
    qtbot.addWidget(panel)
    panel.resize(1300, 760)
    panel.show()
    qtbot.waitUntil(lambda: panel.document.name == "customer_onboarding", timeout=10000)
    view = panel.view if hasattr(panel, "view") else None
    assert view is not None
    light = mean_luminance(shot(view.viewport(), "canvas"))
    try:
        theme.apply(qapp, "dark")
        qtbot.waitUntil(lambda: panel.scene.backgroundBrush().color().lightnessF() < 0.2)
        night = mean_luminance(shot(view.viewport(), "canvas"))
        assert light > 0.7 and night < 0.08
    finally:
        theme.apply(qapp, "light")

    assert mean_luminance(shot(view.viewport(), "canvas")) > 0.7  # and back again
    tasks.wait_for_all()
    session.close()


def test_charts_are_dark_in_the_dark_theme(qtbot, dark: QApplication) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.console.charts import Chart

    chart = Chart("Runs per day", "runsPerDay")
    qtbot.addWidget(chart)
    chart.resize(500, 300)
    chart.show()
    assert mean_luminance(shot(chart.plot, "chart")) < 0.08
    theme.apply(dark, "light")
    assert mean_luminance(shot(chart.plot, "chart")) > 0.7
    assert chart.plot.backgroundBrush().color() == QColor(Qt.GlobalColor.white)
