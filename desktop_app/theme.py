"""Light and dark themes: one style sheet, two palettes."""

from __future__ import annotations

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
    },
    "dark": {
        "bg": "#1b1f24",
        "panel": "#23282f",
        "text": "#e7eaee",
        "muted": "#9aa3ad",
        "accent": "#5b9cff",
        "border": "#343b44",
        "error": "#ff6b5e",
        "alt": "#2a3038",
    },
}

SHEET = """
QWidget {{ background: {bg}; color: {text}; font-size: 10pt; }}
QTableView, QLineEdit, QPlainTextEdit, QComboBox, QDateEdit, QDateTimeEdit, QScrollArea {{
  background: {panel}; border: 1px solid {border}; border-radius: 4px; }}
QTableView {{ alternate-background-color: {alt}; gridline-color: {border};
  selection-background-color: {accent}; selection-color: white; }}
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


def apply(app: QApplication, name: str) -> str:
    name = name if name in PALETTES else "light"
    app.setStyleSheet(SHEET.format(**PALETTES[name]))
    return name
