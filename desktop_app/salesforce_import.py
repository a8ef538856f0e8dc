"""File → Import from Salesforce…: choose a Salesforce project folder, import it in the
background, read the report element by element, and open each imported orchestration in
the Designer, where its review findings show.

The import itself is the engine's (``baton.salesforce.import_paths``), the same as the
command line's; this dialog only chooses, waits without blocking, and shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.messages import describe
from desktop_app.session import AppSession
from engine.salesforce.report import ImportReport, Outcome

COLUMNS = ["Salesforce element", "Outcome", "Became", "How / why", "Where"]
MARKS = {
    Outcome.exact: "✓ carried over",
    Outcome.approximated: "≈ approximated",
    Outcome.not_carried: "✗ not carried over",
    Outcome.problem: "⚠ problem",
}


class SalesforceImportDialog(QDialog):
    """``open_in_designer(name)`` is called for an orchestration the admin wants to see."""

    finished_import = Signal(object)  # the ImportReport

    def __init__(
        self,
        session: AppSession,
        open_in_designer: Callable[[str], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.open_in_designer = open_in_designer
        self.report: ImportReport | None = None
        self.setWindowTitle("Import from Salesforce")
        self.resize(1100, 700)

        self.folder = QLineEdit()
        self.folder.setPlaceholderText("A Salesforce project, a flows/ folder, or a .flow file")
        choose = QPushButton("Choose folder…")
        choose.clicked.connect(self.choose_folder)
        self.drafts = QCheckBox("Also keep orchestrations with problems, as drafts to fix")
        self.import_button = QPushButton("Import")
        self.import_button.setDefault(True)
        self.import_button.clicked.connect(lambda: self.start())
        top = QHBoxLayout()
        top.addWidget(QLabel("From:"))
        top.addWidget(self.folder, 1)
        top.addWidget(choose)
        top.addWidget(self.import_button)

        self.summary = QLabel("Choose what to import.")
        self.summary.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setColumnWidth(0, 320)
        self.tree.setColumnWidth(1, 140)
        self.tree.setColumnWidth(2, 260)
        self.tree.setColumnWidth(3, 260)
        self.imported = QListWidget()
        self.imported.itemActivated.connect(self._open_item)
        self.open_button = QPushButton("Open in Designer")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self._open_current)
        self.imported.currentItemChanged.connect(
            lambda item, _: self.open_button.setEnabled(item is not None)
        )
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(QLabel("Imported orchestrations (drafts):"))
        side_layout.addWidget(self.imported, 1)
        side_layout.addWidget(self.open_button)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.tree)
        split.addWidget(side)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_button = buttons.addButton("Save report…", QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(lambda: self.save_report())
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.drafts)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)

    # ------------------------------------------------------------ importing

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a Salesforce project or folder")
        if path:
            self.folder.setText(path)
            self.start(path)

    def start(self, path: str | None = None) -> None:
        """Import ``path`` (default: the one typed) in the background."""
        path = (path or self.folder.text()).strip()
        if not path:
            self.summary.setText("Choose a folder or file to import first.")
            return
        service = self.session.service
        drafts = self.drafts.isChecked()
        self.import_button.setEnabled(False)
        self.summary.setText(f"Importing {path}…")
        tasks.run(
            lambda: service.salesforce.import_paths([path], drafts=drafts),
            self._done,
            self._failed,
        )

    def _failed(self, exc: BaseException) -> None:
        self.import_button.setEnabled(True)
        self.summary.setText(f"The import did not run: {describe(exc)}")

    def _done(self, report: ImportReport) -> None:
        self.import_button.setEnabled(True)
        self.report = report
        self.save_button.setEnabled(True)
        self._show(report)
        self.finished_import.emit(report)
        first = self.imported.item(0)
        if first is not None:
            self.imported.setCurrentItem(first)
            self._open_item(first)

    def _show(self, report: ImportReport) -> None:
        self.tree.clear()
        self.imported.clear()
        problems = 0
        for file_report in report.files:
            title = f"{file_report.kind} {file_report.name}".strip()
            stored = f"stored: {file_report.stored}" if file_report.stored else "not stored"
            top = QTreeWidgetItem([title, stored, "", "", file_report.file])
            self.tree.addTopLevelItem(top)
            for entry in file_report.entries:
                QTreeWidgetItem(
                    top,
                    [entry.element, MARKS[entry.outcome], entry.became, entry.note, entry.where],
                )
            for finding in file_report.findings:
                QTreeWidgetItem(top, ["design review", finding.split(":", 1)[0], "", finding, ""])
            problems += len(file_report.problems)
            top.setExpanded(bool(file_report.problems) or file_report.kind == "orchestration")
            if file_report.kind == "orchestration" and file_report.stored:
                item = QListWidgetItem(f"{file_report.name} — {file_report.stored}")
                item.setData(Qt.ItemDataRole.UserRole, file_report.name)
                self.imported.addItem(item)
        count = self.imported.count()
        noun = "orchestration" if count == 1 else "orchestrations"
        text = f"{count} {noun} imported as drafts."
        if problems:
            text += (
                f" {problems} problem{'s' if problems != 1 else ''} (marked ⚠) kept the rest out."
            )
        self.summary.setText(text)

    # ------------------------------------------------------------ after the import

    def _open_current(self) -> None:
        item = self.imported.currentItem()
        if item is not None:
            self._open_item(item)

    def _open_item(self, item: QListWidgetItem) -> None:
        name = item.data(Qt.ItemDataRole.UserRole)
        if self.open_in_designer is not None and isinstance(name, str):
            self.open_in_designer(name)

    def save_report(self, path: str | None = None) -> None:
        """Write the report as Markdown, or JSON when the name ends in .json."""
        if self.report is None:
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self,
                "Save the import report",
                "salesforce-import.md",
                "Markdown (*.md);;JSON (*.json)",
            )
            if not path:
                return
        text = self.report.to_json() if path.endswith(".json") else self.report.to_markdown()
        report = text

        def write() -> None:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(report)

        def failed(exc: BaseException) -> None:
            QMessageBox.warning(self, "Save report", f"{path} cannot be written: {exc}")

        tasks.run(write, lambda _: self.summary.setText(f"Report saved to {path}"), failed)


def open_dialog(window: Any) -> SalesforceImportDialog:
    """Open the dialog from the main window (File → Import from Salesforce…): imported
    orchestrations open in its Designer."""

    def show(name: str) -> None:
        window.in_designer(lambda: window.designer.versions.open(name, None))

    dialog = SalesforceImportDialog(window.session, show, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
