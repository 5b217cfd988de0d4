"""Paging and scrolling of the transcript: which messages are in the document, and where
the view stands.

Only a window of a long chat is rendered (PAGE_SIZE at a time, at most MAX_RENDERED); pages
are added or dropped as the user scrolls, without moving the text under their eyes. A mixin
of ChatView (ui.chat.view), which holds the state these methods use.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QTimer
from PySide6.QtGui import QTextCursor, QTextFrame

from storage.records import MessageRecord

# How close to the end still counts as "at the bottom" (a wheel notch lands a few px off).
_BOTTOM_SLACK_PX = 4


PAGE_SIZE = 100  # messages rendered at once; older ones follow as the user scrolls up
# At most this many messages are in the document: scrolling up past it drops the newest ones
# (rendered again when the user scrolls back down), so memory stays flat on a huge chat.
MAX_RENDERED = 4 * PAGE_SIZE


def outside_view_marker(count: int) -> str:
    what = "message above is" if count == 1 else f"{count} messages above are"
    return (
        f"✂ The {what} outside the model's view: the chat outgrew the context window, "
        "so the model no longer sees them."
    )


class TranscriptPaging:
    """ChatView's paging and scrolling (methods only; the state lives in ChatView)."""

    def earlier_count(self) -> int:
        """Messages of the conversation not rendered above the first one shown."""
        return self._window.first

    def later_count(self) -> int:
        """Messages not rendered below the last one shown (the user scrolled far up)."""
        return self._window.total - self._window.end

    def rendered_count(self) -> int:
        """Messages in the document now (the reply being streamed not included)."""
        return len(self._shown_ids)

    def load_earlier(self) -> int:
        """Render the previous page above what is shown, keeping what the user looks at in
        place; beyond MAX_RENDERED the newest rendered messages go. Returns how many
        messages were added."""
        window = self._window
        if window.first == 0:
            return 0
        start = max(0, window.first - PAGE_SIZE)
        page = window.records(start, window.first)
        value = self.verticalScrollBar().value()
        anchor = self._frames.get(self._shown_ids[0]) if self._shown_ids else None
        top_before = self._top_of(anchor) if anchor is not None else 0
        doc = self.document()
        before = doc.characterCount()
        cursor = QTextCursor(doc)
        cursor.setPosition(0)
        cursor.beginEditBlock()
        self._insert_run(cursor, page, self._last_assistant_id)
        cursor.endEditBlock()
        if self._reply_frame is not None:  # the streaming tail moved down by what was added
            self._tail_start += doc.characterCount() - before
        self._shown_ids[:0] = [m.id for m in page]
        window.first = start
        if window.end - window.first > MAX_RENDERED:
            self._drop_newest(window.end - window.first - MAX_RENDERED)
        if anchor is not None:
            self._hold_value(value + self._top_of(anchor) - top_before)
        return len(page)

    def load_later(self) -> int:
        """Render the next page below what is shown (after the user scrolled far up and came
        back down); beyond MAX_RENDERED the oldest rendered messages go. Returns how many
        messages were added."""
        window = self._window
        if window.attached:
            return 0
        stop = min(window.total, window.end + PAGE_SIZE)
        page = window.records(window.end, stop)
        cursor = self._end_of_root()
        cursor.beginEditBlock()
        self._insert_run(cursor, page, self._last_assistant_id)
        cursor.endEditBlock()
        self._shown_ids += [m.id for m in page]
        window.end = stop
        if window.attached and self._reply_id is not None and self._reply_frame is None:
            self._attach_reply()
        if window.end - window.first > MAX_RENDERED:
            self._drop_oldest(window.end - window.first - MAX_RENDERED)
        return len(page)

    def _insert_run(
        self, cursor: QTextCursor, messages: Sequence[MessageRecord], last_assistant: int | None
    ) -> None:
        hidden_run = 0
        for message in messages:
            if hidden_run and message.id not in self._outside:
                self._insert_notice(cursor, outside_view_marker(hidden_run))
                hidden_run = 0
            self._insert_message_at(cursor, message, show_regenerate=message.id == last_assistant)
            if message.id in self._outside:
                hidden_run += 1
        if hidden_run:
            self._insert_notice(cursor, outside_view_marker(hidden_run))

    def is_at_bottom(self) -> bool:
        """The chat's end is in view (not merely the end of what is rendered)."""
        bar = self.verticalScrollBar()
        return self._window.attached and bar.value() >= bar.maximum() - _BOTTOM_SLACK_PX

    def scroll_to_bottom(self) -> None:
        """Jump to the chat's end and keep following new text from now on."""
        self._show_latest_if_away()
        self._follow_end = True
        self._pending_value = None
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def scroll_to_message(self, message_id: int) -> bool:
        """Bring a message to the top of the view (a search result, a version switched to),
        with the text cursor at its start and nothing selected: a whole message in the
        selection colour read as an error. False when it is not shown (an older version of a
        reply)."""
        frame = self._frames.get(message_id)
        if frame is None:
            index = self._window.index_of(message_id)
            if index is None:
                return False
            # Render the pages around it directly: no need to lay out everything in between.
            self._render_range(
                max(0, index - PAGE_SIZE), min(self._window.total, index + PAGE_SIZE)
            )
            frame = self._frames[message_id]
        self._follow_end = False
        self._pending_value = None
        self.document().documentLayout()  # make sure the layout exists before scrolling
        cursor = QTextCursor(self.document())
        cursor.setPosition(frame.firstPosition())
        top = self.document().documentLayout().blockBoundingRect(cursor.block()).top()
        # The cursor first: setTextCursor would scroll it into view at the bottom edge.
        self.setTextCursor(cursor)
        self.verticalScrollBar().setValue(int(top))
        self._follow_end = self.is_at_bottom()
        return True

    def follows_end(self) -> bool:
        """True while new text scrolls the view (the user has not scrolled away)."""
        return self._follow_end

    def _on_user_scrolled(self, _action: int) -> None:
        # Emitted before the value moves; sliderPosition already holds the target.
        bar = self.verticalScrollBar()
        self._pending_value = None  # the user moves on: their position wins
        self._follow_end = (
            self._window.attached and bar.sliderPosition() >= bar.maximum() - _BOTTOM_SLACK_PX
        )

    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        bar = self.verticalScrollBar()
        if self._pending_value is not None:
            # Pages were added or dropped: keep the same text under the user's eyes.
            bar.setValue(self._pending_value)
            if bar.value() == self._pending_value:
                self._pending_value = None
        elif self._follow_end:
            bar.setValue(maximum)

    def _on_scrolled(self, value: int) -> None:
        # At the top (or bottom) with messages left there: render the next page after this
        # event, so a drag in progress is not disturbed.
        bar = self.verticalScrollBar()
        if value == 0 and self._window.first > 0 and not self._earlier_pending:
            self._earlier_pending = True
            QTimer.singleShot(0, self._load_earlier_at_top)
        elif (
            value >= bar.maximum() - _BOTTOM_SLACK_PX
            and not self._window.attached
            and not self._later_pending
        ):
            self._later_pending = True
            QTimer.singleShot(0, self._load_later_at_bottom)

    def _load_earlier_at_top(self) -> None:
        self._earlier_pending = False
        if self.verticalScrollBar().value() == 0:
            self.load_earlier()

    def _load_later_at_bottom(self) -> None:
        self._later_pending = False
        bar = self.verticalScrollBar()
        if bar.value() >= bar.maximum() - _BOTTOM_SLACK_PX:
            self.load_later()

    def _render_range(
        self, start: int, stop: int, shown: list[MessageRecord] | None = None
    ) -> None:
        """Replace the document with messages [start, stop) of the chat (`shown`, when the
        caller has read them already), plus the reply in progress when that range reaches
        the end."""
        doc = self.document()
        # Frame wrappers die with the document's content: drop them first.
        self._frames.clear()
        self._messages.clear()
        self._reply_frame = None
        self._pending_value = None
        window = self._window
        if shown is None:
            shown = window.records(start, stop)
        # Layout once at the end instead of after every inserted block (QtDMM#69: 6 s → 75 ms).
        doc.setLayoutEnabled(False)
        try:
            doc.clear()
            self._cursor = QTextCursor(doc)
            self._cursor.beginEditBlock()
            self._insert_run(self._cursor, shown, self._last_assistant_id)
            self._cursor.endEditBlock()
            window.first, window.end = start, stop
            self._shown_ids = [m.id for m in shown]
            if window.attached and self._reply_id is not None:
                self._attach_reply()
        finally:
            doc.setLayoutEnabled(True)

    def _show_latest_if_away(self) -> None:
        """Render the newest page again if the user scrolled so far up that it was dropped."""
        if not self._window.attached:
            total = self._window.total
            self._render_range(max(0, total - PAGE_SIZE), total)
            self._follow_end = True

    def _drop_newest(self, count: int) -> None:
        """Remove the last `count` rendered messages (and the reply in progress, which keeps
        streaming into memory) from the document."""
        gone = self._shown_ids[-count:]
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._frames[gone[0]].firstPosition() - 1)
        cursor.setPosition(
            self.document().rootFrame().lastPosition(), QTextCursor.MoveMode.KeepAnchor
        )
        cursor.removeSelectedText()
        if self._reply_frame is not None and self._reply_id is not None:
            del self._frames[self._reply_id]
            self._reply_frame = None
        self._forget(gone)
        del self._shown_ids[-count:]
        self._window.end -= count
        self._follow_end = False

    def _drop_oldest(self, count: int) -> None:
        """Remove the first `count` rendered messages, keeping the view where it is."""
        gone = self._shown_ids[:count]
        keep = self._frames[self._shown_ids[count]]
        value = self.verticalScrollBar().value()
        top_before = self._top_of(keep)
        doc = self.document()
        before = doc.characterCount()
        cursor = QTextCursor(doc)
        cursor.setPosition(0)
        cursor.setPosition(keep.firstPosition() - 1, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        if self._reply_frame is not None:
            self._tail_start -= before - doc.characterCount()
        self._forget(gone)
        del self._shown_ids[:count]
        self._window.first += count
        if not self._follow_end:
            self._hold_value(value - (top_before - self._top_of(keep)))

    def _forget(self, message_ids: list[int]) -> None:
        for message_id in message_ids:
            self._frames.pop(message_id, None)
            self._messages.pop(message_id, None)

    def _top_of(self, frame: QTextFrame) -> int:
        """Where a message starts in the document, in pixels (lays it out if needed)."""
        block = self.document().findBlock(frame.firstPosition())
        return int(self.document().documentLayout().blockBoundingRect(block).top())

    def _hold_value(self, value: int) -> None:
        """Scroll to `value` now, or as soon as the layout has grown far enough."""
        bar = self.verticalScrollBar()
        bar.setValue(value)
        self._pending_value = None if bar.value() == value else value
