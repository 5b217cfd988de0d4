"""The prompt box. GUI thread only.

Enter sends, Shift+Enter starts a new line, Esc asks to stop the reply, Ctrl+Z undoes typing
and, with no typing left to undo, is left to the window (undo a deleted chat). The box does not
clear itself on send: the app calls ``clear()`` once the message is stored, so text the user
typed is never lost to a failed send. Files dragged onto the box are left to the window (it
opens them as documents) instead of pasting their paths into the message.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, QSize, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QKeySequence,
    QTextOption,
)
from PySide6.QtWidgets import QPlainTextEdit, QWidget

PLACEHOLDER = "Message Hearth… (Enter to send, Shift+Enter for a new line)"
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
LONG_PARAGRAPH = 20_000  # characters; a paragraph typed by hand never gets near


class MessageInput(QPlainTextEdit):
    """Signals: ``sendRequested(text)`` (never for blank text), ``stopRequested()``."""

    sendRequested = Signal(str)
    stopRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText(PLACEHOLDER)
        self.setTabChangesFocus(True)  # Tab moves on (keyboard users), as in a chat app
        self.setAccessibleName("Message")
        lines = self.fontMetrics().lineSpacing()
        # About three lines by default and at most eight, so the transcript keeps the room.
        self._default_height = lines * 3 + 2 * round(self.document().documentMargin()) + 6
        self.setMaximumHeight(lines * 8)
        # Qt wraps a paragraph with no place to break (a pasted one-line log, base64) in time
        # that grows with the square of its length: 400 KB took 15 s to paste and 8 s per
        # key. Such a paragraph wraps anywhere instead, which is linear.
        self.textChanged.connect(self._fit_wrap_mode)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width(), self._default_height)

    def setPlainText(self, text: str) -> None:
        self._wrap_for(text)
        super().setPlainText(text)

    def insertFromMimeData(self, source: QMimeData) -> None:
        if source.hasText():
            self._wrap_for(source.text())  # before Qt lays the pasted text out
        super().insertFromMimeData(source)

    def _wrap_for(self, text: str) -> None:
        if len(text) > LONG_PARAGRAPH and max(map(len, text.split("\n"))) > LONG_PARAGRAPH:
            self.setWordWrapMode(QTextOption.WrapMode.WrapAnywhere)

    def _fit_wrap_mode(self) -> None:
        # Both checks are O(1) per key. Back to word wrap only once the whole text is short:
        # a long paragraph elsewhere would otherwise be laid out the slow way again.
        if self.textCursor().block().length() > LONG_PARAGRAPH:
            mode = QTextOption.WrapMode.WrapAnywhere
        elif self.document().characterCount() <= LONG_PARAGRAPH:
            mode = QTextOption.WrapMode.WordWrap
        else:
            return
        if self.wordWrapMode() != mode:
            self.setWordWrapMode(mode)

    def request_send(self) -> bool:
        """Emit ``sendRequested`` with the text unless it is blank; True when emitted."""
        text = self.toPlainText()
        if not text.strip():
            return False
        self.sendRequested.emit(text)
        return True

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            # Claim Esc before any window-wide Esc shortcut does, so one press emits one stop.
            if event.key() == Qt.Key.Key_Escape:
                event.accept()
                return True
            # Ctrl+Z with no typing to undo here is the window's: it brings back a chat
            # just deleted. (A text box claims Undo even with nothing to undo.)
            if (
                event.matches(QKeySequence.StandardKey.Undo)
                and not self.document().isUndoAvailable()
            ):
                event.ignore()
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in _ENTER_KEYS:
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if mods & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
                return
            if mods == Qt.KeyboardModifier.NoModifier:
                self.request_send()
                return
        if key == Qt.Key.Key_Escape:
            self.stopRequested.emit()
            return
        super().keyPressEvent(event)

    # ---- drops: files go to the window (Documents), text is pasted as usual ----------------

    @staticmethod
    def _carries_files(event: QDragEnterEvent | QDragMoveEvent | QDropEvent) -> bool:
        mime = event.mimeData()
        return mime is not None and any(url.isLocalFile() for url in mime.urls())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._carries_files(event):
            event.ignore()  # Qt hands an ignored drag on to the parent widgets
            return
        super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._carries_files(event):
            event.ignore()
            return
        super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        if self._carries_files(event):
            event.ignore()
            return
        super().dropEvent(event)
