"""Table items shown muted (a model that cannot be used, a benchmark that failed) in the
palette's placeholder-text colour as it is when they paint, so a theme change greys them for
the new palette at once (issue 15). GUI thread only.

A foreground brush set on the item (`setForeground`) is a colour value: taken from the light
palette it stayed the light palette's grey after a switch to dark. The item keeps only the
fact that it is muted (`MUTED_ROLE`); the view's delegate picks the colour.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidgetItem,
)

MUTED_ROLE = Qt.ItemDataRole.UserRole + 0x4D55  # clear of the roles the tables use themselves
_GROUPS = (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive, QPalette.ColorGroup.Disabled)


def mute(item: QTableWidgetItem) -> None:
    item.setData(MUTED_ROLE, True)


class MutedItemDelegate(QStyledItemDelegate):
    """Qt's own item delegate, with muted items' text in the PlaceholderText colour."""

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        if index.data(MUTED_ROLE):
            palette = option.palette  # the view's palette, as it is now
            for group in _GROUPS:
                muted = palette.color(group, QPalette.ColorRole.PlaceholderText)
                palette.setColor(group, QPalette.ColorRole.Text, muted)
            option.palette = palette


def show_muted_items(view: QAbstractItemView) -> MutedItemDelegate:
    """Give `view` the delegate that paints muted items (its default delegate otherwise)."""
    delegate = MutedItemDelegate(view)
    view.setItemDelegate(delegate)
    return delegate
