"""The engine embedded in the app: a worker thread that runs background steps, escalations
and e-mail while the app is open. It reports its state through a Qt signal."""

from __future__ import annotations

import datetime as dt
import threading

from PySide6.QtCore import QObject, Signal

from desktop_app.messages import describe
from engine.services.baton import Baton


class EmbeddedEngine(QObject):
    state = Signal(str)

    def __init__(self, baton: Baton, interval: float = 2.0, concurrency: int = 4) -> None:
        super().__init__()
        self.baton = baton
        self.interval = interval
        # Fewer external actions at once than a ``baton worker`` (16): the app shares its
        # machine with the person using it, and a team's heavy lifting is for workers.
        self.concurrency = concurrency
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe = baton.subscribe(self._on_change)

    def _on_change(self, kinds: frozenset[str]) -> None:
        if kinds & {"background", "outbox"}:
            self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="baton-engine", daemon=True)
        self._thread.start()
        self.state.emit("engine running")

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                report = self.baton.worker.run_once(concurrency=self.concurrency)
                moved = report.steps_run + report.timers_fired + report.messages_sent
                stamp = dt.datetime.now().strftime("%H:%M:%S")
                text = f"engine running · {moved} done at {stamp}" if moved else "engine running"
                self.state.emit(text if not report.errors else f"engine: {report.errors[0]}")
            except Exception as exc:  # shown in the status bar; the loop carries on
                self.state.emit(f"engine paused: {describe(exc)}")
            self._wake.wait(self.interval)

    def stop(self) -> None:
        self._unsubscribe()
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.state.emit("engine stopped")
