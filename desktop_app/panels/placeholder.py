"""Panels whose features come in later issues: each says what it will hold."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

COMING = {
    "Records": "Object types, records and each record's Work Guide.",
    "Designer": "Draw and edit orchestrations on a canvas, review and version them.",
    "Runs": "Every run, where it is and why it waits; retry, skip, cancel, migrate.",
    "Work Items": "Every work item with its SLA state; bulk reassignment.",
    "Dashboards": "Runs, durations, aging and SLA breaches over time.",
    "Admin": "People, groups, queues, calendars and mail settings.",
}


class PlaceholderPanel(QWidget):
    def __init__(self, title: str) -> None:
        super().__init__()
        self.title = title
        layout = QVBoxLayout(self)
        heading = QLabel(title)
        heading.setProperty("role", "title")
        text = QLabel(
            COMING.get(title, "") + "\nUntil then, the command line does it: baton --help"
        )
        text.setProperty("role", "muted")
        for label in (heading, text):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)
        layout.addStretch(1)
        layout.insertStretch(0, 1)
