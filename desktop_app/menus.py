"""The main window's menu bar: File, Edit, View, Run and Help, as desktop programs have them.

Every command here also lives somewhere on screen (a panel's button or tool bar); the menus
name each with its shortcut. A shortcut is bound once: the Designer's own editing keys stay
the Designer's (active while it has the focus), and the Edit menu hands each command to
whatever has the focus — a text field, or the Designer's canvas.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QTextEdit,
    QVBoxLayout,
)

if TYPE_CHECKING:
    from desktop_app.designer.panel import DesignerPanel
    from desktop_app.shell import MainWindow

TEXT_EDITORS = (QLineEdit, QPlainTextEdit, QTextEdit)


def with_shortcut_tip(action: QAction) -> QAction:
    """The tool tip names the shortcut, as people expect from a desktop program."""
    keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    text = action.toolTip() or action.text().replace("&", "")
    if keys and keys not in text:
        action.setToolTip(f"{text} ({keys})")
    return action


class MainMenus:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        bar = window.menuBar()
        self.file = bar.addMenu("&File")
        self.edit = bar.addMenu("&Edit")
        self.view = bar.addMenu("&View")
        self.run = bar.addMenu("&Run")
        self.help = bar.addMenu("&Help")
        self._file()
        self._edit()
        self._view()
        self._run()
        self._help()
        for menu in (self.file, self.view, self.run):
            menu.aboutToShow.connect(self._enable)
        window.session.user_changed.connect(lambda _: self._enable())
        self._enable()

    def watch_designer(self, designer: DesignerPanel) -> None:
        """The Designer was built (it is, when first shown): Save follows its document."""
        document = designer.document
        document.changed.connect(self._enable)
        document.saved.connect(self._enable)
        document.read_only_changed.connect(lambda _: self._enable())

    def action(
        self,
        menu: QMenu,
        text: str,
        slot: Callable[[], object],
        shortcut: str | QKeySequence.StandardKey | None = None,
        *,
        name: str = "",
    ) -> QAction:
        """A window-wide command (its shortcut works whatever panel is shown)."""
        action = QAction(text, self.window)
        action.setObjectName(name or text.replace("&", "").rstrip("…").replace(" ", "_").lower())
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _=False: slot())
        self.window.addAction(action)
        menu.addAction(with_shortcut_tip(action))
        return action

    def designer_action(self, menu: QMenu, text: str, keys: str, name: str) -> QAction:
        """A command of the Designer's own (its keys work while the Designer has the focus):
        the menu shows it with its keys, and a click shows the Designer and does it there."""
        action = QAction(text, self.window)
        action.setObjectName(f"menu_{name}")
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # the Designer's keys
        w = self.window
        action.triggered.connect(
            lambda _=False: w.in_designer(lambda: getattr(w.designer, name).trigger())
        )
        menu.addAction(with_shortcut_tip(action))
        self.designer_actions[name] = action
        return action

    # ------------------------------------------------------------ File

    def _file(self) -> None:
        w = self.window

        def versions(command: str) -> Callable[[], None]:
            # The Designer is built when first shown: it is asked for only when the command runs.
            return lambda: w.in_designer(lambda: getattr(w.designer.versions, command)())

        self.new = self.action(self.file, "&New orchestration…", versions("new"), "Ctrl+N")
        self.import_ = self.action(
            self.file, "&Open / Import…", versions("import_file"), "Ctrl+O", name="import"
        )
        self.save = self.action(self.file, "&Save draft", versions("save"), "Ctrl+S")
        self.export = self.action(self.file, "&Export…", versions("export_file"), "Ctrl+E")
        self.salesforce = self.action(
            self.file, "Import from &Salesforce…", self.import_salesforce, name="import_salesforce"
        )
        self.file.addSeparator()
        self.action(self.file, "Switch &database…", w.choose_database, name="switch_database")
        self.file.addSeparator()
        self.action(self.file, "&Quit", w.close, "Ctrl+Q", name="quit")

    # ------------------------------------------------------------ Edit

    def _edit(self) -> None:
        for text, keys, name in (
            ("&Undo", QKeySequence.StandardKey.Undo, "undo"),
            ("&Redo", QKeySequence.StandardKey.Redo, "redo"),
            ("Cu&t", QKeySequence.StandardKey.Cut, "cut"),
            ("&Copy", QKeySequence.StandardKey.Copy, "copy"),
            ("&Paste", QKeySequence.StandardKey.Paste, "paste"),
            ("&Delete", QKeySequence.StandardKey.Delete, "delete"),
            ("Select &all", QKeySequence.StandardKey.SelectAll, "select_all"),
        ):
            # The keys themselves reach the focused widget (a text field, or the Designer,
            # whose actions own them); the menu shows them and hands its clicks on.
            action = QAction(text, self.edit)
            action.setObjectName(f"edit_{name}")
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            action.triggered.connect(lambda _=False, n=name: self.edit_command(n))
            self.edit.addAction(action)

    def edit_command(self, name: str) -> None:
        """Hand an Edit command to what has the focus: a text field, else the Designer."""
        focus = QApplication.focusWidget()
        if isinstance(focus, TEXT_EDITORS):
            method = {"delete": "del_" if isinstance(focus, QLineEdit) else "cut"}.get(name, name)
            method = {"select_all": "selectAll"}.get(method, method)
            call = getattr(focus, method, None)
            if call is not None:
                call()
            return
        designer = self.window.built_designer
        if designer is None or self.window.stack.currentWidget() is not designer:
            return
        commands: dict[str, Callable[[], object]] = {
            "undo": designer.document.stack.undo,
            "redo": designer.document.stack.redo,
            "copy": designer.copy_selected,
            "cut": designer.cut_selected,
            "paste": designer.paste,
            "delete": designer.delete_selected,
        }
        command = commands.get(name)
        if command is not None:
            command()

    # ------------------------------------------------------------ View

    def _view(self) -> None:
        w = self.window
        for action in w.panel_actions:
            self.view.addAction(with_shortcut_tip(action))
        self.view.addSeparator()
        self.designer_actions: dict[str, QAction] = {}
        self.designer_action(self.view, "Zoom in", "Ctrl+=", "zoom_in_action")
        self.designer_action(self.view, "Zoom out", "Ctrl+-", "zoom_out_action")
        self.designer_action(self.view, "Fit", "Ctrl+0", "fit_action")
        self.view.addSeparator()
        self.dark = QAction("&Dark theme", w)
        self.dark.setObjectName("dark_theme")
        self.dark.setCheckable(True)
        self.dark.setChecked(w.settings.value("theme", "light") == "dark")
        self.dark.toggled.connect(w.set_dark)
        self.view.addAction(self.dark)
        self.full_screen = self.action(self.view, "&Full screen", w.toggle_full_screen, "F11")
        self.refresh = self.action(
            self.view, "&Refresh", w.refresh_panel, QKeySequence.StandardKey.Refresh
        )

    # ------------------------------------------------------------ Run

    def _run(self) -> None:
        w = self.window
        self.start_run = self.action(self.run, "&Start a run…", w.start_run, "Ctrl+Shift+R")
        self.designer_action(self.run, "Try it", "Ctrl+R", "try_action")
        self.designer_action(self.run, "Tests", "Ctrl+T", "tests_action")

    # ------------------------------------------------------------ Help

    def _help(self) -> None:
        self.action(self.help, "&User guide", self.open_guide, "F1")
        self.action(self.help, "&Keyboard shortcuts", self.show_shortcuts, "Ctrl+/")
        self.action(self.help, "&About Baton", self.about, name="about")

    def import_salesforce(self) -> None:
        """A Salesforce project folder in, Baton drafts out, with the report of what became
        of each element (imported only when first asked for: it is seldom used)."""
        from desktop_app.salesforce_import import open_dialog

        open_dialog(self.window)

    def open_guide(self) -> None:
        """The user guide beside the program (docs/desktop.md), in the desktop's viewer."""
        from pathlib import Path

        guide = Path(__file__).resolve().parents[1] / "docs" / "desktop.md"
        if not guide.exists() or not QDesktopServices.openUrl(QUrl.fromLocalFile(str(guide))):
            self.window.say("The user guide is docs/desktop.md in Baton's source")

    def shortcuts(self) -> list[tuple[str, str]]:
        """(command, keys) of every command with a shortcut, for the Help dialog."""
        found: dict[str, str] = {}
        for action in self.window.findChildren(QAction):
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            text = action.text().replace("&", "")
            if keys and text:
                found.setdefault(text, keys)
        return sorted(found.items())

    def show_shortcuts(self) -> QDialog:
        dialog = QDialog(self.window)
        dialog.setObjectName("shortcutsDialog")
        dialog.setWindowTitle("Keyboard shortcuts")
        table = QTableWidget(0, 2, dialog)
        table.setHorizontalHeaderLabels(["Command", "Keys"])
        for text, keys in self.shortcuts():
            row = table.rowCount()
            table.insertRow(row)
            table.setItem(row, 0, QTableWidgetItem(text))
            table.setItem(row, 1, QTableWidgetItem(keys))
        table.horizontalHeader().setStretchLastSection(True)
        table.resizeColumnToContents(0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(table)
        layout.addWidget(buttons)
        dialog.resize(480, 520)
        dialog.open()
        return dialog

    def about(self) -> QMessageBox:
        box = QMessageBox(self.window)
        box.setObjectName("aboutBox")
        box.setWindowTitle("About Baton")
        box.setText("Baton — long-running processes between people and systems")
        box.setInformativeText(versions(self.window.session.baton.db.display_url))
        box.open()
        return box

    def _enable(self) -> None:
        """Designer commands are offered to those who may design."""
        from desktop_app.shell import DESIGNER_ROW

        w = self.window
        designing = w.may_see(DESIGNER_ROW)
        for action in (self.new, self.import_, self.export, self.salesforce):
            action.setEnabled(designing)
        designer = w.built_designer
        document = designer.document if designer is not None else None
        self.save.setEnabled(
            designing and document is not None and document.modified and not document.read_only
        )
        for name, action in self.designer_actions.items():
            # As the Designer's own: Try it and Tests wait while a try or a test run is on.
            own = getattr(designer, name, None)
            action.setEnabled(designing and (own is None or own.isEnabled()))


def versions(database: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    import PySide6

    def of(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:  # a source tree that was not installed
            return "(not installed)"

    baton = of("baton")
    return "\n".join(
        [
            f"Baton {baton}",
            f"Python {platform.python_version()} on {sys.platform}",
            f"Qt {PySide6.QtCore.qVersion()}, PySide6 {PySide6.__version__}",
            f"SQLAlchemy {of('SQLAlchemy')}",
            f"Database: {database}",
        ]
    )
