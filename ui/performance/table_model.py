"""The Performance page's table model: the replies' figures, one page of rows at a time.

Passive: it holds the rows it was given and asks for more through signals; the presenter
queries storage (sorted and filtered there: 10,000 replies never sit in this model at
once unless scrolled through) and hands rows back with `reset` and `append`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from ui.performance.figures import COLUMNS, ReplyFigures

Index = QModelIndex | QPersistentModelIndex
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_ENGINE_TTFT = (
    "The engine's part only (receipt of the request to the first token): this reply was "
    "recorded before Hearth kept the moment Enter was pressed"
)


class PerformanceTableModel(QAbstractTableModel):
    """Signals: ``sortRequested(key, descending)`` when a header is clicked (a COLUMNS
    sort_key); ``moreRequested(offset)`` when the view scrolls near the end of the rows
    held, at most once until `append` answers."""

    sortRequested = Signal(str, bool)
    moreRequested = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ReplyFigures] = []
        self._total = 0
        self._asked = False

    # ---- the presenter's API -----------------------------------------------------------

    def reset(self, rows: list[ReplyFigures], total: int) -> None:
        """The first rows of a new listing (another filter, sort or a refresh); `total`: how
        many the listing holds in all."""
        self.beginResetModel()
        self._rows = list(rows)
        self._total = max(total, len(rows))
        self._asked = False
        self.endResetModel()

    def append(self, offset: int, rows: list[ReplyFigures]) -> None:
        """Rows from `offset` on, the answer to moreRequested; a stale answer is ignored."""
        self._asked = False
        if offset != len(self._rows) or not rows:
            if not rows:
                self._total = len(self._rows)  # fewer than counted: replies were deleted
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self._rows.extend(rows)
        self.endInsertRows()

    def rows(self) -> list[ReplyFigures]:
        return list(self._rows)

    def total(self) -> int:
        return self._total

    def figures(self, row: int) -> ReplyFigures:
        return self._rows[row]

    # ---- QAbstractTableModel -----------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        figures, column = self._rows[index.row()], COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(figures)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int((_RIGHT if column.numeric else _LEFT).value)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column.sort_key == "ttft_ms" and figures.ttft_ms is not None:
                return None if figures.ttft_from_enter else _ENGINE_TTFT
            if column.sort_key == "title":
                return figures.title
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].header
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section].tooltip
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._asked and len(self._rows) < self._total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._asked = True
            self.moreRequested.emit(len(self._rows))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if 0 <= column < len(COLUMNS):
            descending = order == Qt.SortOrder.DescendingOrder
            self.sortRequested.emit(COLUMNS[column].sort_key, descending)
