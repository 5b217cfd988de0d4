"""Glossary problems shown in the texts themselves: highlighted with extra selections (the
text is never rewritten), each explained by a tooltip. GUI thread only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QHelpEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QToolTip

Span = tuple[int, int]  # [start, end) in the Python string of the text

# A translucent red reads as "warning" on light and dark palettes alike, and unlike the
# palette's Highlight it cannot be mistaken for a selection.
_PROBLEM = QColor(220, 60, 40, 70)


@dataclass(frozen=True)
class TermMark:
    """Where one flagged glossary term is (the controller fills it in)."""

    message: str  # the flag it explains, as listed under the texts
    term: str
    expected: str | None  # None: the term should have stayed as it is
    source_spans: tuple[Span, ...]
    translation_spans: tuple[Span, ...]
    translation_exact: bool  # False: the spans are paragraphs holding the wrong rendering

    def source_tip(self) -> str:
        if self.expected is None:
            return f'"{self.term}" should stay as it is, untranslated.'
        return f'Expected "{self.expected}" for "{self.term}".'

    def translation_tip(self) -> str:
        if self.expected is None:
            return f'"{self.term}" should appear here unchanged.'
        if self.translation_exact:
            return f'"{self.term}" was left untranslated: expected "{self.expected}".'
        return f'Expected "{self.expected}" for "{self.term}" in this paragraph.'


def qt_position(text: str, index: int) -> int:
    """A document position for a Python string index (Qt counts UTF-16 code units)."""
    return len(text[:index].encode("utf-16-le")) // 2


class TextMarks(QObject):
    """The marks of one text box: extra selections plus their tooltips."""

    def __init__(self, edit: QPlainTextEdit) -> None:
        super().__init__(edit)
        self.edit = edit
        self._tips: list[tuple[int, int, str]] = []  # document positions
        edit.viewport().installEventFilter(self)

    def show(self, spans: Sequence[tuple[Span, str, bool]]) -> None:
        """(span, tooltip, exact) triples; inexact spans get an underline, not a fill."""
        text = self.edit.toPlainText()
        selections: list[QTextEdit.ExtraSelection] = []
        self._tips = []
        for (start, end), tip, exact in spans:
            first, last = qt_position(text, start), qt_position(text, end)
            selection = QTextEdit.ExtraSelection()
            cursor = QTextCursor(self.edit.document())
            cursor.setPosition(first)
            cursor.setPosition(last, QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor
            look = QTextCharFormat()
            if exact:
                look.setBackground(_PROBLEM)
            else:
                look.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
                look.setUnderlineColor(_PROBLEM.darker(100))
            selection.format = look
            selections.append(selection)
            self._tips.append((first, last, tip))
        self.edit.setExtraSelections(selections)

    def clear(self) -> None:
        if self._tips:
            self._tips = []
            self.edit.setExtraSelections([])

    def tip_at(self, position: int) -> str:
        return next((tip for first, last, tip in self._tips if first <= position <= last), "")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Extra selections carry no tooltips of their own: look the mark up under the mouse.
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent) and self._tips:
            position = self.edit.cursorForPosition(event.pos()).position()
            tip = self.tip_at(position)
            if tip:
                QToolTip.showText(event.globalPos(), tip, self.edit.viewport())
                return True
            QToolTip.hideText()
        return super().eventFilter(watched, event)
