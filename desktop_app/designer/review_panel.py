"""The design review panel: the draft's problems (it cannot be saved until they are fixed)
and review findings (it can, but they will hurt), most severe first, each with its one-line
fix. Choosing one selects what it is about on the canvas."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.designer.items import SEVERITY
from engine.definitions.inspection import Inspection, Placed


def _dot(color: QColor) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(color)
    return QIcon(pixmap)


class ReviewPanel(QWidget):
    chosen = Signal(object)  # Key

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("reviewPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.summary = QLabel("Checking…")
        self.summary.setObjectName("reviewSummary")
        self.summary.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setObjectName("reviewFindings")
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["Severity", "Where", "What", "Fix"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setColumnWidth(0, 90)
        self.tree.setColumnWidth(1, 170)
        header = self.tree.header()
        # What and Fix share the width; whatever of them is cut off is in each row's tip.
        for column in (2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.tree.itemActivated.connect(self._choose)
        self.tree.itemClicked.connect(self._choose)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree)
        self.shown: list[Placed] = []

    def show_inspection(self, inspection: Inspection) -> None:
        self.tree.clear()
        self.shown = inspection.all
        for placed in self.shown:
            where = ".".join(p for p in (placed.element, placed.step) if p) or (
                placed.where or "orchestration"
            )
            item = QTreeWidgetItem([placed.severity, where, placed.message, placed.fix])
            item.setIcon(0, _dot(SEVERITY.get(placed.severity, QColor("gray"))))
            tip = f"{placed.message}\n\nFix: {placed.fix}" if placed.fix else placed.message
            for column in range(4):
                item.setToolTip(column, tip)
            item.setData(0, Qt.ItemDataRole.UserRole, (placed.element, placed.step))
            self.tree.addTopLevelItem(item)
        if inspection.problems:
            count = len(inspection.problems)
            self.summary.setText(
                f"{count} problem{'s' if count != 1 else ''} to fix before this draft can be "
                "saved as a version."
            )
        elif inspection.findings:
            count = len(inspection.findings)
            self.summary.setText(
                f"Valid. Design review has {count} finding{'s' if count != 1 else ''}."
            )
        else:
            self.summary.setText("Valid, and design review found nothing to improve.")

    def _choose(self, item: QTreeWidgetItem) -> None:
        self.chosen.emit(item.data(0, Qt.ItemDataRole.UserRole))
