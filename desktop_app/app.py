"""Starting the desktop app: settings, opening the database off the GUI thread, the demo on
first launch, and the main window."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import platformdirs
from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QWidget,
)

from desktop_app import notifications, tasks, theme
from desktop_app.engine_runner import EmbeddedEngine
from desktop_app.links import LinkServer
from desktop_app.messages import describe
from desktop_app.notifications import baton_icon
from desktop_app.session import AppSession
from desktop_app.shell import MainWindow
from desktop_app.signin import SignInDialog
from engine.services.baton import Baton
from engine.services.dto import UserInfo


def app_settings() -> QSettings:
    """The desktop's own settings (database choice, theme, window layout)."""
    directory = Path(platformdirs.user_config_dir("baton", appauthor=False))
    directory.mkdir(parents=True, exist_ok=True)
    return QSettings(str(directory / "desktop.ini"), QSettings.Format.IniFormat)


def open_database(url: str | None) -> tuple[Baton, UserInfo, bool]:
    """Open; return the service, its owner, and whether the demo is still to be loaded.

    The owner is who a single-user install starts signed in as; a shared database asks. On
    first launch only the demo's people are made here: the window opens, then the rest of
    the demo loads (``load_demo``) while it shows that it does.
    """
    from engine.clients.demo import load_demo_people

    baton = Baton(url)
    demo = not baton.has_orchestrations()
    if demo:
        load_demo_people(baton)
    owner = baton.directory.owner()
    if owner is None:
        admins = [u.username for u in baton.directory.users() if u.role == "admin" and u.active]
        owner = admins[0] if admins else None
    if owner is None:
        baton.close()
        raise RuntimeError("this database has no active admin to sign in as")
    return baton, baton.directory.user(owner), demo


class FirstPaint(QObject):
    """Notes when the main window is first painted: what start-up is measured to (``--smoke``
    prints it, seconds from the launcher's first line). Then runs ``then``: work that would
    compete with the first paint for the interpreter (the embedded engine, the demo) waits
    for it, or for a second at most, should the window not be painted (minimised)."""

    def __init__(
        self,
        window: QWidget,
        started: float,
        *,
        say: bool = False,
        then: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(window)
        self.started = started
        self.say = say
        self.then = then
        self.seconds: float | None = None
        window.installEventFilter(self)
        QTimer.singleShot(1000, self._go_on)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.seconds is None:
            self.seconds = time.perf_counter() - self.started
            watched.removeEventFilter(self)
            if self.say:  # at once, so a benchmark reading the output times it from outside
                print(f"smoke: main window painted {self.seconds:.3f} s after start", flush=True)
            QTimer.singleShot(0, self._go_on)  # once this paint is done
        return False

    def _go_on(self) -> None:
        then, self.then = self.then, None
        if then is not None:
            then()


class Launcher:
    """Opens the database in the background, then shows the main window."""

    def __init__(self, app: QApplication, url: str | None, smoke: bool) -> None:
        self.app = app
        self.settings = app_settings()
        self.url = url or str(self.settings.value("database/url", "") or "") or None
        self.smoke = smoke
        self.window: MainWindow | None = None
        self.splash = QLabel("Opening Baton…")
        self.splash.setObjectName("splash")
        self.splash.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.splash.resize(360, 120)
        self.splash.show()
        self.exit_code = 0
        self.signin: SignInDialog | None = None
        self.link: str | None = None  # a baton:// link to open once the window is up
        self.links: LinkServer | None = None
        self.painted: FirstPaint | None = None
        self.started = time.perf_counter()  # the launcher's own moment, when it says

    def start(self) -> None:
        url = self.url
        tasks.run(lambda: open_database(url), self._opened, self._failed)

    def _opened(self, opened: tuple[Baton, UserInfo, bool]) -> None:
        baton, owner, demo = opened
        if baton.db.is_sqlite or self.smoke:
            self._show(baton, owner, demo)  # a single-user install starts signed in as its owner
            return
        self.splash.close()
        dialog = SignInDialog(baton, baton.db.display_url)
        dialog.signed_in.connect(lambda user: self._show(baton, user, demo))
        dialog.rejected.connect(self.app.quit)
        dialog.open()
        self.signin = dialog

    def _show(self, baton: Baton, user: UserInfo, demo: bool = False) -> None:
        session = AppSession(baton, user)
        engine = EmbeddedEngine(baton)
        self.window = MainWindow(session, self.settings, engine)
        window = self.window
        # The engine starts once the demo has made its runs (the demo drives them itself).
        self.painted = FirstPaint(
            window,
            self.started,
            say=self.smoke,
            then=(lambda: self._load_demo(baton, window, engine)) if demo else engine.start,
        )
        self.splash.close()
        self.window.show()
        if not self.smoke:
            # Later `baton baton://…` calls hand their links to this window.
            self.links = LinkServer(self.window)
            self.links.received.connect(self.window.open_link)
            notifications.on_click(self.window.open_link)
        if self.link:
            link, self.link = self.link, None
            self.window.open_link(link)
        if self.smoke and not demo:
            self.window.inbox.model.loaded.connect(self._smoke_done)

    def _load_demo(self, baton: Baton, window: MainWindow, engine: EmbeddedEngine) -> None:
        """First launch: the demo's orchestrations, records and runs load behind the open
        window, a busy bar and a line in the status bar saying so."""
        from engine.clients.demo import load_demo

        busy = QProgressBar()
        busy.setRange(0, 0)
        busy.setMaximumWidth(120)
        busy.setToolTip("Loading the demo orchestrations, records and runs")
        window.statusBar().addPermanentWidget(busy)
        window.statusBar().showMessage("Loading the demo orchestrations, records and runs…")

        def done(_: object = None, problem: str | None = None) -> None:
            window.statusBar().removeWidget(busy)
            busy.deleteLater()
            window.say(problem or "The demo is loaded: your inbox has work waiting")
            engine.start()
            if self.smoke:
                window.inbox.model.loaded.connect(self._smoke_done)
                window.inbox.refresh()

        tasks.run(
            lambda: load_demo(baton),
            done,
            lambda exc: done(problem=f"The demo could not be loaded: {describe(exc)}"),
        )

    def _smoke_done(self) -> None:
        if self.painted is not None and self.painted.seconds is None:
            QTimer.singleShot(10, self._smoke_done)  # loaded before its first paint
            return
        print(
            f"smoke: main window open with {len(self.window.inbox.model.items) if self.window else 0} items"
        )
        QTimer.singleShot(0, self._quit)

    def _quit(self) -> None:
        if self.window is not None:
            self.window.close()
        self.app.quit()

    def _failed(self, exc: BaseException) -> None:
        self.splash.close()
        if self.smoke:
            print(f"smoke failed: {describe(exc)}", file=sys.stderr)
            self.exit_code = 1
            self.app.quit()
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Baton cannot open its database", describe(exc))
        choose = box.addButton("Choose another database…", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() is choose:
            url, ok = QInputDialog.getText(
                QWidget(), "Database", "A PostgreSQL URL or a SQLite file:", text=self.url or ""
            )
            if ok and url.strip():
                self.url = url.strip()
                self.settings.setValue("database/url", self.url)
                self.splash.show()
                self.start()
                return
        self.exit_code = 1
        self.app.quit()


def run(
    url: str | None = None,
    *,
    smoke: bool = False,
    link: str | None = None,
    started: float | None = None,
) -> int:
    """The desktop app; ``started`` (a ``time.perf_counter()``) is when the process began,
    which ``--smoke`` measures the first paint from."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Baton")
    app.setDesktopFileName("baton")
    app.setWindowIcon(baton_icon())
    launcher = Launcher(app, url, smoke)
    launcher.link = link
    if started is not None:
        launcher.started = started
    theme.apply(app, str(launcher.settings.value("theme", "light")))
    launcher.start()
    code = app.exec()
    tasks.wait_for_all()
    return launcher.exit_code or code
