"""The Translate page's list of problems in a translation, and the marks that show where
the glossary ones are in the texts. GUI thread only.

A mixin of `TranslationPanel` (ui/translation/panel.py), which owns the widgets named
below and ``source_text``."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QPlainTextEdit

from ui.translation.glossary import GlossaryEditor
from ui.translation.marks import TermMark, TextMarks, qt_position


class FlagsView:
    flags_label: QLabel
    flags_list: QListWidget
    source_edit: QPlainTextEdit
    glossary: GlossaryEditor
    _marks: list[TermMark]
    _source_marks: TextMarks
    _translation_marks: TextMarks

    def show_flags(self, flags: Sequence[str], marks: Sequence[TermMark] = ()) -> None:
        """Problems the last translation has (glossary terms not respected, lost markers),
        listed once each; `marks` say where the glossary ones are in the current texts."""
        flags = list(dict.fromkeys(flags))
        self._clear_marks()
        self._marks = list(marks)
        self.flags_list.clear()
        for flag in flags:
            item = QListWidgetItem(f"• {flag}", self.flags_list)
            mark = self._mark_for(flag)
            if mark is not None:
                item.setToolTip(mark.source_tip() + " Click to find it in the text.")
        self.flags_label.setVisible(bool(flags))
        self.flags_list.setVisible(bool(flags))
        self._source_marks.show(
            [(span, mark.source_tip(), True) for mark in marks for span in mark.source_spans]
        )
        self._translation_marks.show(
            [
                (span, mark.translation_tip(), mark.translation_exact)
                for mark in marks
                for span in mark.translation_spans
            ]
        )
        terms = [flag.split('"')[1] for flag in flags if flag.count('"') >= 2]
        self.glossary.mark_violations(terms)

    def flags_text(self) -> str:
        if not self.flags_list.isVisible():
            return ""
        lines = [self.flags_list.item(i).text() for i in range(self.flags_list.count())]
        return "\n".join([self.flags_label.text(), *lines])

    def _mark_for(self, flag: str) -> TermMark | None:
        return next((mark for mark in self._marks if mark.message == flag), None)

    def _clear_marks(self) -> None:
        self._marks = []
        self._source_marks.clear()
        self._translation_marks.clear()

    def _go_to_flag(self, item: QListWidgetItem) -> None:
        """Select the flagged term's first occurrence in the source."""
        mark = self._mark_for(item.text().removeprefix("• "))
        if mark is None or not mark.source_spans:
            return
        text = self.source_text()
        start, end = mark.source_spans[0]
        cursor = QTextCursor(self.source_edit.document())
        cursor.setPosition(qt_position(text, start))
        cursor.setPosition(qt_position(text, end), QTextCursor.MoveMode.KeepAnchor)
        self.source_edit.setTextCursor(cursor)
        self.source_edit.ensureCursorVisible()
        self.source_edit.setFocus()
