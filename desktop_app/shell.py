"""The main window. It only assembles the feature panels, the toolbar and the status bar."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QMainWindow,
    QSizePolicy,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from desktop_app import tasks, theme
from desktop_app.console.dashboards import DashboardsPanel
from desktop_app.console.runs_panel import RunsPanel
from desktop_app.console.work_panel import WorkItemsPanel
from desktop_app.designer.panel import DesignerPanel
from desktop_app.engine_runner import EmbeddedEngine
from desktop_app.panels.inbox import InboxPanel
from desktop_app.panels.placeholder import PlaceholderPanel
from desktop_app.panels.records import RecordsPanel
from desktop_app.session import AppSession

PANELS = ("Inbox", "Records", "Designer", "Runs", "Work Items", "Dashboards", "Admin")


class MainWindow(QMainWindow):
    def __init__(self, session: AppSession, settings: QSettings, engine: EmbeddedEngine) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        self.engine = engine
        self.setWindowTitle("Baton")
        self.setObjectName("mainWindow")

        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setFixedWidth(170)
        self.stack = QStackedWidget()
        self.inbox = InboxPanel(session)
        self.inbox.status.connect(self.say)
        self.records = RecordsPanel(session)
        self.records.status.connect(self.say)
        self.designer = DesignerPanel(session)
        self.designer.status.connect(self.say)
        self.runs = RunsPanel(session)
        self.runs.status.connect(self.say)
        self.work_items = WorkItemsPanel(session)
        self.work_items.status.connect(self.say)
        self.dashboards = DashboardsPanel(session)
        panels: list[QWidget] = [
            self.inbox,
            self.records,
            self.designer,
            self.runs,
            self.work_items,
            self.dashboards,
            PlaceholderPanel(PANELS[6]),
        ]
        for number, (title, panel) in enumerate(zip(PANELS, panels, strict=True), start=1):
            self.navigation.addItem(title)
            self.stack.addWidget(panel)
            action = QAction(title, self)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(
                lambda _=False, row=number - 1: self.navigation.setCurrentRow(row)
            )
            self.addAction(action)
        self.navigation.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.navigation.setCurrentRow(0)
        body = QWidget()
        layout = QHBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.navigation)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(body)

        self._toolbar()
        self.database = QLabel(session.baton.db.display_url)
        self.engine_state = QLabel("engine starting")
        self.statusBar().addPermanentWidget(self.engine_state)
        self.statusBar().addPermanentWidget(self.database)
        engine.state.connect(self.engine_state.setText)
        self._restore()

    def _toolbar(self) -> None:
        bar = QToolBar("Main")
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        refresh = QAction("Refresh", self)
        refresh.setShortcut(QKeySequence.StandardKey.Refresh)
        refresh.triggered.connect(lambda: self.inbox.refresh())
        bar.addAction(refresh)
        dark = QAction("Dark theme", self)
        dark.setCheckable(True)
        dark.setChecked(self.settings.value("theme", "light") == "dark")
        dark.setShortcut(QKeySequence("Ctrl+Shift+D"))
        dark.toggled.connect(self._theme)
        bar.addAction(dark)
        connect = QAction("Database…", self)
        connect.setObjectName("chooseDatabase")
        connect.triggered.connect(self._choose_database)
        bar.addAction(connect)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        bar.addWidget(QLabel("Signed in as "))
        self.users = QComboBox()
        self.users.setObjectName("userSwitcher")
        self.users.addItem(self.session.username)
        self.users.currentTextChanged.connect(self._switch)
        bar.addWidget(self.users)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        baton = self.session.baton
        tasks.run(lambda: [u.username for u in baton.directory.users() if u.active], self._people)

    def _people(self, names: list[str]) -> None:
        current = self.session.username
        self.users.blockSignals(True)
        self.users.clear()
        self.users.addItems(names)
        self.users.setCurrentText(current)
        self.users.blockSignals(False)

    def _switch(self, username: str) -> None:
        if username and username != self.session.username:
            self.session.switch_user(username)
            self.say(f"Signed in as {username}")

    def _theme(self, dark: bool) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            self.settings.setValue("theme", theme.apply(app, "dark" if dark else "light"))

    def _choose_database(self) -> None:
        current = str(self.settings.value("database/url", "") or "")
        url, ok = QInputDialog.getText(
            self,
            "Database",
            "A PostgreSQL URL (postgresql://user@host/db) for a team, or a SQLite file.\n"
            "Empty for this computer's own database. Baton uses it from the next start.",
            text=current,
        )
        if ok:
            self.settings.setValue("database/url", url.strip())
            self.say("The new database is used from the next start of Baton")

    def say(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    def _restore(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)

    def closeEvent(self, event: object) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.engine.stop()
        self.session.close()
        tasks.wait_for_all()
        super().closeEvent(event)  # type: ignore[arg-type]
