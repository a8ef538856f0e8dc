"""Export a list (runs, work items, the Inbox) to CSV: every row of its current filter.

The rows come from the engine a page at a time (``ConsoleService.stream_runs`` and the like)
on a thread of the export's own, so a long export neither blocks the GUI nor holds one of
the few threads the lists and charts load with. A progress dialog counts the rows written
and can cancel; the file appears only when complete (it is written beside, then renamed),
so a canceled or failed export leaves nothing half-written behind.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from desktop_app.messages import describe
from engine import clock
from engine.services.dto import WorkItemInfo
from engine.services.queries import sla_state

Pages = Callable[[], Iterable[Sequence[Any]]]
PAGE = 250  # rows a page: small enough that reading one never holds the GIL for long
_frozen = 0  # exports under way that keep the app's older objects out of the collector
CsvColumn = tuple[str, Callable[[Any], Any]]


def _when(value: dt.datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else ""


RUN_COLUMNS: tuple[CsvColumn, ...] = (
    ("run", lambda r: r.id),
    ("orchestration", lambda r: r.orchestration),
    ("version", lambda r: r.version),
    ("status", lambda r: r.status),
    ("stage", lambda r: r.current_element),
    ("record_id", lambda r: r.record_id),
    ("record", lambda r: r.record_title),
    ("started_at", lambda r: _when(r.started_at)),
    ("ended_at", lambda r: _when(r.ended_at)),
    ("started_by", lambda r: r.started_by),
    ("error", lambda r: r.error),
)


def _sla(w: WorkItemInfo) -> str:
    return sla_state(w.status, w.due_at, w.completed_at, clock.now())


WORK_COLUMNS: tuple[CsvColumn, ...] = (
    ("item", lambda w: w.id),
    ("title", lambda w: w.title),
    ("status", lambda w: w.status),
    ("run", lambda w: w.run_id),
    ("orchestration", lambda w: w.orchestration),
    ("stage", lambda w: w.stage),
    ("step", lambda w: w.step),
    ("record_id", lambda w: w.record_id),
    ("record", lambda w: w.record_title),
    ("assignee_kind", lambda w: w.assignee_kind),
    ("assignee", lambda w: w.assignee),
    ("claimed_by", lambda w: w.claimed_by),
    ("priority", lambda w: w.priority),
    ("created_at", lambda w: _when(w.created_at)),
    ("due_at", lambda w: _when(w.due_at)),
    ("completed_at", lambda w: _when(w.completed_at)),
    ("completed_by", lambda w: w.completed_by),
    ("sla", _sla),
)


class Exporter(QThread):
    """Writes the pages to ``path`` as CSV on its own thread; ``cancel`` stops it at the
    next page. Exactly one of ``succeeded``, ``canceled`` or ``failed`` ends it."""

    progressed = Signal(int)  # rows written so far
    succeeded = Signal(int)
    canceled = Signal()
    failed = Signal(object)

    def __init__(
        self, pages: Pages, columns: Sequence[CsvColumn], path: Path, parent: QObject | None
    ) -> None:
        super().__init__(parent)
        self.pages, self.columns, self.path = pages, columns, path
        self._stop = threading.Event()

    def cancel(self) -> None:
        self._stop.set()

    def run(self) -> None:
        part = self.path.with_name(self.path.name + ".part")
        try:
            written = self._write(part)
        except Exception as exc:  # told on the GUI thread, in a sentence
            part.unlink(missing_ok=True)
            self.failed.emit(exc)
            return
        if written is None:
            part.unlink(missing_ok=True)
            self.canceled.emit()
            return
        os.replace(part, self.path)
        self.succeeded.emit(written)

    def _write(self, part: Path) -> int | None:
        values = [value for _, value in self.columns]
        written = 0
        with part.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow([title for title, _ in self.columns])
            pages = iter(self.pages())
            try:
                for page in pages:
                    if self._stop.is_set():
                        return None
                    writer.writerows([[value(row) for value in values] for row in page])
                    written += len(page)
                    self.progressed.emit(written)
            finally:
                close = getattr(pages, "close", None)
                if close is not None:  # ends the engine's read at once, canceled or not
                    close()
        return None if self._stop.is_set() else written


class ExportJob(QObject):
    """One export with its progress dialog; ``ended`` says how it went, in a sentence."""

    ended = Signal(str)

    def __init__(
        self,
        parent: QWidget,
        noun: str,
        pages: Pages,
        columns: Sequence[CsvColumn],
        path: Path,
        total: int | None,
    ) -> None:
        super().__init__(parent)
        self.noun, self.path, self.total = noun, path, total or 0
        self.written = 0
        self.worker = Exporter(pages, columns, path, self)
        self.dialog = QProgressDialog(
            f"Exporting {noun} to {path.name}…", "Cancel", 0, self.total, parent
        )
        self.dialog.setObjectName("exportProgress")
        self.dialog.setWindowTitle("Export to CSV")
        self.dialog.setModal(False)  # the list stays usable while the file is written
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.setMinimumDuration(0)
        self.dialog.canceled.connect(self.cancel)
        self.worker.progressed.connect(self._progressed)
        self.worker.succeeded.connect(self._succeeded)
        self.worker.canceled.connect(lambda: self._end(f"Export canceled; {path.name} not written"))
        self.worker.failed.connect(
            lambda exc: self._end(f"Export of {noun} failed: {self._why(exc)}")
        )
        _freeze()
        self.worker.start()
        self.dialog.show()

    def _why(self, exc: BaseException) -> str:
        if isinstance(exc, OSError):  # the file, not Baton: say which and why
            return f"could not write {self.path}: {exc.strerror or exc}"
        return describe(exc)

    @property
    def running(self) -> bool:
        return bool(self.worker.isRunning())

    def cancel(self) -> None:
        self.dialog.setLabelText("Canceling…")
        self.worker.cancel()

    def _progressed(self, written: int) -> None:
        self.written = written
        if written > self.dialog.maximum():  # rows added since the count
            self.dialog.setMaximum(written)
        self.dialog.setValue(written)
        self.dialog.setLabelText(f"Exporting {self.noun} to {self.path.name}: {written:,} rows")

    def _succeeded(self, written: int) -> None:
        self.written = written
        self._end(f"Exported {written:,} {self.noun} to {self.path}")

    def _end(self, message: str) -> None:
        self.worker.wait()  # it has emitted its last signal: this returns at once
        _unfreeze()
        self.dialog.close()
        self.ended.emit(message)


def _freeze() -> None:
    """An export makes garbage steadily, so Python's collector runs often, and each full
    pass over the app's ~150,000 long-lived objects (widgets, modules, SQLAlchemy's
    caches) stops every thread, the GUI's included, for 100-200 ms on a busy machine.
    While exports run, the objects that existed before them are left out of those passes
    (``gc.freeze``); a pass then takes under a millisecond. Called on the GUI thread."""
    global _frozen
    if _frozen == 0:
        gc.freeze()
    _frozen += 1


def _unfreeze() -> None:
    global _frozen
    _frozen -= 1
    if _frozen == 0:
        gc.unfreeze()


def ask_path(parent: QWidget, name: str) -> Path | None:
    """Where to save: a file dialog proposing ``name``; None when the person cancels."""
    chosen, _ = QFileDialog.getSaveFileName(
        parent, "Export to CSV", str(Path.home() / name), "CSV files (*.csv)"
    )
    if not chosen:
        return None
    path = Path(chosen)
    return path if path.suffix else path.with_suffix(".csv")


def export_rows(
    parent: QWidget,
    noun: str,
    pages: Pages,
    columns: Sequence[CsvColumn],
    total: int | None,
    on_end: Callable[[str], None],
) -> ExportJob | None:
    """Ask where, then export in the background; ``on_end`` hears how it went."""
    stamp = clock.now().strftime("%Y-%m-%d")
    path = ask_path(parent, f"{noun.replace(' ', '-')}-{stamp}.csv")
    if path is None:
        return None
    job = ExportJob(parent, noun, pages, columns, path, total)
    job.ended.connect(on_end)
    return job
