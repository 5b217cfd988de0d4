"""The transcript follows the palette: code-block and Markdown colours are baked into the
rendered HTML (Pygments writes inline colours), so when the theme changes (the Settings
dialog, or the desktop switching light/dark) the messages on screen are rendered again from
their stored text, at once. A mixin of ChatView (ui.chat.view), which holds the state these
methods use; `_shown_dark` is the palette the document was last rendered for.

Only the rendered messages are touched, each frame in place: notices between them (engine
errors, "outside the model's view" markers) stay, the view keeps the same text at its top
(or keeps following the end), and a reply being streamed keeps its text and goes on.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtGui import QPalette, QTextBlockFormat, QTextCharFormat, QTextCursor, QTextFrame

from storage.records import Role
from ui.chat.message_html import header_html
from ui.markdown.render import render_markdown

# The events after which the widget's palette may differ from the one the text was made for.
_PALETTE_EVENTS = (QEvent.Type.PaletteChange, QEvent.Type.StyleChange)


def emptied(cursor: QTextCursor, frame: QTextFrame) -> QTextCursor:
    """`cursor` in `frame`, the frame's content removed (to be rendered again), inside an edit
    block the caller ends."""
    cursor.beginEditBlock()
    cursor.setPosition(frame.firstPosition())
    cursor.setPosition(frame.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
    cursor.removeSelectedText()
    # The emptied first block may still carry the old header's formats.
    cursor.setBlockFormat(QTextBlockFormat())
    cursor.setCharFormat(QTextCharFormat())
    return cursor


class TranscriptTheme:
    """ChatView's re-rendering on a palette change (methods only; state lives in ChatView)."""

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)  # type: ignore[misc]
        if event.type() in _PALETTE_EVENTS and self._is_dark() != self._shown_dark:
            self.rerender()

    def _is_dark(self) -> bool:
        return self.palette().color(QPalette.ColorRole.Base).lightness() < 128

    def rerender(self) -> None:
        """Render every message shown again from its stored text, for the current palette."""
        self._shown_dark = self._is_dark()
        anchor = self._top_anchor()
        doc = self.document()
        doc.setLayoutEnabled(False)  # lay out once at the end, not after every message
        try:
            for message_id in self._shown_ids:
                frame, message = self._frames.get(message_id), self._messages.get(message_id)
                if frame is not None and message is not None:
                    self._replace_frame_content(
                        frame, message, show_regenerate=message_id == self._last_assistant_id
                    )
            self._rerender_reply()
        finally:
            doc.setLayoutEnabled(True)
        if anchor is not None and not self._follow_end:
            message_id, offset = anchor
            frame = self._frames.get(message_id)
            if frame is not None:
                self._hold_value(self._top_of(frame) + offset)
        elif self._follow_end:
            bar = self.verticalScrollBar()
            bar.setValue(bar.maximum())

    def _top_anchor(self) -> tuple[int, int] | None:
        """The message at the top of the view and how far into it the view starts (px)."""
        value = self.verticalScrollBar().value()
        best: tuple[int, int] | None = None
        for message_id in self._shown_ids:
            frame = self._frames.get(message_id)
            if frame is None:
                continue
            top = self._top_of(frame)
            if top > value:
                break
            best = (message_id, value - top)
        return best

    def _rerender_reply(self) -> None:
        """The reply being streamed: its finished blocks again, then its plain tail."""
        frame = self._reply_frame
        if frame is None:  # none, or scrolled far away: rendered for the palette on return
            return
        cursor = emptied(self._cursor, frame)
        cursor.insertHtml(header_html(Role.ASSISTANT))
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        dark = self._shown_dark
        for block in self._reply_blocks:
            self._insert_rendered_block(cursor, render_markdown(block, dark=dark))
        self._tail_start = cursor.position()
        cursor.insertText(self._splitter.pending, self._plain)
        if self._progress:
            cursor.insertText(self._progress, self._muted)
        cursor.endEditBlock()
