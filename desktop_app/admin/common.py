"""What every Admin section shares: a field with its problem under it, a form that checks
as typed through the services, and a list beside a scrolling form."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.messages import describe
from engine.errors import BatonError


def label(text: str = "", role: str | None = None, name: str | None = None) -> QLabel:
    """A wrapping label in one of the theme's roles (title, heading, muted, error)."""
    widget = QLabel(text)
    widget.setWordWrap(True)
    widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if role:
        widget.setProperty("role", role)
    if name:
        widget.setObjectName(name)
    return widget


class Fields:
    """Named editors in a form layout, each with its problem shown right under it."""

    def __init__(self, layout: QFormLayout) -> None:
        self.layout = layout
        self.editors: dict[str, QWidget] = {}
        self.problems: dict[str, QLabel] = {}

    def add(self, name: str, title: str, editor: QWidget) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(editor)
        problem = label(role="error", name=f"{name}Problem")
        problem.hide()
        column.addWidget(problem)
        self.layout.addRow(title, box)
        self.editors[name] = editor
        self.problems[name] = problem
        return editor

    def show(self, problems: Mapping[str, str]) -> None:
        """Show each problem at its field; clear the others."""
        for name, widget in self.problems.items():
            text = problems.get(name, "")
            widget.setText(text)
            widget.setVisible(bool(text))
            self.editors[name].setToolTip(text)


class Checker:
    """Checks a form's values in the background as they are typed: only the latest answer
    counts, so a slow check never overwrites a newer one."""

    def __init__(
        self, check: Callable[[], Mapping[str, str]], show: Callable[[Mapping[str, str]], None]
    ) -> None:
        self.check = check
        self.show = show
        self.generation = 0

    def __call__(self, *_: Any) -> None:
        self.generation += 1
        generation = self.generation
        check = self.check
        tasks.run(
            check,
            lambda problems: self.show(problems) if generation == self.generation else None,
            lambda exc: None,  # a check that cannot run says nothing; saving will tell
        )


def refusal(exc: BaseException) -> tuple[str, dict[str, str]]:
    """A refusal's sentence, and its problems by field where the service gave them."""
    fields = dict(exc.fields) if isinstance(exc, BatonError) else {}
    return describe(exc), fields


def split(left: QWidget, right: QWidget, sizes: tuple[int, int] = (520, 640)) -> QSplitter:
    """A list on the left, its form on the right in a scroll area (small screens)."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(right)
    splitter = QSplitter()
    splitter.setChildrenCollapsible(False)
    splitter.addWidget(left)
    splitter.addWidget(scroll)
    splitter.setStretchFactor(0, 1)
    splitter.setStretchFactor(1, 1)
    splitter.setSizes(list(sizes))
    return splitter
