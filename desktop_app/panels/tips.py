"""Tooltips that show a table cell's whole text when the column is too narrow for it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
)

Index = QModelIndex | QPersistentModelIndex


class FullTextTips(QStyledItemDelegate):
    """Draws cells as usual; hovering over a cut-off cell shows its full text (with the
    model's own tooltip, such as 'Overdue', below it)."""

    def tip(self, option: QStyleOptionViewItem, index: Index) -> str | None:
        """The tooltip for ``index`` drawn in ``option.rect``: its text if it does not fit."""
        own = index.data(Qt.ItemDataRole.ToolTipRole)
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if not isinstance(text, str) or not text:
            return own if isinstance(own, str) else None
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget is not None else None
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1 if style else 3
        fits = option.fontMetrics.horizontalAdvance(text) + 2 * margin <= option.rect.width()
        parts = ([] if fits else [text]) + ([own] if isinstance(own, str) and own else [])
        return "\n".join(parts) or None

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: Index,
    ) -> bool:
        if event.type() != QEvent.Type.ToolTip or not index.isValid():
            return super().helpEvent(event, view, option, index)
        tip = self.tip(option, index)
        if tip:
            QToolTip.showText(event.globalPos(), tip, view)
        else:
            QToolTip.hideText()
            event.ignore()
        return True
