"""The conversation transcript: one QTextDocument, one QTextFrame per message.

Everything here runs on the GUI thread. The app controller feeds it finished records
(``set_messages``, ``append_message``) and the reply being written (``begin_reply`` →
``append_delta``… → ``finish_reply``); the view never asks anyone for data.

Streaming appends at the end of the reply's frame with a cursor of its own, so the cost of a
delta does not grow with the conversation, and the user's selection never moves. Finished
markdown blocks are rendered once and swapped in for their plain text; only the unfinished
tail is re-typed, so the cost does not grow with the reply either.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from html import escape

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QShowEvent,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFrame,
    QTextFrameFormat,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from storage.records import MessageRecord, Role
from ui.chat.message_html import MUTED, FirstTokenSource, header_html, message_html
from ui.chat.transcript_window import TranscriptWindow
from ui.chat.view_links import COPIED_FEEDBACK_MS, TranscriptLinks
from ui.chat.view_paging import MAX_RENDERED, PAGE_SIZE, TranscriptPaging
from ui.chat.view_theme import TranscriptTheme, emptied
from ui.markdown.blocks import BlockSplitter
from ui.markdown.render import render_markdown


def _first_block_format(html: str) -> QTextBlockFormat:
    """The block format Qt gives the first block of `html` when it is parsed on its own."""
    doc = QTextDocument()
    doc.setHtml(html)
    return doc.begin().blockFormat()


class ChatView(TranscriptTheme, TranscriptPaging, TranscriptLinks, QTextBrowser):
    """Read-only transcript. Signals fire on the GUI thread:

    - ``regenerateRequested(message_id)``: the user clicked "Regenerate".
    - ``editRequested(message_id)``: the user clicked "Edit" under their message.
    - ``versionRequested(message_id, step)``: "‹ older" (-1) or "newer ›" (+1) clicked.
    - ``timingRequested(message_id)``: "Timing" clicked under a reply.
    """

    regenerateRequested = Signal(int)
    editRequested = Signal(int)
    versionRequested = Signal(int, int)  # message id, -1 older / +1 newer
    timingRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Links are data from the model: never follow them inside the view.
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._on_anchor_clicked)
        doc = self.document()
        # The transcript is rebuilt, not edited by the user: an undo stack would only hold
        # a copy of every streamed delta.
        doc.setUndoRedoEnabled(False)
        doc.setDocumentMargin(12)
        self._cursor = QTextCursor(doc)  # the view's own; the user's cursor is untouched
        self._frames: dict[int, QTextFrame] = {}
        self._messages: dict[int, MessageRecord] = {}
        self._last_assistant_id: int | None = None
        self._reply_id: int | None = None
        self._reply_frame: QTextFrame | None = None
        self._reply_blocks: list[str] = []  # finished markdown blocks, already rendered
        self._splitter = BlockSplitter()
        self._tail_start = 0  # document position where the plain-text tail begins
        self._plain = QTextCharFormat()
        self._muted = QTextCharFormat()
        self._muted.setForeground(QColor(MUTED))
        self._muted.setFontItalic(True)
        self._progress = ""  # "reading the prompt: ..." shown until the reply's first text
        # A reply's times to first token (from its stored trace), given by the app.
        self.first_token_source: FirstTokenSource | None = None
        # Follow the end unless the user scrolled away from it. Layout is lazy (and off
        # during bulk loads), so the range grows after our edits: follow it when it does.
        # Only user actions (wheel, drag, keys) change the decision; Qt's own scrolling,
        # such as ensureCursorVisible on first show, does not.
        self._follow_end = True
        bar = self.verticalScrollBar()
        bar.actionTriggered.connect(self._on_user_scrolled)
        bar.rangeChanged.connect(self._on_range_changed)
        bar.valueChanged.connect(self._on_scrolled)
        self._window = TranscriptWindow()
        self._shown_ids: list[int] = []  # the rendered messages, top to bottom
        self._outside: frozenset[int] = frozenset()
        # A scroll value to restore once the layout has grown enough to allow it: pages added
        # or dropped must not move the text under the user's eyes.
        self._pending_value: int | None = None
        self._earlier_pending = False
        self._later_pending = False
        self._copied_id: int | None = None  # the message whose footer says "Copied ✓"
        self._copied_timer = QTimer(self, singleShot=True, interval=COPIED_FEEDBACK_MS)
        self._copied_timer.timeout.connect(lambda: self._show_copied(None))
        self._shown_dark = self._is_dark()  # the palette the text is rendered for (view_theme)

    # ---- whole transcript --------------------------------------------------------------

    def set_messages(
        self, messages: Sequence[MessageRecord], outside_view: Collection[int] = ()
    ) -> None:
        """Show a conversation, replacing what was shown (and any reply in progress).

        Only the newest PAGE_SIZE messages are rendered; older ones are rendered a page at a
        time when the user scrolls to the top, so a 10,000-message chat opens at once and
        only what was looked at is laid out. `messages` may be a lazy sequence that loads
        records on demand (the app's LazyPath); only slices of it are read.

        `outside_view`: ids of messages the model no longer sees (the chat outgrew its
        context); a marker follows each run of them so nothing is left out silently.
        """
        self._reset_reply()
        self._window.reset(messages)
        self._outside = frozenset(outside_view)
        start = max(0, len(messages) - PAGE_SIZE)
        newest = self._window.records(start, len(messages))
        self._last_assistant_id = next(
            (m.id for m in reversed(newest) if m.role is Role.ASSISTANT), None
        )
        self._render_range(start, len(messages), newest)
        self.scroll_to_bottom()

    def append_message(self, message: MessageRecord) -> None:
        """Add one finished message at the end (e.g. the user's just-stored prompt). Shows the
        chat's end first if the user had scrolled far up: they just sent something."""
        self._show_latest_if_away()
        if message.role is Role.ASSISTANT:
            self._drop_regenerate_link()
            self._last_assistant_id = message.id
        self._window.add(message)
        self._window.end = self._window.total
        self._insert_message(message, show_regenerate=message.role is Role.ASSISTANT)
        self._shown_ids.append(message.id)
        if self._window.end - self._window.first > MAX_RENDERED:
            self._drop_oldest(self._window.end - self._window.first - MAX_RENDERED)

    def show_notice(self, text: str) -> None:
        """Append a grey italic paragraph outside any message (engine errors and the like)."""
        self._show_latest_if_away()
        self._insert_notice(self._end_of_root(), text)

    @staticmethod
    def _insert_notice(cursor: QTextCursor, text: str) -> None:
        cursor.insertHtml(f'<p style="color:{MUTED}"><i>{escape(text)}</i></p>')
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())

    # ---- the reply being streamed ------------------------------------------------------

    def begin_reply(self, message_id: int) -> None:
        """Start the assistant's reply: a header and an empty body at the end."""
        self._reset_reply()
        self._show_latest_if_away()
        self._drop_regenerate_link()
        self._reply_id = message_id
        self._last_assistant_id = message_id
        self._attach_reply()

    def _attach_reply(self) -> None:
        """Render the reply in progress at the end: what was streamed so far, then the rest
        as it comes (the user may have scrolled far up and back meanwhile)."""
        assert self._reply_id is not None
        cursor = self._end_of_root()
        frame = cursor.insertFrame(self._frame_format(Role.ASSISTANT))
        cursor.insertHtml(header_html(Role.ASSISTANT))
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        dark = self._is_dark()
        for block in self._reply_blocks:
            self._insert_rendered_block(cursor, render_markdown(block, dark=dark))
        self._tail_start = cursor.position()
        cursor.insertText(self._splitter.pending, self._plain)
        if self._progress:
            cursor.insertText(self._progress, self._muted)
        self._reply_frame = frame
        self._frames[self._reply_id] = frame

    def append_delta(self, text: str) -> None:
        """Append streamed text to the reply; ignored when no reply has begun."""
        if self._reply_id is None or not text:
            return
        if self._progress:  # the reply's first text takes the progress line's place
            self._progress = ""
            self._set_tail("", self._plain)
        blocks = self._splitter.feed(text)
        frame = self._reply_frame
        if frame is None:  # scrolled far away: kept as text, rendered when the user is back
            self._reply_blocks.extend(blocks)
            return
        cursor = self._cursor
        if blocks:
            # Swap the plain tail for the rendered blocks, then re-type the new (short) tail.
            cursor.beginEditBlock()
            cursor.setPosition(self._tail_start)
            cursor.setPosition(frame.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
            dark = self._is_dark()
            for block in blocks:
                self._insert_rendered_block(cursor, render_markdown(block, dark=dark))
            self._reply_blocks.extend(blocks)
            self._tail_start = cursor.position()
            cursor.insertText(self._splitter.pending, self._plain)
            cursor.endEditBlock()
        else:
            cursor.setPosition(frame.lastPosition())
            cursor.insertText(text, self._plain)

    def show_reply_progress(self, text: str) -> None:
        """A grey line where the reply will appear while the engine reads the prompt
        ("reading the prompt: 3,200 of 8,000 tokens"), until the reply's first text."""
        if self._reply_id is None or self.reply_text():
            return
        self._progress = text
        self._set_tail(text, self._muted)

    def _set_tail(self, text: str, fmt: QTextCharFormat) -> None:
        frame = self._reply_frame  # None: scrolled far away, shown when attached again
        if frame is None:
            return
        cursor = self._cursor
        cursor.beginEditBlock()
        cursor.setPosition(self._tail_start)
        cursor.setPosition(frame.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.insertText(text, fmt)
        cursor.endEditBlock()

    def reply_text(self) -> str:
        """The raw markdown streamed into the current reply so far ("" when none)."""
        return "".join(self._reply_blocks) + self._splitter.pending

    def finish_reply(self, message: MessageRecord) -> None:
        """Replace the reply with its final rendering (markdown, footer, links).

        Without a matching reply in progress the message is simply appended.
        """
        if message.id == self._reply_id:
            shown = self._reply_frame is not None
            self._reset_reply()
            self._window.add(message)
            if not shown:  # the user is far up: rendered from the window when they come back
                return
            self._window.end = self._window.total
            self._shown_ids.append(message.id)
        frame = self._frames.get(message.id)
        if frame is None:
            self.append_message(message)
            return
        self._messages[message.id] = message
        self._replace_frame_content(
            frame, message, show_regenerate=message.id == self._last_assistant_id
        )

    # ---- reading back (tests, accessibility) -------------------------------------------

    def message_text(self, message_id: int) -> str:
        """The plain text shown for one message (header, body and footer)."""
        frame = self._frames.get(message_id)
        if frame is None:
            return ""
        cursor = QTextCursor(self.document())
        cursor.setPosition(frame.firstPosition())
        cursor.setPosition(frame.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
        return cursor.selection().toPlainText()

    def last_timed_reply(self) -> int | None:
        """The chat's newest reply with a timing view, rendered or not (None: none)."""
        return self._window.newest_timed_reply()

    # ---- Qt overrides ------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        # QTextEdit scrolls to its (unused) text cursor on first show; keep the end in view.
        super().showEvent(event)
        if self._follow_end:
            self.scroll_to_bottom()

    def loadResource(self, type: int, name: QUrl) -> object:
        """Never load anything a message names (files, images, stylesheets)."""
        return None

    # ---- internals ---------------------------------------------------------------------

    def _insert_message(self, message: MessageRecord, *, show_regenerate: bool) -> None:
        self._insert_message_at(self._end_of_root(), message, show_regenerate=show_regenerate)

    def _insert_message_at(
        self, cursor: QTextCursor, message: MessageRecord, *, show_regenerate: bool
    ) -> None:
        """Insert a message frame at the cursor and leave the cursor just after it."""
        frame = cursor.insertFrame(self._frame_format(message.role))
        cursor.insertHtml(
            message_html(
                message,
                show_regenerate=show_regenerate,
                dark=self._is_dark(),
                first_token=self.first_token_source,
            )
        )
        cursor.setPosition(frame.lastPosition() + 1)
        self._frames[message.id] = frame
        self._messages[message.id] = message

    def _replace_frame_content(
        self, frame: QTextFrame, message: MessageRecord, *, show_regenerate: bool
    ) -> None:
        doc = self.document()
        before = doc.characterCount()
        cursor = emptied(self._cursor, frame)
        cursor.insertHtml(
            message_html(
                message,
                show_regenerate=show_regenerate,
                dark=self._is_dark(),
                copied=message.id == self._copied_id,
                first_token=self.first_token_source,
            )
        )
        cursor.endEditBlock()
        reply = self._reply_frame
        if (
            reply is not None
            and reply is not frame
            and frame.lastPosition() < reply.firstPosition()
        ):
            # A message above the reply being written changed length: its tail moved with it.
            self._tail_start += doc.characterCount() - before

    def _insert_rendered_block(self, cursor: QTextCursor, html: str) -> None:
        """Insert one rendered block at the cursor, which sits in an empty paragraph."""
        start = cursor.position()
        cursor.insertHtml(html)
        left = self.document().findBlock(start)
        if left.textList() is None and QTextCursor(left).currentTable() is None:
            # Qt merges the fragment's first block into the paragraph it lands in and keeps
            # that paragraph's (plain) format: a heading lost its level and margins until the
            # final render put them back, and the reply jumped.
            QTextCursor(left).setBlockFormat(_first_block_format(html))
        if left.position() == start and left.length() == 1 and cursor.block() != left:
            # Qt leaves the empty paragraph in front of an inserted list or table; a full
            # render has none. Merge it into the paragraph before (which keeps its format).
            joiner = QTextCursor(self.document())
            joiner.setPosition(start - 1)
            joiner.deleteChar()
        # The next block (or the plain tail) always starts a fresh, plain paragraph.
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())

    def _drop_regenerate_link(self) -> None:
        """Only the newest assistant message offers "Regenerate"."""
        old_id = self._last_assistant_id
        if old_id is None or old_id == self._reply_id:
            return
        frame, message = self._frames.get(old_id), self._messages.get(old_id)
        if frame is not None and message is not None:
            self._replace_frame_content(frame, message, show_regenerate=False)
        self._last_assistant_id = None

    def _reset_reply(self) -> None:
        self._progress = ""
        self._reply_id = None
        self._reply_frame = None
        self._reply_blocks = []
        self._splitter.reset()
        self._tail_start = 0

    def _end_of_root(self) -> QTextCursor:
        self._cursor.setPosition(self.document().rootFrame().lastPosition())
        return self._cursor

    def _frame_format(self, role: Role) -> QTextFrameFormat:
        fmt = QTextFrameFormat()
        fmt.setPadding(8)
        fmt.setBottomMargin(6)
        if role is Role.USER:
            # A faint tint marks the user's turns on light and dark palettes alike.
            fmt.setBackground(QColor(128, 128, 128, 36))
        return fmt
