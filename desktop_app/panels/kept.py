"""A small JSON file of one person's own settings on one database, kept in the background.

Drafts of forms and the Inbox's column widths and saved filters each live in one such file in
the user data directory, named for the database and the person. The GUI thread never touches
the disk: it reads the file in a background call, and every change writes the whole file again
in the background, atomically (the Designer's recovery files do the same). Writes may finish
out of order, so each carries a number and one older than the last written is skipped.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import platformdirs

from desktop_app import tasks
from desktop_app.designer.recovery import _write

FORMAT = 1


def kept_file(folder: str, database_url: str, username: str) -> Path:
    """Where ``username``'s file of ``folder`` ('drafts', 'inbox') on this database is."""
    key = hashlib.sha256(f"{database_url}\n{username}".encode()).hexdigest()[:20]
    return Path(platformdirs.user_data_dir("baton", appauthor=False)) / folder / f"{key}.json"


def read_kept(path: Path) -> dict[str, Any]:
    """The file's content (empty when it is missing, unreadable or of another format)."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(kept, dict) or kept.get("format") != FORMAT:
        return {}
    return kept


class KeptFile:
    """Writes one file in the background, the latest content winning."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._number = 0
        self._written = 0
        self._lock = threading.Lock()  # taken by the writers only, never by the GUI thread

    def write(self, content: dict[str, Any]) -> None:
        """Write ``content`` (plain JSON data) in the background."""
        self._number += 1
        number, path = self._number, self.path
        text = json.dumps({**content, "format": FORMAT}, ensure_ascii=False)

        def write() -> None:
            with self._lock:
                if number > self._written:
                    _write(path, text)
                    self._written = number

        tasks.run(write, None, lambda _exc: None)
