"""``baton://`` links: an e-mail's link opens that work item (or run) in the app.

``baton baton://work/12?for=alice`` hands the link to the Baton already running for this
person on this computer (through a local socket) and exits; with none running, the app starts
and opens it once its window is up. The window then shows the item as the person it was meant
for: on a single-user install it switches to them, on a shared database it asks them to sign
in unless they are the one signed in.
"""

from __future__ import annotations

import getpass
import hashlib
import os
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

SCHEME = "baton"
CONNECT_MS = 500


class BadLink(ValueError):
    """Not a link Baton can open; the message says why."""


@dataclass(frozen=True)
class Link:
    kind: str  # "work" or "runs"
    id: int
    for_user: str | None = None

    @classmethod
    def parse(cls, text: str) -> Link:
        parts = urlsplit(text.strip())
        if parts.scheme != SCHEME:
            raise BadLink(f"'{text}' is not a baton:// link")
        kind = parts.netloc
        raw = parts.path.strip("/")
        if kind not in ("work", "runs") or not raw.isdigit() or len(raw) > 18:
            raise BadLink(
                f"'{text}' names no work item or run (links look like baton://work/12 "
                "or baton://runs/4)"
            )
        users = parse_qs(parts.query).get("for")
        return cls(kind, int(raw), users[0] if users else None)


def server_name() -> str:
    """One running Baton per person on this computer answers links (``BATON_LINK_SERVER``
    names another, e.g. for a second install or a test)."""
    named = os.environ.get("BATON_LINK_SERVER")
    if named:
        return named
    return "baton-links-" + hashlib.sha256(getpass.getuser().encode()).hexdigest()[:16]


def hand_to_running(text: str) -> bool:
    """Give the link to a Baton already running; False when none answers."""
    socket = QLocalSocket()
    socket.connectToServer(server_name())
    if not socket.waitForConnected(CONNECT_MS):
        return False
    socket.write(text.encode("utf-8") + b"\n")
    socket.waitForBytesWritten(CONNECT_MS)
    socket.disconnectFromServer()
    return True


class LinkServer(QObject):
    """Listens for links handed over by later ``baton baton://…`` calls."""

    received = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.server = QLocalServer(self)
        self.server.newConnection.connect(self._connected)
        if not self.server.listen(server_name()):
            # A server left behind by a Baton that crashed: nobody answers it any more.
            QLocalServer.removeServer(server_name())
            self.server.listen(server_name())

    def _connected(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            line = bytes(socket.readLine().data()).decode("utf-8", "replace").strip()
            if line:
                self.received.emit(line)

    def close(self) -> None:
        self.server.close()
