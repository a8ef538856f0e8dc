"""The Inbox: a person's own work and their groups' and queues' work, and the item in hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.console.export import PAGE, WORK_COLUMNS, export_rows
from desktop_app.messages import show_error
from desktop_app.panels.drafts import OPEN, Drafts
from desktop_app.panels.inbox_filters import InboxFilters, InboxPrefs
from desktop_app.panels.inbox_model import ITEM_ROLE, SORTS, InboxModel
from desktop_app.panels.item_pane import ItemPane
from desktop_app.panels.tips import FullTextTips
from desktop_app.session import AppSession
from engine.errors import BatonError

DEFAULT_WIDTHS = {1: 115, 2: 70, 3: 90, 4: 120, 5: 110, 6: 50, 7: 62}  # Item takes the rest


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
        self.filter.setMinimumWidth(160)  # room to read what is typed beside the choices
        # Typing pauses a moment before the list asks the database again.
        self.typing = QTimer(self)
        self.typing.setSingleShot(True)
        self.typing.setInterval(250)
        self.typing.timeout.connect(self._filter_changed)
        self.filter.textChanged.connect(lambda _: self.typing.start())
        self.filters = InboxFilters(self._state)
        self.filters.changed.connect(self.refresh)
        self.filters.chosen.connect(self.apply_filter)
        self.prefs: InboxPrefs | None = None
        self.applying_widths = False
        self.keeping_widths = QTimer(self)  # a drag of a column's edge is kept once it rests
        self.keeping_widths.setSingleShot(True)
        self.keeping_widths.setInterval(500)
        self.keeping_widths.timeout.connect(self._keep_widths)
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
        # The Item column takes what the list gains or loses when widened or narrowed; the
        # others keep their widths, as the person left them (``prefs``).
        for section, width in DEFAULT_WIDTHS.items():
            header.resizeSection(section, width)
        header.sectionResized.connect(self._width_changed)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setItemDelegate(FullTextTips(self.table))  # a cut-off cell's whole text
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
        filtering = QHBoxLayout()
        filtering.addWidget(self.filter, 1)
        filtering.addWidget(self.filters)
        column.addLayout(filtering)
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
        session.user_changed.connect(lambda _: self._signed_in())
        self.refresh(reset=True)
        self.check_drafts()
        self.load_prefs()

    def _signed_in(self) -> None:
        """Someone else signed in: their inbox, their drafts, their widths and filters."""
        self.refresh(reset=True)
        self.check_drafts()
        self.load_prefs()

    # ------------------------------------------------------------ the person's settings

    def load_prefs(self) -> None:
        """Read the signed-in person's column widths and saved filters (in the background)."""
        prefs = InboxPrefs.of(self.session.baton.db.url, self.session.username)
        self.prefs = None
        self.filters.use(None)
        tasks.run(prefs.reader, lambda read: self._prefs_read(prefs, read), lambda _exc: None)

    def _prefs_read(self, prefs: InboxPrefs, read: Any) -> None:
        prefs.merge(read)
        if prefs is not InboxPrefs.of(self.session.baton.db.url, self.session.username):
            return  # someone else signed in meanwhile
        self.prefs = prefs
        self.filters.use(prefs)
        widths = {**DEFAULT_WIDTHS, **prefs.columns}
        self.applying_widths = True
        header = self.table.horizontalHeader()
        for section, width in widths.items():
            if 0 < section < self.model.columnCount():
                header.resizeSection(section, width)
        self.applying_widths = False

    def _width_changed(self, section: int, _old: int, _new: int) -> None:
        if section > 0 and not self.applying_widths and self.prefs is not None:
            self.keeping_widths.start()

    def _keep_widths(self) -> None:
        if self.prefs is not None:
            header = self.table.horizontalHeader()
            columns = range(1, self.model.columnCount())
            self.prefs.columns = {section: header.sectionSize(section) for section in columns}

    def _state(self) -> dict[str, Any]:
        """The whole filter as it is now, to save under a name."""
        return {
            "text": self.filter.text().strip(),
            "show_claimed": self.show_claimed.isChecked(),
            **self.filters.choices(),
            "sort": self.model.query.get("sort"),
            "descending": bool(self.model.query.get("descending")),
        }

    def apply_filter(self, state: dict[str, Any]) -> None:
        """Show the list as a saved filter says (once, not once per setting)."""
        for widget in (self.filter, self.show_claimed):
            widget.blockSignals(True)
        self.filter.setText(str(state.get("text") or ""))
        self.show_claimed.setChecked(bool(state.get("show_claimed")))
        for widget in (self.filter, self.show_claimed):
            widget.blockSignals(False)
        self.filters.set_choices(state.get("due"), state.get("assigned"))
        sort = state.get("sort")
        if sort in SORTS:
            self.model.query = {
                **self.model.query,
                "sort": sort,
                "descending": bool(state.get("descending")),
            }
            order = (
                Qt.SortOrder.DescendingOrder
                if state.get("descending")
                else Qt.SortOrder.AscendingOrder
            )
            header = self.table.horizontalHeader()
            header.blockSignals(True)
            header.setSortIndicator(SORTS.index(sort), order)
            header.blockSignals(False)
        self.refresh()

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
            **self.filters.query(),
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
            draft = store.drop(item_id)
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
            if self.pane.drafts.memory:  # work done elsewhere: its drafts go, with a word
                self.check_drafts()

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
