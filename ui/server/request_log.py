"""The API server dialog's request log: one row per answered request, newest first. Passive:
the presenter hands it rows already worded (LogRow). GUI thread only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex
# The log is a glance at recent traffic, not a record: older rows fall off the end.
MAX_ROWS = 500
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


@dataclass(frozen=True)
class LogRow:
    """One request as the log shows it: every cell is text ("" where it has no value);
    `detail` (an error in plain words) is the status cell's tooltip."""

    time: str
    endpoint: str
    model: str
    prompt_tokens: str
    completion_tokens: str
    first_token: str
    speed: str
    status: str
    detail: str = ""


# (header, LogRow field, right-aligned: figures line up on their last digit)
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("Time", "time", False),
    ("Endpoint", "endpoint", False),
    ("Model", "model", False),
    ("Prompt tok", "prompt_tokens", True),
    ("Reply tok", "completion_tokens", True),
    ("First token", "first_token", True),
    ("Decode", "speed", True),
    ("Status", "status", False),
)
HEADER_TIPS = {
    "First token": "From the request being read to its first token reaching the server "
    "(waiting behind the window's chat included)",
    "Decode": "The engine's decode speed for this reply (tokens after the first, per second)",
}


class RequestLogModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[LogRow] = []

    def add(self, row: LogRow) -> None:
        """Put `row` on top; beyond MAX_ROWS the oldest goes."""
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._rows.insert(0, row)
        self.endInsertRows()
        if len(self._rows) > MAX_ROWS:
            last = len(self._rows) - 1
            self.beginRemoveRows(QModelIndex(), last, last)
            self._rows.pop()
            self.endRemoveRows()

    def rows(self) -> list[LogRow]:
        """Newest first."""
        return list(self._rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        _header, name, right = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return getattr(row, name)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if right else _LEFT
        if role == Qt.ItemDataRole.ToolTipRole and name == "status" and row.detail:
            return row.detail
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        header = COLUMNS[section][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return header
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(header)
        return None
