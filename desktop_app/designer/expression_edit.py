"""A one-line expression editor that checks what is typed, as it is typed, and completes
variable, record-field, stage, step and helper names."""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import QCompleter, QLabel, QLineEdit, QVBoxLayout, QWidget

from engine.definitions.inspection import check_expression

_WORD = re.compile(r"[A-Za-z_][\w.]*$")


class ExpressionEdit(QWidget):
    """The editor and, under it, what is wrong with the expression (if anything)."""

    committed = Signal(object)  # the text, or None when emptied

    def __init__(
        self,
        text: str | None,
        data: Callable[[], dict],  # type: ignore[type-arg]
        names: list[str],
        *,
        local: tuple[str, ...] = (),
        placeholder: str = "",
    ) -> None:
        super().__init__()
        self._data = data
        self._local = local
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.line = QLineEdit(text or "")
        self.line.setObjectName("expressionLine")
        self.line.setPlaceholderText(placeholder)
        self.problem = QLabel()
        self.problem.setObjectName("expressionProblem")
        self.problem.setProperty("role", "error")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addWidget(self.line)
        layout.addWidget(self.problem)
        self.names = QStringListModel(names + list(local), self)
        self.completer = QCompleter(self.names, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setWidget(self.line)
        self.completer.activated.connect(self._insert)
        self.line.textEdited.connect(self._typed)
        self.line.editingFinished.connect(self._commit)
        self._last = text or ""
        self.check()

    def text(self) -> str:
        return self.line.text()

    def check(self) -> str:
        """Show (and return) what is wrong with the text, '' when nothing is."""
        text = self.line.text().strip()
        message = check_expression(self._data(), text, local=self._local) if text else ""
        self.problem.setText(message)
        self.problem.setVisible(bool(message))
        self.line.setProperty("invalid", bool(message))
        self.line.setToolTip(message)
        return message

    def _typed(self, text: str) -> None:
        self.check()
        word = _WORD.search(text[: self.line.cursorPosition()])
        if word and len(word.group()) >= 1:
            self.completer.setCompletionPrefix(word.group())
            if self.completer.completionCount():
                self.completer.complete()
                return
        popup = self.completer.popup()
        if popup is not None:
            popup.hide()

    def _insert(self, completion: str) -> None:
        text, cursor = self.line.text(), self.line.cursorPosition()
        word = _WORD.search(text[:cursor])
        start = word.start() if word else cursor
        self.line.setText(text[:start] + completion + text[cursor:])
        self.line.setCursorPosition(start + len(completion))
        self.check()

    def _commit(self) -> None:
        text = self.line.text().strip()
        if text != self._last:
            self._last = text
            self.committed.emit(text or None)
