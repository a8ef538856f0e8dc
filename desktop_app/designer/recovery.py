"""Unsaved Designer work kept on disk every few seconds, and offered back after a crash.

One file per database and person, in the user data directory. It is written only while the
document has changes that are not saved, removed once they are saved or discarded, and read
when the Designer first opens: then the person chooses to restore the work or let it go.
Files are written and read in the background, like everything else that touches the disk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox

from desktop_app import tasks

if TYPE_CHECKING:
    from desktop_app.designer.panel import DesignerPanel

KEEP_EVERY_MS = 5_000
FORMAT = 1


def recovery_file(database_url: str, username: str) -> Path:
    """Where ``username``'s unsaved work on this database is kept."""
    key = hashlib.sha256(f"{database_url}\n{username}".encode()).hexdigest()[:20]
    return Path(platformdirs.user_data_dir("baton", appauthor=False)) / "recovery" / f"{key}.json"


def _write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(content, encoding="utf-8")
    os.replace(partial, path)  # never a half-written file after a crash


def _read(path: Path) -> dict[str, Any] | None:
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("format") != FORMAT:
        return None
    return kept if isinstance(kept.get("data"), dict) else None


class Recovery(QObject):
    def __init__(self, panel: DesignerPanel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.kept: str | None = None  # what was last written, so an idle document costs nothing
        self.offer_box: QMessageBox | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(KEEP_EVERY_MS)
        self.timer.timeout.connect(self.keep)
        self.timer.start()
        panel.document.saved.connect(self.forget)

    @property
    def path(self) -> Path:
        session = self.panel.session
        return recovery_file(session.baton.db.url, session.username)

    def keep(self) -> None:
        """Write the unsaved work, if there is any and it changed since last time."""
        document = self.panel.document
        if document.read_only or not document.modified:
            return
        content = json.dumps(
            {
                "format": FORMAT,
                "orchestration": document.name,
                "kept_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "data": document.data,
            },
            ensure_ascii=False,
        )
        if content == self.kept:
            return
        self.kept, path = content, self.path
        tasks.run(lambda: _write(path, content), None, lambda _exc: None)

    def forget(self) -> None:
        """The work was saved or discarded: nothing to offer back."""
        self.kept, path = None, self.path
        tasks.run(lambda: path.unlink(missing_ok=True), None, lambda _exc: None)

    def offer(self) -> None:
        """When the Designer first opens: work left unsaved by a crash is offered back."""
        path = self.path
        tasks.run(lambda: _read(path), self._found, lambda _exc: None)

    def _found(self, kept: dict[str, Any] | None) -> None:
        if kept is None:
            return
        buttons = QMessageBox.StandardButton
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Restore unsaved work",
            f"Baton closed before the changes to {kept.get('orchestration')} were saved "
            f"(kept at {kept.get('kept_at')} UTC).",
            buttons.Ok | buttons.Discard,
            self.panel,
        )
        box.setObjectName("restoreWork")
        box.button(buttons.Ok).setText("Restore")
        box.setInformativeText("Restore them as an unsaved draft, or let them go?")
        self.offer_box = box

        def answered(_result: int) -> None:
            self.offer_box = None
            if box.standardButton(box.clickedButton()) == buttons.Ok:
                self.panel.restore_unsaved(kept["data"])
            else:
                self.forget()

        box.finished.connect(answered)
        box.open()
