"""The work item in hand: what it is, its context, its form and its draft — in the Inbox and in
a record's Work Guide alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop_app import layouts, tasks
from desktop_app.console.reassign import ask_reassign
from desktop_app.flow_layout import FlowLayout
from desktop_app.messages import describe, show_error
from desktop_app.panels.drafts import OPEN, Drafts
from desktop_app.panels.form import FormView
from desktop_app.session import AppSession
from desktop_app.shown import shown
from engine.errors import BatonError, InvalidInput
from engine.services.work import ItemDetails
from engine.text import derived_label


class ItemPane(QWidget):
    """The open item: what it is, its context, and its form.

    What is typed into the form is kept as the item's draft (``drafts``) a moment after each
    change, and at once when another item is opened or the pane is hidden (another panel, the
    app closing); opening the item again puts it back. A draft of an item that was completed
    or canceled meanwhile is dropped, and ``status`` says so.
    """

    done = Signal(str)
    status = Signal(str)

    def __init__(
        self,
        session: AppSession,
        hint: str = "Choose an item on the left to work on it.",
        *,
        show_record: bool = True,
        origin: str | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.show_record = show_record  # not on a record's own page, which shows it already
        # Whose change completing or reassigning here is: the owner refreshes itself on
        # ``done`` and skips the echo of that change.
        self.origin = origin
        self.details: ItemDetails | None = None
        self.form: FormView | None = None
        self.loads = tasks.Latest()  # a later choice wins over a slower, earlier load
        self.item_id: int | None = None  # the item shown, or being loaded to be shown
        self.store: Drafts | None = None  # the drafts of whoever the form shown was built for
        self.note = QLabel()  # e.g. "Your draft was put back."
        self.note.setObjectName("draftNote")
        self.note.setProperty("role", "muted")
        self.note.setWordWrap(True)
        self.keeping = QTimer(self)  # typing pauses a moment before the draft is kept
        self.keeping.setSingleShot(True)
        self.keeping.setInterval(400)
        self.keeping.timeout.connect(self.keep_draft)
        outer = QVBoxLayout(self)
        self.placeholder = QLabel(hint)
        self.placeholder.setProperty("role", "muted")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.placeholder)
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        # The item fits the pane's width (its texts wrap), so nothing hides off to the right.
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroller.hide()
        outer.addWidget(self.scroller)
        # Reassign and the form's buttons, pinned below the scrolling item: always in sight,
        # and the pane is never narrower than they are (a splitter stops at that width).
        self.bar = QWidget()
        self.bar.setObjectName("itemActions")
        self.action_row = QHBoxLayout(self.bar)
        self.action_row.setContentsMargins(0, 0, 0, 0)
        self.reassign = QPushButton("Reassign…")
        self.reassign.setObjectName("reassign")
        self.reassign.clicked.connect(self._reassign)
        self.action_row.addWidget(self.reassign)
        self.bar.hide()
        outer.addWidget(self.bar)

    @property
    def drafts(self) -> Drafts:
        """The signed-in person's drafts on this database (shared with every other pane)."""
        return Drafts.of(self.session.baton.db.url, self.session.username)

    def show_item(self, item_id: int | None) -> None:
        self.keep_draft()  # the form in hand is kept before another takes its place
        self.item_id = item_id
        if item_id is None:
            self.loads.drop()
            self.scroller.hide()
            self.bar.hide()
            self.placeholder.show()
            self.details = None
            self.form = None
            return
        service, drafts = self.session.service, self.drafts
        self.loads.run(
            lambda: (service.work.details(item_id), drafts.reader()),
            lambda answer: self._build(*answer, drafts=drafts),
            self._failed,
        )

    def keep_draft(self) -> None:
        """Keep what is typed into the form shown as its item's draft (none if untouched)."""
        self.keeping.stop()
        form, details, store = self.form, self.details, self.store
        if form is None or details is None or store is None or details.item.status not in OPEN:
            return
        if form.touched:
            store.keep(details.item.id, {**form.draft(), "title": details.item.title})
        else:
            store.forget(details.item.id)

    def hideEvent(self, event: Any) -> None:
        self.keep_draft()  # another panel, or the app closing
        super().hideEvent(event)

    def _failed(self, exc: BaseException) -> None:
        self.placeholder.setText(describe(exc))
        self.scroller.hide()
        self.bar.hide()
        self.placeholder.show()

    def _build(
        self, details: ItemDetails, read: Any = None, *, drafts: Drafts | None = None
    ) -> None:
        store = drafts or self.drafts
        store.merge(read)
        self.details, self.store = details, store
        item = details.item
        draft = store.get(item.id)
        self.note.setText("")
        if item.status in OPEN:
            store.reopen(item.id)
        elif draft is not None:
            store.drop(item.id)
            draft = None
            who = f" by {item.completed_by}" if item.completed_by else ""
            self.status.emit(
                f"Your draft of '{item.title}' was dropped: it was {item.status.lower()}{who}."
            )
            self.note.setText(f"Your draft was dropped: this item was {item.status.lower()}{who}.")
        body = QWidget()
        layout = QVBoxLayout(body)
        title = QLabel(item.title)
        title.setWordWrap(True)
        title.setObjectName("itemTitle")
        title.setProperty("role", "title")
        layout.addWidget(title)
        due = f" · due {item.due_at.astimezone():%a %d %b %Y %H:%M}" if item.due_at else ""
        where = QLabel(
            f"{item.orchestration.replace('_', ' ').title()} · run {item.run_id} · "
            f"{item.stage.replace('_', ' ').capitalize()}{due}"
        )
        where.setProperty("role", "muted")
        where.setWordWrap(True)
        layout.addWidget(where)
        if item.flag:
            flag = QLabel(item.flag)
            flag.setProperty("role", "error")
            layout.addWidget(flag)
        layout.addWidget(self._progress(details))
        if details.record is not None and self.show_record:
            layout.addWidget(self._section(f"Record: {details.record_title}"))
            facts = QFormLayout()
            for key, value in details.record.items():
                if key != "id":
                    facts.addRow(derived_label(key), _wrapped(shown(value)))
            layout.addLayout(facts)
        if details.about:
            layout.addWidget(self._section("About this run"))
            about = QFormLayout()
            for name, value in details.about.items():
                about.addRow(name, _wrapped(shown(value)))
            layout.addLayout(about)
        if details.earlier_outputs:
            layout.addWidget(self._section("Earlier steps"))
            earlier = QFormLayout()
            for step, outputs in details.earlier_outputs.items():
                said = "; ".join(
                    f"{derived_label(k)}: {shown(v)}"
                    for k, v in outputs.items()
                    if v not in (None, "")
                )
                earlier.addRow(derived_label(step.split(".")[-1]), _wrapped(said))
            layout.addLayout(earlier)
        if not details.form.get("title"):
            layout.addWidget(self._section("Your part"))
        self.form = FormView(details.form)
        if draft is not None:
            self.form.restore(draft)
            self.note.setText(f"Your draft, kept {_when(draft.get('kept_at'))}, is back.")
        self.form.submitted.connect(self._submit)
        self.form.edited.connect(self.keeping.start)
        layout.addWidget(self.note)
        layout.addWidget(self.form)
        layout.addStretch(1)
        layouts.empty(self.action_row, keep=1)  # the buttons of the form shown before
        self.action_row.addWidget(self.form.action_bar, 1)
        self.scroller.setWidget(body)
        self.placeholder.hide()
        self.scroller.show()
        self.bar.show()

    @staticmethod
    def _section(text: str) -> QLabel:
        label = QLabel(text)
        label.setProperty("role", "heading")
        return label

    @staticmethod
    def _progress(details: ItemDetails) -> QWidget:
        strip = QWidget()
        row = FlowLayout(strip)  # the stages wrap onto a second line in a narrow pane
        row.setContentsMargins(0, 4, 0, 4)
        for _, label, status in details.progress:
            chip = QLabel(label)
            chip.setProperty("chip", (status or "NotStarted"))
            chip.setToolTip(status or "not reached yet")
            row.addWidget(chip)
        return strip

    def _submit(self, outcome: str | None, values: dict[str, Any], comment: str) -> None:
        if self.details is None or self.form is None:
            return
        item_id = self.details.item.id
        service = self.session.service
        self.form.set_busy(True)
        tasks.run(
            lambda: service.work.complete(
                item_id, values, outcome=outcome, comment=comment or None
            ),
            lambda done: self._completed(item_id, f"{done.title} is done"),
            self._refused,
            origin=self.origin,
        )

    def _completed(self, item_id: int, message: str) -> None:
        self.keeping.stop()
        if self.store is not None:
            self.store.drop(item_id)
        if self.details is not None and self.details.item.id == item_id:
            self.form = None  # done: nothing of it to keep
        self.done.emit(message)

    def _refused(self, exc: BaseException) -> None:
        if self.form is None:
            return
        self.form.set_busy(False)
        if isinstance(exc, InvalidInput):
            self.form.show_errors(exc.message, exc.fields)
        elif isinstance(exc, BatonError):
            self.form.show_errors(exc.message, {})
        else:
            show_error(self, exc)

    def _reassign(self) -> None:
        if self.details is None:
            return
        item = self.details.item
        ask_reassign(self, self.session, f"'{item.title}'", lambda t, r: self._reassign_to(t, r))

    def _reassign_to(self, target: str, reason: str) -> None:
        if self.details is None:
            return
        item_id = self.details.item.id
        service = self.session.service

        def report(outcomes: Any) -> None:
            outcome = outcomes[0]
            if outcome.done:
                self.done.emit(f"Reassigned: {outcome.message}")
            else:
                show_error(self, BatonError(outcome.message))

        tasks.run(
            lambda: service.work.reassign([item_id], target, reason),
            report,
            origin=self.origin,
        )


def _when(stamp: Any) -> str:
    """'at 14:05 on Tue 01 Dec' for a draft's ISO time stamp (local time)."""
    try:
        moment = dt.datetime.fromisoformat(str(stamp)).astimezone()
    except ValueError:
        return "earlier"
    return f"at {moment:%H:%M} on {moment:%a %d %b}"


def _wrapped(text: str) -> QLabel:
    """A value beside its name that wraps rather than widening the pane."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label
