"""The one way the desktop app does work off the GUI thread.

``run(fn, on_done, on_error)`` calls ``fn`` on a worker thread of Qt's thread pool and then
``on_done(result)`` — or ``on_error(exception)`` — on the GUI thread. Every database, engine
and network call of the app goes through here, so the GUI never waits on them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

_pool = QThreadPool.globalInstance()
_alive: set[_Relay] = set()  # relays in flight: kept until they have delivered


class _Relay(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.fn = fn
        self.relay = relay

    @Slot()
    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # delivered to on_error on the GUI thread
            self._emit(self.relay.failed, exc)
        else:
            self._emit(self.relay.done, result)

    @staticmethod
    def _emit(signal: Any, value: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app closed while this ran: nobody to tell
            signal.emit(value)


def run(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> None:
    """Call ``fn`` in the background; then ``on_done`` or ``on_error`` on the GUI thread."""
    relay = _Relay()
    _alive.add(relay)

    def finish(callback: Callable[[Any], None] | None, value: Any) -> None:
        _alive.discard(relay)
        if callback is None:
            return
        try:
            callback(value)
        except RuntimeError as exc:
            # The widget that asked was closed while the work ran: nobody to show it to.
            if "deleted" not in str(exc):
                raise

    relay.done.connect(lambda value: finish(on_done, value))
    relay.failed.connect(lambda exc: finish(on_error or _unhandled, exc))
    _pool.start(_Job(fn, relay))


def _unhandled(exc: BaseException) -> None:
    from desktop_app.messages import show_error

    show_error(None, exc)


def wait_for_all(timeout_ms: int = 30000) -> bool:
    """Wait for background work to finish (on quit, and in tests)."""
    return bool(_pool.waitForDone(timeout_ms))
