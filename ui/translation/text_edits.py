"""Writing into the Translate page's text boxes."""

from __future__ import annotations

from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QPlainTextEdit


def append_text(edit: QPlainTextEdit, text: str) -> None:
    """Add streamed text at the very end, wherever the user's cursor is."""
    cursor = QTextCursor(edit.document())
    cursor.movePosition(QTextCursor.MoveOperation.End)
    cursor.insertText(text)


def replace_undoable(edit: QPlainTextEdit, text: str) -> None:
    """Replace the whole text as one edit, so Ctrl+Z brings back what the user had typed
    (setPlainText would drop the undo history)."""
    cursor = QTextCursor(edit.document())
    cursor.select(QTextCursor.SelectionType.Document)
    cursor.insertText(text)
    cursor.movePosition(QTextCursor.MoveOperation.Start)
    edit.setTextCursor(cursor)
