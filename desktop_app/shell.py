"""The main window. It only assembles the feature panels, the toolbar and the status bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
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
from desktop_app.account import AccountBar
from desktop_app.engine_runner import EmbeddedEngine
from desktop_app.links import BadLink, Link
from desktop_app.menus import MainMenus
from desktop_app.messages import describe
from desktop_app.panels.inbox import InboxPanel
from desktop_app.session import AppSession, describe_user
from desktop_app.signin import SignInDialog
from engine.services.dto import UserInfo

# Records, the Designer, the console, the dashboards (pyqtgraph) and Admin are imported and
# built when first shown, so the window opens without them (and without the definition
# models they use); the menus' Designer commands show it first.
if TYPE_CHECKING:
    from desktop_app.admin.panel import AdminPanel
    from desktop_app.console.dashboards import DashboardsPanel
    from desktop_app.console.runs_panel import RunsPanel
    from desktop_app.console.work_panel import WorkItemsPanel
    from desktop_app.designer.panel import DesignerPanel
    from desktop_app.panels.records import RecordsPanel
    from engine.services.queries import RunFilter, WorkFilter

PANELS = ("Inbox", "Records", "Designer", "Runs", "Work Items", "Dashboards", "Admin")
RECORDS_ROW = PANELS.index("Records")
# Who sees each panel; the services check every call again, this only keeps the screen honest.
EVERYONE, STAFF, ADMIN = "everyone", "staff", "admin"
PANEL_RIGHTS = (EVERYONE, EVERYONE, STAFF, STAFF, STAFF, STAFF, ADMIN)
DESIGNER_ROW = PANELS.index("Designer")


class MainWindow(QMainWindow):
    def __init__(self, session: AppSession, settings: QSettings, engine: EmbeddedEngine) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        self.engine = engine
        self.signin: SignInDialog | None = None
        self._leaving = False  # set once unsaved work was saved or let go: then close
        self.setWindowTitle("Baton")
        self.setObjectName("mainWindow")

        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setFixedWidth(170)
        self.stack = QStackedWidget()
        self.inbox = InboxPanel(session)
        self.inbox.status.connect(self.say)
        self._lazy: dict[int, Callable[[], QWidget]] = {
            RECORDS_ROW: self._make_records,
            DESIGNER_ROW: self._make_designer,
            3: self._make_runs,
            4: self._make_work_items,
            5: self._make_dashboards,
            6: self._make_admin,
        }
        self._built: dict[int, QWidget] = {}
        panels: list[QWidget] = [self.inbox]
        panels += [QWidget() for _ in self._lazy]  # placeholders until first shown
        self.panel_actions: list[QAction] = []
        for number, (title, panel) in enumerate(zip(PANELS, panels, strict=True), start=1):
            self.navigation.addItem(title)
            self.stack.addWidget(panel)
            action = QAction(title, self)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(
                lambda _=False, row=number - 1: self.navigation.setCurrentRow(row)
            )
            self.addAction(action)
            self.panel_actions.append(action)
        self.navigation.currentRowChanged.connect(self._show_row)
        self.navigation.setCurrentRow(0)
        body = QWidget()
        layout = QHBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.navigation)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(body)

        self.menus = MainMenus(self)
        self._toolbar()
        self.database = QLabel(session.baton.db.display_url)
        self.engine_state = QLabel("engine starting")
        self.statusBar().addPermanentWidget(self.engine_state)
        self.statusBar().addPermanentWidget(self.database)
        engine.state.connect(self.engine_state.setText)
        session.user_changed.connect(lambda _: self._apply_rights())
        self._apply_rights()
        self._restore()

    # ------------------------------------------------------------ panels built when first shown

    def _show_row(self, row: int) -> None:
        if row in self._lazy:
            self._panel(row)
        self.stack.setCurrentIndex(row)

    def _panel(self, row: int) -> QWidget:
        """The panel of ``row``, built (in place of its placeholder) the first time."""
        panel = self._built.get(row)
        if panel is None:
            panel = self._built[row] = self._lazy[row]()
            placeholder = self.stack.widget(row)
            current = self.stack.currentIndex()
            self.stack.insertWidget(row, panel)
            if placeholder is not None:
                self.stack.removeWidget(placeholder)
                placeholder.deleteLater()
            self.stack.setCurrentIndex(current)
        return panel

    def _make_records(self) -> QWidget:
        from desktop_app.panels.records import RecordsPanel

        panel = RecordsPanel(self.session)
        panel.status.connect(self.say)
        return panel

    def _make_designer(self) -> QWidget:
        from desktop_app.designer.panel import DesignerPanel

        panel = DesignerPanel(self.session)
        panel.status.connect(self.say)
        self.menus.watch_designer(panel)
        return panel

    def _make_runs(self) -> QWidget:
        from desktop_app.console.runs_panel import RunsPanel

        panel = RunsPanel(self.session)
        panel.status.connect(self.say)
        panel.show_work.connect(self.show_work_items)
        return panel

    def _make_work_items(self) -> QWidget:
        from desktop_app.console.work_panel import WorkItemsPanel

        panel = WorkItemsPanel(self.session)
        panel.status.connect(self.say)
        return panel

    def _make_dashboards(self) -> QWidget:
        from desktop_app.console.dashboards import DashboardsPanel

        return DashboardsPanel(self.session)

    def _make_admin(self) -> QWidget:
        from desktop_app.admin.panel import AdminPanel

        panel = AdminPanel(self.session)
        panel.status.connect(self.say)
        return panel

    @property
    def records(self) -> RecordsPanel:
        return cast("RecordsPanel", self._panel(RECORDS_ROW))

    @property
    def designer(self) -> DesignerPanel:
        return cast("DesignerPanel", self._panel(DESIGNER_ROW))

    @property
    def built_designer(self) -> DesignerPanel | None:
        """The Designer if it was shown (or asked for) already, else None: nothing in it yet."""
        return cast("DesignerPanel | None", self._built.get(DESIGNER_ROW))

    @property
    def runs(self) -> RunsPanel:
        return cast("RunsPanel", self._panel(3))

    @property
    def work_items(self) -> WorkItemsPanel:
        return cast("WorkItemsPanel", self._panel(4))

    @property
    def dashboards(self) -> DashboardsPanel:
        return cast("DashboardsPanel", self._panel(5))

    @property
    def admin(self) -> AdminPanel:
        return cast("AdminPanel", self._panel(6))

    def may_see(self, row: int) -> bool:
        rights = PANEL_RIGHTS[row]
        if rights == ADMIN:
            return self.session.is_admin
        return rights == EVERYONE or self.session.is_staff

    def _apply_rights(self) -> None:
        """Show the panels the signed-in person may use; leave one they may not."""
        for row, action in enumerate(self.panel_actions):
            allowed = self.may_see(row)
            item = self.navigation.item(row)
            if item is not None:
                item.setHidden(not allowed)
            action.setEnabled(allowed)
        if not self.may_see(max(self.navigation.currentRow(), 0)):
            self.navigation.setCurrentRow(0)

    def _toolbar(self) -> None:
        bar = QToolBar("Main")
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.addAction(self.menus.refresh)
        bar.addAction(self.menus.start_run)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        self.account = AccountBar(self.session)
        self.account.sign_out.connect(lambda: self.sign_out())
        self.session.user_changed.connect(
            lambda _: self.say(f"Signed in as {describe_user(self.session.user)}")
        )
        bar.addWidget(self.account)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

    # ------------------------------------------------------------ baton:// links

    def open_link(self, text: str) -> None:
        """Show what a link names, as the person it was meant for (asking them to sign in on
        a shared database when someone else is signed in)."""
        try:
            link = Link.parse(text)
        except BadLink as exc:
            self.say(str(exc))
            return
        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()
        wanted = link.for_user
        if wanted is None or wanted == self.session.username:
            self._follow(link)
        elif self.session.shared:
            self.say(f"This link is for {wanted}: sign in as {wanted} to open it")
            self.sign_out(prefill=wanted, then=lambda: self._follow(link))
        else:
            directory = self.session.service.directory

            def as_them(user: UserInfo) -> None:
                self.session.switch_user(user)
                self._follow(link)

            tasks.run(lambda: directory.user(wanted), as_them, lambda e: self.say(describe(e)))

    def _follow(self, link: Link) -> None:
        if link.kind == "work":
            self.navigation.setCurrentRow(self.panel_row(self.inbox))
            self.inbox.open_item(link.id)
        elif self.session.is_staff:
            self.navigation.setCurrentRow(self.panel_row(self.runs))
            self.runs.runs.open_run(link.id)
        else:
            self.say(f"Run {link.id}: runs are shown to supervisors and admins")

    def sign_out(
        self, *, prefill: str | None = None, then: Callable[[], None] | None = None
    ) -> None:
        """Hide everything of this person, and let the next one sign in (or quit)."""
        self.hide()
        dialog = SignInDialog(self.session.baton, self.session.baton.db.display_url)
        if prefill:
            dialog.username.setText(prefill)
            dialog.password.setFocus()
        dialog.signed_in.connect(lambda user: self._signed_in_again(user, then))
        dialog.rejected.connect(self.close)
        dialog.open()
        self.signin = dialog

    def _signed_in_again(self, user: UserInfo, then: Callable[[], None] | None = None) -> None:
        self.session.switch_user(user)
        self.show()
        if then is not None:
            then()

    # ------------------------------------------------------------ commands of the menus

    def panel_row(self, panel: QWidget) -> int:
        return self.stack.indexOf(panel)

    def in_designer(self, command: Callable[[], object]) -> None:
        """A Designer command from the menu: show the Designer, then do it there."""
        if not self.may_see(DESIGNER_ROW):
            self.say("Designing orchestrations is for supervisors and admins")
            return
        self.navigation.setCurrentRow(DESIGNER_ROW)
        command()

    def show_runs(self, where: RunFilter) -> None:
        """The Runs list, filtered to ``where`` (a dashboard's bar, a Needs attention reason)."""
        self.navigation.setCurrentRow(self.panel_row(self.runs))
        self.runs.show_runs(where)

    def show_work_items(self, where: WorkFilter) -> None:
        """The Work Items list, filtered to ``where``."""
        self.navigation.setCurrentRow(self.panel_row(self.work_items))
        self.work_items.show_filtered(where)

    def refresh_panel(self) -> None:
        """F5: the panel shown reads its data again."""
        refresh = getattr(self.stack.currentWidget(), "refresh", None)
        if callable(refresh):
            refresh()

    def start_run(self) -> None:
        """Run → Start a run: of the orchestration open in the Designer when it is shown."""
        orchestration = None
        designer = self.built_designer
        if designer is not None and self.stack.currentWidget() is designer:
            orchestration = designer.document.name or None
        if self.session.is_staff:
            self.runs.runs.start_run(orchestration)
            return
        from desktop_app.start_run import StartRunDialog

        dialog = StartRunDialog(self.session, self, orchestration=orchestration)
        dialog.started.connect(lambda run: self.say(f"Started run {run.id} of {run.orchestration}"))
        dialog.open()

    def set_dark(self, dark: bool) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            self.settings.setValue("theme", theme.apply(app, "dark" if dark else "light"))

    def toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def choose_database(self) -> None:
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
        else:  # first start: as large as a laptop's screen allows, up to 1440×900
            screen = self.screen().availableGeometry()
            self.resize(min(1440, screen.width()), min(900, screen.height()))

    def closeEvent(self, event: QCloseEvent) -> None:
        """Quitting asks first when Designer changes are not saved; Cancel keeps everything."""
        designer = self.built_designer
        if not self._leaving and designer is not None:
            event.ignore()
            designer.versions.leave_then(self._close_now)
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.engine.stop()
        self.session.close()
        tasks.wait_for_all()
        super().closeEvent(event)

    def _close_now(self) -> None:
        self._leaving = True
        designer = self.built_designer
        if designer is not None:
            designer.forget_recovery()
        self.close()
