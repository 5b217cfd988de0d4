"""Ctrl+F: search every conversation, results with highlighted snippets. GUI thread only.

Signals: ``queryChanged(text)`` once typing pauses, ``resultActivated(conversation_id,
message_id)`` on Enter or a double click. The app controller runs the search and calls
``set_results``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAbstractTextDocumentLayout, QKeyEvent, QPainter, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

TYPING_PAUSE_MS = 150
_IDS = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class SearchResult:
    conversation_id: int
    message_id: int
    title: str
    role: str
    when: str
    snippet_html: str  # already escaped, hits in <b>


def snippet_to_html(snippet: str, hit_start: str, hit_end: str) -> str:
    """Escape the text first, then turn the hit markers (control characters that survive
    escaping untouched) into bold tags."""
    text = escape(snippet.replace("\n", " "))
    return text.replace(hit_start, "<b>").replace(hit_end, "</b>")


class _HtmlDelegate(QStyledItemDelegate):
    """Rich text rows: Qt's list views draw plain text only."""

    def _document(self, option: QStyleOptionViewItem, index: QModelIndex) -> QTextDocument:
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setHtml(str(index.data(Qt.ItemDataRole.DisplayRole)))
        doc.setTextWidth(max(100, option.rect.width() - 8))
        return doc

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        self.initStyleOption(option, index)
        doc = self._document(option, index)  # type: ignore[arg-type]
        option.text = ""
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        painter.save()
        painter.translate(option.rect.left() + 4, option.rect.top() + 2)
        context = QAbstractTextDocumentLayout.PaintContext()
        if option.state & QStyle.StateFlag.State_Selected:
            context.palette.setColor(
                context.palette.ColorRole.Text,
                option.palette.color(option.palette.ColorRole.HighlightedText),
            )
        doc.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        self.initStyleOption(option, index)
        doc = self._document(option, index)  # type: ignore[arg-type]
        return QSize(int(doc.idealWidth()), int(doc.size().height()) + 4)


class SearchDialog(QDialog):
    queryChanged = Signal(str)
    resultActivated = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Search all chats")
        self.resize(640, 480)
        self.query = QLineEdit(self)
        self.query.setPlaceholderText("Search all chats (words, any language)")
        self.query.setClearButtonEnabled(True)
        self.query.setAccessibleName("Search query")
        self.results = QListWidget(self)
        self.results.setItemDelegate(_HtmlDelegate(self.results))
        self.results.setWordWrap(True)
        self.results.setAccessibleName("Search results")
        self.status = QLabel(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.query)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.status)
        self._pause = QTimer(self, singleShot=True, interval=TYPING_PAUSE_MS)
        self._pause.timeout.connect(lambda: self.queryChanged.emit(self.query.text()))
        self.query.textChanged.connect(self._pause.start)
        self.query.returnPressed.connect(self._activate_current)
        self.results.itemActivated.connect(lambda _item: self._activate_current())

    def open_search(self) -> None:
        self.show()
        self.raise_()
        self.activateWindow()
        self.query.setFocus()
        self.query.selectAll()

    def set_results(self, query: str, results: Sequence[SearchResult]) -> None:
        if query != self.query.text():
            return  # an answer to a query the user has typed past
        self.results.clear()
        for result in results:
            item = QListWidgetItem(
                # No fixed colour: it would vanish on the selection's highlight.
                f"<small><i>{escape(result.title)} · {escape(result.role)} · "
                f"{escape(result.when)}</i></small><br>{result.snippet_html}"
            )
            item.setData(_IDS, (result.conversation_id, result.message_id))
            self.results.addItem(item)
        if results:
            self.results.setCurrentRow(0)
        if not query.strip():
            self.status.setText("")
        elif results:
            shown = len(results)
            self.status.setText(f"{shown} message{'s' if shown != 1 else ''} found")
        else:
            self.status.setText("No message matches.")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Up/Down in the query box move through the results, as in a browser's find bar.
        if self.query.hasFocus() and event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            step = 1 if event.key() == Qt.Key.Key_Down else -1
            row = min(max(self.results.currentRow() + step, 0), self.results.count() - 1)
            self.results.setCurrentRow(row)
            return
        super().keyPressEvent(event)

    def _activate_current(self) -> None:
        if self._pause.isActive():  # Enter right after typing: search first, then jump
            self._pause.stop()
            self.queryChanged.emit(self.query.text())
        item = self.results.currentItem()
        if item is None:
            return
        conversation_id, message_id = item.data(_IDS)
        self.resultActivated.emit(conversation_id, message_id)
