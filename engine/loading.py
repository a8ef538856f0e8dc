"""Start-up without the garbage collector's full passes over modules being imported.

Importing SQLAlchemy, the models and the services creates some 400,000 objects, none of
them garbage; the collector's passes over them cost a ``baton`` command about a tenth of a
second while importing, and as much again when the interpreter exits and walks them once
more. ``loading`` makes the collector run rarely while a process imports what it needs;
``loaded``, once it has (when it opens its first ``Baton``, whatever the command, and the
app as it opens its database), moves every object alive to the permanent generation (which no pass walks,
exit included: ``gc.freeze``) and gives the collector its usual thresholds back, so a
long-running process (the app, ``baton worker``, ``baton test --watch``) collects as it
always did. Garbage already unreachable at that moment (some thousands of objects from
parsing arguments and reading files) is frozen with the rest: a one-time few hundred KB,
against the ~45 ms a collection over everything imported would cost every command.
"""

from __future__ import annotations

import gc

RARELY = 100_000  # allocations between young passes while loading, against Python's 700
_usual: list[tuple[int, int, int]] = []  # the thresholds ``loading`` replaced


def loading() -> None:
    """The process is about to import its modules (the launcher's first line)."""
    if not _usual:
        _usual.append(gc.get_threshold())
        gc.set_threshold(RARELY, *_usual[0][1:])


def loaded() -> None:
    """What the process needs is imported: collect as usual from here on. Does nothing
    unless ``loading`` was called, and only the first time."""
    if _usual:
        gc.freeze()
        gc.set_threshold(*_usual.pop())
