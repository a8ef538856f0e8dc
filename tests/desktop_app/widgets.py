"""What the desktop stories measure of widgets as a person sees them."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox


def text_room(box: QComboBox) -> int:
    """The width a combo box has for its text, inside its frame and beside its arrow."""
    option = QStyleOptionComboBox()
    box.initStyleOption(option)
    field = box.style().subControlRect(
        QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, box
    )
    return field.width()


def widest_item(box: QComboBox) -> int:
    """The width of the box's longest entry, in its font."""
    metrics = box.fontMetrics()
    return max((metrics.horizontalAdvance(box.itemText(i)) for i in range(box.count())), default=0)
