"""Light and dark themes: one style sheet and one Qt palette from each set of colours.

The style sheet styles the widgets it names; the palette covers everything else Qt draws
itself — alternating rows of any list, check marks, focus frames, tooltips, placeholder text —
so nothing keeps light colours in the dark theme. What draws its own colours (the Designer's
canvas, charts) follows through ``on_change``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

PALETTES = {
    "light": {
        "bg": "#f6f7f9",
        "panel": "#ffffff",
        "text": "#1d232b",
        "muted": "#6b7480",
        "accent": "#2f6fdb",
        "border": "#d9dde3",
        "error": "#c0392b",
        "alt": "#f1f3f6",
        "focus": "#2f6fdb",
    },
    "dark": {
        "bg": "#1b1f24",
        "panel": "#23282f",
        "text": "#e7eaee",
        "muted": "#9aa3ad",
        "accent": "#5b9cff",
        "border": "#343b44",
        "error": "#ff6b5e",
        "alt": "#2e353e",
        "focus": "#7fb2ff",
    },
}

SHEET = """
QWidget {{ background: {bg}; color: {text}; font-size: 10pt; }}
QTableView, QLineEdit, QPlainTextEdit, QComboBox, QDateEdit, QDateTimeEdit, QScrollArea {{
  background: {panel}; border: 1px solid {border}; border-radius: 4px; }}
QTableView {{ alternate-background-color: {alt}; gridline-color: {border};
  selection-background-color: {accent}; selection-color: white; }}
QListView, QTreeView {{ background: {panel}; alternate-background-color: {alt};
  border: 1px solid {border}; selection-background-color: {accent}; selection-color: white; }}
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QComboBox:focus, QDateEdit:focus,
QDateTimeEdit:focus, QSpinBox:focus, QTableView:focus, QListView:focus, QTreeView:focus {{
  border: 1px solid {focus}; }}
QPushButton:focus, QCheckBox:focus, QRadioButton:focus {{ outline: 1px solid {focus}; }}
QPushButton:focus {{ border: 1px solid {focus}; }}
QCheckBox::indicator, QTableView::indicator, QListView::indicator {{ width: 14px; height: 14px;
  border: 1px solid {muted}; border-radius: 3px; background: {panel}; }}
QCheckBox::indicator:checked, QTableView::indicator:checked, QListView::indicator:checked {{
  background: {accent}; border-color: {accent}; }}
QCheckBox::indicator:focus {{ border: 2px solid {focus}; }}
QToolTip {{ background: {panel}; color: {text}; border: 1px solid {border}; }}
QHeaderView::section {{ background: {bg}; color: {muted}; border: none;
  border-bottom: 1px solid {border}; padding: 4px; font-weight: 600; }}
QPushButton {{ background: {panel}; border: 1px solid {border}; border-radius: 4px;
  padding: 5px 12px; }}
QPushButton:hover {{ border-color: {accent}; }}
QPushButton[role="primary"] {{ background: {accent}; color: white; border-color: {accent}; }}
QPushButton:disabled {{ color: {muted}; }}
QLabel[role="title"] {{ font-size: 15pt; font-weight: 600; }}
QLabel[role="heading"] {{ font-size: 11pt; font-weight: 600; margin-top: 8px; }}
QLabel[role="muted"] {{ color: {muted}; }}
QLabel[role="error"] {{ color: {error}; }}
QLabel[chip] {{ border: 1px solid {border}; border-radius: 9px; padding: 2px 8px; color: {muted}; }}
QLabel[chip="InProgress"] {{ border-color: {accent}; color: {accent}; font-weight: 600; }}
QLabel[chip="Completed"] {{ background: {alt}; color: {text}; }}
QLabel[chip="Error"] {{ border-color: {error}; color: {error}; }}
QListWidget#navigation {{ background: {panel}; border: none; border-right: 1px solid {border};
  font-size: 11pt; }}
QListWidget#navigation::item {{ padding: 8px 14px; }}
QListWidget#navigation::item:selected {{ background: {accent}; color: white; }}
QStatusBar {{ color: {muted}; }}
"""


_current = "light"
_hooks: list[Callable[[], Callable[[bool], None] | None]] = []


def current() -> str:
    return _current


def is_dark() -> bool:
    return _current == "dark"


def palette(name: str) -> QPalette:
    """Qt's palette for a theme: every role Qt draws with, in the theme's colours."""
    colours = {key: QColor(value) for key, value in PALETTES[name].items()}
    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    for r, key in (
        (role.Window, "bg"),
        (role.WindowText, "text"),
        (role.Base, "panel"),
        (role.AlternateBase, "alt"),
        (role.Text, "text"),
        (role.Button, "panel"),
        (role.ButtonText, "text"),
        (role.BrightText, "error"),
        (role.Highlight, "accent"),
        (role.ToolTipBase, "panel"),
        (role.ToolTipText, "text"),
        (role.PlaceholderText, "muted"),
        (role.Link, "accent"),
        (role.Mid, "border"),
        (role.Dark, "border"),
    ):
        p.setColor(r, colours[key])
    p.setColor(role.HighlightedText, QColor("white"))
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group.Disabled, r, colours["muted"])
    return p


def on_change(hook: Callable[[bool], None], *, now: bool = True) -> None:
    """Call ``hook(dark)`` now (unless ``now`` is false) and whenever the theme changes (a
    bound method is held weakly, so a canvas or chart that closes is simply forgotten)."""
    _hooks.append(weakref.WeakMethod(hook) if hasattr(hook, "__self__") else lambda: hook)
    if now:
        hook(is_dark())


def apply(app: QApplication, name: str) -> str:
    global _current
    name = name if name in PALETTES else "light"
    _current = name
    app.setPalette(palette(name))
    app.setStyleSheet(SHEET.format(**PALETTES[name]))
    for ref in list(_hooks):
        hook = ref()
        if hook is None:
            _hooks.remove(ref)
            continue
        try:
            hook(name == "dark")
        except RuntimeError as exc:  # its widget was deleted meanwhile
            if "deleted" not in str(exc):
                raise
            _hooks.remove(ref)
    return name


def colours() -> dict[str, Any]:
    """The current theme's named colours (for widgets that paint themselves)."""
    return dict(PALETTES[_current])
