"""The Inbox: a person's own work and their groups' and queues' work, and the item in hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.console.export import PAGE, WORK_COLUMNS, export_rows
from desktop_app.console.reassign import ask_reassign
from desktop_app.messages import describe, show_error
from desktop_app.panels.drafts import OPEN, Drafts
from desktop_app.panels.form import FormView
from desktop_app.panels.inbox_model import ITEM_ROLE, InboxModel
from desktop_app.session import AppSession
from engine.errors import BatonError, InvalidInput
from engine.services.work import ItemDetails


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
        self.scroller.hide()
        outer.addWidget(self.scroller)
        # Reassign and the form's buttons, pinned below the scrolling item: always in sight,
        # and the pane is never narrower than they are (a splitter stops at that width).
        self.bar = QWidget()
        self.bar.setObjectName("itemActions")
        self.actions = QHBoxLayout(self.bar)
        self.actions.setContentsMargins(0, 0, 0, 0)
        self.reassign = QPushButton("Reassign…")
        self.reassign.setObjectName("reassign")
        self.reassign.clicked.connect(self._reassign)
        self.actions.addWidget(self.reassign)
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
        if draft is not None and item.status not in OPEN:
            store.forget(item.id)
            draft = None
            who = f" by {item.completed_by}" if item.completed_by else ""
            self.status.emit(
                f"Your draft of '{item.title}' was dropped: it was {item.status.lower()}{who}."
            )
            self.note.setText(f"Your draft was dropped: this item was {item.status.lower()}{who}.")
        body = QWidget()
        layout = QVBoxLayout(body)
        title = QLabel(item.title)
        title.setObjectName("itemTitle")
        title.setProperty("role", "title")
        layout.addWidget(title)
        due = f" · due {item.due_at.astimezone():%a %d %b %Y %H:%M}" if item.due_at else ""
        where = QLabel(
            f"{item.orchestration.replace('_', ' ').title()} · run {item.run_id} · "
            f"{item.stage.replace('_', ' ').capitalize()}{due}"
        )
        where.setProperty("role", "muted")
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
                    facts.addRow(key.replace("_", " ").capitalize(), QLabel(str(value)))
            layout.addLayout(facts)
        if details.earlier_outputs:
            layout.addWidget(self._section("Earlier steps"))
            earlier = QFormLayout()
            for step, outputs in details.earlier_outputs.items():
                shown = ", ".join(f"{k}: {v}" for k, v in outputs.items() if v not in (None, ""))
                earlier.addRow(step.split(".")[-1].replace("_", " ").capitalize(), QLabel(shown))
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
        while self.actions.count() > 1:  # the buttons of the form shown before
            taken = self.actions.takeAt(1).widget()
            if taken is not None:
                taken.deleteLater()
        self.actions.addWidget(self.form.action_bar, 1)
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
        row = QHBoxLayout(strip)
        row.setContentsMargins(0, 4, 0, 4)
        for _, label, status in details.progress:
            chip = QLabel(label)
            chip.setProperty("chip", (status or "NotStarted"))
            chip.setToolTip(status or "not reached yet")
            row.addWidget(chip)
        row.addStretch(1)
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
            self.store.forget(item_id)
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


class InboxPanel(QWidget):
    title = "Inbox"
    status = Signal(str)

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.model = InboxModel(self._load)
        self.model.query.update(user=session.username, hide_claimed_by_others=True, text=None)
        self.known: set[int] = set()
        self.total: int | None = None
        self.counts = tasks.Latest()
        # This panel's own changes (completing, claiming) refresh it when they are done; the
        # notices they cause are their echo, not news (``_changed``).
        self.origin = tasks.new_origin("inbox")

        self.filter = QLineEdit()
        self.filter.setObjectName("inboxFilter")
        self.filter.setPlaceholderText("Filter your work…")
        self.filter.setClearButtonEnabled(True)
        # Typing pauses a moment before the list asks the database again.
        self.typing = QTimer(self)
        self.typing.setSingleShot(True)
        self.typing.setInterval(250)
        self.typing.timeout.connect(self._filter_changed)
        self.filter.textChanged.connect(lambda _: self.typing.start())
        self.table = QTableView()
        self.table.setObjectName("inboxTable")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(7, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setMinimumSectionSize(50)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for section, width in ((1, 115), (2, 70), (3, 90), (4, 95), (5, 110), (6, 50), (7, 62)):
            header.resizeSection(section, width)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setAlternatingRowColors(True)
        self.table.selectionModel().currentRowChanged.connect(self._selected)
        self.claim = QPushButton("Claim")
        self.claim.setObjectName("claim")
        self.claim.clicked.connect(lambda: self._claim(True))
        self.release = QPushButton("Release")
        self.release.setObjectName("release")
        self.release.clicked.connect(lambda: self._claim(False))
        self.claim.setEnabled(False)  # until an item that can be claimed is chosen
        self.release.setEnabled(False)
        self.count = QLabel()
        self.count.setProperty("role", "muted")
        self.show_claimed = QCheckBox("Show work others have claimed")
        self.show_claimed.setObjectName("showClaimed")
        self.show_claimed.toggled.connect(lambda _: self.refresh())
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setObjectName("inboxExport")
        self.export_button.clicked.connect(lambda: self.export())

        left = QWidget()
        column = QVBoxLayout(left)
        column.addWidget(self.filter)
        column.addWidget(self.table)
        buttons = QHBoxLayout()
        buttons.addWidget(self.claim)
        buttons.addWidget(self.release)
        buttons.addWidget(self.show_claimed)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        buttons.addWidget(self.count)
        column.addLayout(buttons)
        self.pane = ItemPane(session, origin=self.origin)
        self.pane.done.connect(self._finished)
        self.pane.status.connect(self.status)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.pane)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([800, 600])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.model.loaded.connect(self._loaded)
        session.changed.connect(self._changed)
        session.user_changed.connect(lambda _: (self.refresh(reset=True), self.check_drafts()))
        self.refresh(reset=True)
        self.check_drafts()

    # ------------------------------------------------------------ data

    def _load(self, offset: int, limit: int, query: dict[str, Any]) -> list[Any]:
        """Called off the GUI thread, with the filter as it was when the load was asked."""
        return self.session.service.work.list(
            user=query["user"],
            limit=limit,
            offset=offset,
            **{k: v for k, v in query.items() if k != "user"},
        )

    def export(self) -> Any:
        """The work listed, as filtered and sorted, to a CSV file (in the background)."""
        query, work = dict(self.model.query), self.session.service.work
        pages = lambda: work.stream(**query, page_size=PAGE)  # noqa: E731
        return export_rows(self, "work items", pages, WORK_COLUMNS, self.total, self.status.emit)

    def _filter_changed(self) -> None:
        self.refresh()

    def refresh(self, *, reset: bool = False) -> None:
        if reset:
            self.known.clear()
            self.pane.show_item(None)
        # Work someone else has claimed is theirs for now: it leaves this inbox until released.
        filters: dict[str, Any] = {
            "user": self.session.username,
            "hide_claimed_by_others": not self.show_claimed.isChecked(),
            "text": self.filter.text().strip() or None,
        }
        self.model.query = {**self.model.query, **filters}
        self.model.reload()
        work = self.session.service.work
        self.counts.run(
            lambda: work.count(**filters),
            self._counted,
            lambda _exc: None,  # the list itself shows what went wrong
        )

    def check_drafts(self) -> None:
        """Drop (and say so) the drafts of items completed, canceled or handed to someone
        else since they were typed: at the start and when someone else signs in."""
        store, work = self.pane.drafts, self.session.service.work
        known = list(store.items()) if store.memory is not None else None

        def look() -> tuple[Any, list[tuple[int, Any]]]:
            read = store.reader()
            gone: list[tuple[int, Any]] = []
            for item_id in known if known is not None else list(read or {}):
                try:
                    info = work.get(item_id)
                except BatonError:  # gone, or no longer this person's to see
                    gone.append((item_id, None))
                    continue
                if info.status not in OPEN:
                    gone.append((item_id, info))
            return read, gone

        tasks.run(look, lambda answer: self._drafts_checked(store, *answer), lambda _exc: None)

    def _drafts_checked(self, store: Drafts, read: Any, gone: list[tuple[int, Any]]) -> None:
        store.merge(read)
        said = []
        for item_id, info in gone:
            draft = store.forget(item_id)
            if draft is None:
                continue
            title = draft.get("title") or f"item {item_id}"
            if info is None:
                said.append(f"Your draft of '{title}' was dropped: the item is no longer yours.")
            else:
                who = f" by {info.completed_by}" if info.completed_by else ""
                said.append(
                    f"Your draft of '{title}' was dropped: it was {info.status.lower()}{who}."
                )
        if len(said) == 1:
            self.status.emit(said[0])
        elif said:
            self.status.emit(
                f"{len(said)} drafts were dropped: their items were done elsewhere "
                "or are no longer yours."
            )

    def _counted(self, total: int) -> None:
        self.total = total
        self._show_count()

    def _changed(self, change: frozenset[str]) -> None:
        if "work" in change and not tasks.echo(change, self.origin):
            self.refresh()

    def _loaded(self) -> None:
        ids = {item.id for item in self.model.items}
        new = ids - self.known
        if self.known and new:
            count = len(new)
            self.status.emit(f"{count} new item{'s' if count > 1 else ''} of work arrived")
            from desktop_app.notifications import notify

            only = next(iter(new)) if count == 1 else None  # a click opens it
            notify(
                "New work in Baton",
                f"{count} new item{'s' if count > 1 else ''} in your inbox",
                f"baton://work/{only}?for={self.session.username}" if only else None,
            )
        self.known = ids
        self._keep_selection()
        self._buttons(self.selected_item())
        self._show_count()

    def _show_count(self) -> None:
        total = self.total if self.total is not None else len(self.model.items)
        noun = "item" if total == 1 else "items"
        text = f"{total} {noun}"
        if self.model.exhausted:  # every row is here: the overdue ones can be counted
            now = dt.datetime.now(dt.UTC)
            overdue = sum(1 for i in self.model.items if i.due_at and i.due_at < now)
            text += f" · {overdue} overdue" if overdue else ""
        elif len(self.model.items) < total:
            text += f" · {len(self.model.items)} shown, scroll for more"
        self.count.setText(text)

    def open_item(self, item_id: int) -> None:
        """Show this item beside the list (a link, a notification), selected when listed."""
        self.pane.show_item(item_id)
        self._keep_selection()

    def _keep_selection(self) -> None:
        """Select the item still shown beside it again (a reload keeps the selection on its
        row, but a filter may have hidden it meanwhile), without showing it anew: the form
        may be half filled in."""
        shown = self.pane.item_id
        row = next((r for r, item in enumerate(self.model.items) if item.id == shown), None)
        if row is None:
            return
        index = self.model.index(row, 0)
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.table.selectionModel().setCurrentIndex(index, flags)

    def selected_item(self) -> Any:
        index = self.table.currentIndex()
        return self.model.data(index, ITEM_ROLE) if index.isValid() else None

    def _selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        item = self.model.data(current, ITEM_ROLE) if current.isValid() else None
        self._buttons(item)
        chosen = item.id if item is not None else None
        if chosen != self.pane.item_id:
            self.pane.show_item(chosen)

    def _buttons(self, item: Any) -> None:
        """Claim and Release as the selected item is now (a reload may have changed it)."""
        self.claim.setEnabled(
            item is not None and item.assignee_kind != "user" and not item.claimed_by
        )
        self.release.setEnabled(item is not None and item.claimed_by == self.session.username)

    def _claim(self, claim: bool) -> None:
        item = self.selected_item()
        if item is None:
            return
        service = self.session.service
        action = service.work.claim if claim else service.work.release
        tasks.run(
            lambda: action(item.id),
            lambda _: self.refresh(),
            lambda e: show_error(self, e),
            origin=self.origin,
        )

    def _finished(self, message: str) -> None:
        self.status.emit(message)
        self.refresh(reset=True)
