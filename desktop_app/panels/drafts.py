"""Half-filled forms kept on disk, per database, person and work item.

What a person typed into an item's form is kept when they open another item, switch panels or
close the app, and put back when they open the item again — in the Inbox and in a record's Work
Guide alike, which share one store per database and person. One JSON file holds the drafts of
one person on one database, by item id (``kept``: read and written in the background, replaced
atomically, so the GUI never waits on the disk and a crash never leaves half a file).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from desktop_app.panels.kept import KeptFile, kept_file, read_kept

OPEN = ("Assigned", "Claimed")  # a draft of an item in any other status has nothing to go to
Draft = dict[str, Any]  # {"values": {...}, "comment": str, "title": str, "kept_at": iso}


def drafts_file(database_url: str, username: str) -> Path:
    """Where ``username``'s drafts on this database are kept."""
    return kept_file("drafts", database_url, username)


def read_drafts(path: Path) -> dict[int, Draft]:
    """The drafts kept in ``path`` (none when it is missing, unreadable or of another format)."""
    drafts = read_kept(path).get("drafts")
    if not isinstance(drafts, dict):
        return {}
    return {
        int(key): draft
        for key, draft in drafts.items()
        if key.isdigit() and isinstance(draft, dict) and isinstance(draft.get("values"), dict)
    }


class Drafts:
    """One person's drafts on one database: in memory on the GUI thread, on disk behind it.

    Memory is the truth once the file was read (``merge``); every change writes the whole file
    again in the background (``KeptFile``).
    """

    _stores: dict[Path, Drafts] = {}

    def __init__(self, path: Path) -> None:
        self.path = path
        self.memory: dict[int, Draft] | None = None  # None: the file was not read yet
        # Items found done or no longer this person's: a form of one still on screen, built
        # before that was known, is not kept again when it is left (until the item is shown
        # anew, open: it was handed back).
        self.closed: set[int] = set()
        self.file = KeptFile(path)

    @classmethod
    def of(cls, database_url: str, username: str) -> Drafts:
        """The store shared by every form of this person on this database."""
        path = drafts_file(database_url, username)
        if path not in cls._stores:
            cls._stores[path] = cls(path)
        return cls._stores[path]

    def reader(self) -> Any:
        """What a background call returns for ``merge``: the file's drafts, or None when they
        are in memory already (called off the GUI thread)."""
        return None if self.memory is not None else read_drafts(self.path)

    def merge(self, read: dict[int, Draft] | None) -> None:
        """On the GUI thread, with what ``reader`` returned: drafts kept meanwhile win."""
        if read is not None and self.memory is None:
            self.memory = {**read}

    def get(self, item_id: int) -> Draft | None:
        return (self.memory or {}).get(item_id)

    def items(self) -> dict[int, Draft]:
        return dict(self.memory or {})

    def keep(self, item_id: int, draft: Draft) -> None:
        if item_id in self.closed:
            return
        if self.memory is None:
            self.memory = {}
        if self.memory.get(item_id, {}).get("values") == draft.get("values") and self.memory.get(
            item_id, {}
        ).get("comment") == draft.get("comment"):
            return
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.memory[item_id] = {**draft, "kept_at": stamp}
        self._save()

    def forget(self, item_id: int) -> Draft | None:
        dropped = (self.memory or {}).pop(item_id, None)
        if dropped is not None:
            self._save()
        return dropped

    def drop(self, item_id: int) -> Draft | None:
        """Forget the draft of an item found closed to this person, and keep none of it again
        until ``reopen``: what was dropped, if anything."""
        self.closed.add(item_id)
        return self.forget(item_id)

    def reopen(self, item_id: int) -> None:
        """The item was shown open to this person again: what they type is kept once more."""
        self.closed.discard(item_id)

    def _save(self) -> None:
        self.file.write({"drafts": {str(k): v for k, v in (self.memory or {}).items()}})
