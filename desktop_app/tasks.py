"""The one way the desktop app does work off the GUI thread.

``run(fn, on_done, on_error)`` calls ``fn`` on a worker thread of Qt's thread pool and then
``on_done(result)`` — or ``on_error(exception)`` — on the GUI thread. Every database, engine
and network call of the app goes through here, so the GUI never waits on them.

Answers can arrive out of order: a ``Latest`` delivers only the answers of its latest call
(``run``) and of the calls made alongside it (``join``), and drops the others, so no widget
counts its own requests. A call made ``origin=token`` commits its changes as that origin
(``engine.services.notices.acting_for``): the widget holding the token knows their notices
for the echo of its own change (``echo``).
"""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from engine.services.notices import acting_for

_pool = QThreadPool.globalInstance()
# Background calls mostly wait on the database (the driver lets go of the GIL meanwhile), so
# as many threads as cores (2 on a small laptop) would queue a dashboard's five queries, and
# every list's pages, behind one another.
_pool.setMaxThreadCount(max(8, _pool.maxThreadCount()))
_alive: set[_Relay] = set()  # relays in flight: kept until they have delivered
_PROCESS = uuid.uuid4().hex[:8]  # origins are compared across processes (PostgreSQL)
_numbers = itertools.count(1)
Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class _Relay(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay, origin: str | None) -> None:
        super().__init__()
        self.fn = fn
        self.relay = relay
        self.origin = origin

    @Slot()
    def run(self) -> None:
        try:
            with acting_for(self.origin):
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
    on_done: Done | None = None,
    on_error: Failed | None = None,
    *,
    origin: str | None = None,
) -> None:
    """Call ``fn`` in the background; then ``on_done`` or ``on_error`` on the GUI thread.
    What ``fn`` commits is announced as caused by ``origin`` (see ``new_origin``)."""
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
    _pool.start(_Job(fn, relay, origin))


class Latest:
    """Background calls of which only the latest answer counts.

    ``run`` supersedes every call made through this before it: their answers (results and
    failures alike) are dropped when they arrive. ``join`` runs alongside the latest call
    without superseding it (the pages of one listing), and is dropped with it.
    """

    def __init__(self) -> None:
        self._ticket = 0
        self._answered = 0  # the last ticket whose ``run`` has answered

    def run(
        self,
        fn: Callable[[], Any],
        on_done: Done | None = None,
        on_error: Failed | None = None,
        *,
        origin: str | None = None,
    ) -> None:
        self._ticket += 1
        self._call(fn, on_done, on_error, origin, settles=True)

    def join(
        self,
        fn: Callable[[], Any],
        on_done: Done | None = None,
        on_error: Failed | None = None,
        *,
        origin: str | None = None,
    ) -> None:
        self._call(fn, on_done, on_error, origin, settles=False)

    def _call(
        self,
        fn: Callable[[], Any],
        on_done: Done | None,
        on_error: Failed | None,
        origin: str | None,
        *,
        settles: bool,
    ) -> None:
        ticket = self._ticket

        def done(value: Any) -> None:
            if ticket == self._ticket:
                self._answered = ticket if settles else self._answered
                if on_done is not None:
                    on_done(value)

        def failed(exc: BaseException) -> None:
            if ticket == self._ticket:
                (on_error or _unhandled)(exc)

        run(fn, done, failed, origin=origin)

    @property
    def settled(self) -> bool:
        """Whether the latest ``run`` has delivered its result (not failed, not dropped)."""
        return self._answered == self._ticket

    def drop(self) -> None:
        """Drop the answers of every call still out."""
        self._ticket += 1


def new_origin(name: str) -> str:
    """A token naming one widget's calls, unique across processes ('inbox:1a2b3c4d:7')."""
    return f"{name}:{_PROCESS}:{next(_numbers)}"


def echo(change: Any, origin: str | None) -> bool:
    """Whether the notice ``change`` is the echo of a change made by calls of ``origin``."""
    return origin is not None and getattr(change, "origin", None) == origin


def _unhandled(exc: BaseException) -> None:
    from desktop_app.messages import show_error

    show_error(None, exc)


def wait_for_all(timeout_ms: int = 30000) -> bool:
    """Wait for background work to finish (on quit, and in tests)."""
    return bool(_pool.waitForDone(timeout_ms))
