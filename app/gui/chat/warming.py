"""Warming the open chat (issue 13): the engine restores its kept KV state and reads the
user's unsent text while the user reads and types, so Enter pays only for what changed since
the last read (the last word and the turn's closing), not for the history or the message.
GUI thread only.

Opening: when a stored conversation is opened, or its model finishes loading while it is
open, the engine is asked to restore the chat's kept state (EngineSession.warm,
protocol.WarmRequest). Rapid switching sends one warm: each opening restarts a short timer
and only the chat open when it fires is warmed (the engine also skips a warm when a newer one
waits).

Typing: the text in the chat's input is read ahead (WarmRequest.typing), THROTTLED, not
debounced: the first change starts a timer that is not restarted by later ones, and when it
fires the text as it is then is sent. A fast typist never pauses, so a debounce would read
only at Enter; a throttle reads every TYPING_INTERVAL_MS and Enter finds all but the last
few keys read. An opening warm due when typing starts carries the text too (one warm for
both). Nothing is sent for blank text, for the text last sent for this chat, while a reply is
being written (the engine's cache is in use), or for a chat whose last reply failed (its
messages end with the user's: the next prompt is not that history plus a new turn).

The messages sent are the ones the chat's next reply will be built from, without the new user
turn, and the key is the one its replies use (app.chat.state_keys), so the state restored
and the text read are exactly what the next turn would look for. A chat with nothing in it
yet (a new one, stored or not) has no state to restore: its system prompt, if any, goes with
key "".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal

from app.chat.state_keys import chat_state_key
from app.gui.session import EngineSession
from inference.protocol import ChatMessage

# Opening chats one after another (arrow keys in the list) sends one warm, for the last one.
WARM_DELAY_MS = 150
# At most one read of the unsent text this often while the user types. A typist at 60 words
# a minute adds about a word every 250 ms, so Enter finds at most a word or so unread, while
# the engine gets at most four small warms a second (each renders the chat's prompt here and
# reads a few new tokens there; a warm still waiting when a newer one comes is skipped).
TYPING_INTERVAL_MS = 250
# A change adding this many characters at once is a paste (or a drop): typing adds one (an
# input method a few), so it is read at once instead of up to TYPING_INTERVAL_MS later.
PASTE_CHARS = 16


class ChatWarming(QObject):
    """`conversation()`: the open chat (None: a new one not stored yet); `prompt(id)`: the
    messages its next reply would be built from, without a new user turn (for None: a new
    chat's, its system prompt if any); `busy()`: a reply is being written (the engine's cache
    is in use: nothing to warm); `draft()`: the text in the chat's input now.

    The controller calls `draft_changed` on each change of the input's text, `chat_changed`
    when another chat is shown, `turn_started` when a message is sent and `turn_ended` when
    its reply is done."""

    sent = Signal(int, object)  # request id, conversation id (None: a chat not stored yet)

    def __init__(
        self,
        session: EngineSession,
        conversation: Callable[[], int | None],
        prompt: Callable[[int | None], Sequence[ChatMessage]],
        busy: Callable[[], bool],
        draft: Callable[[], str],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._conversation = conversation
        self._prompt = prompt
        self._busy = busy
        self._draft = draft
        self._timer = QTimer(self, singleShot=True, interval=WARM_DELAY_MS, timeout=self._open)
        self._typing_timer = QTimer(
            self, singleShot=True, interval=TYPING_INTERVAL_MS, timeout=self._typed
        )
        # The text the engine last read ahead for the open chat ("" none): sent again only
        # once it changed. Forgotten whenever what the engine holds for the chat may differ.
        self._read = ""
        self._length = 0  # of the input's text at the last change (a jump is a paste)
        session.loaded.connect(lambda _info: self.schedule())

    def schedule(self) -> None:
        """The open chat changed (or its model loaded, or its branch): warm it once things
        settle, with the unsent text."""
        self._read = ""
        self._typing_timer.stop()  # the opening warm carries the text
        self._timer.start()  # a restart: only the last opening's warm is sent

    def draft_changed(self) -> None:
        """The input's text changed: read it ahead within TYPING_INTERVAL_MS (a throttle:
        a running timer is left running). Text pasted (PASTE_CHARS or more at once) is read
        at once, while the hand moves to Enter."""
        length = len(self._draft())
        pasted = length - self._length >= PASTE_CHARS
        self._length = length
        if pasted:
            self._typing_timer.stop()
            self._typed()
        elif not self._typing_timer.isActive():
            self._typing_timer.start()

    def chat_changed(self) -> None:
        """Another chat is shown: what was due for the last one is not sent."""
        self._read = ""
        self._typing_timer.stop()

    def turn_started(self) -> None:
        """A message was sent: its reply reads it; nothing typed before is due."""
        self._read = ""
        self._typing_timer.stop()

    def turn_ended(self) -> None:
        """A reply is done: what was typed meanwhile (not read: busy) is read now."""
        self._read = ""
        self.draft_changed()

    @property
    def pending(self) -> bool:
        """An opening warm is due (its timer runs)."""
        return self._timer.isActive()

    @property
    def typing_pending(self) -> bool:
        """A read of the unsent text is due (its timer runs)."""
        return self._typing_timer.isActive()

    def stop(self) -> None:
        self._timer.stop()
        self._typing_timer.stop()

    def _open(self) -> None:
        self._send(opening=True)

    def _typed(self) -> None:
        if self._timer.isActive():
            return  # the opening warm, due soon, reads the text as it is then
        self._send(opening=False)

    def _send(self, *, opening: bool) -> None:
        # As it will be sent (the message is not stripped): a template that trims turns
        # costs a re-read of what differs, never another reply.
        text = self._draft()
        typing = text if text.strip() else ""
        if not opening and (not typing or typing == self._read):
            return
        if self._busy():
            return
        conversation_id = self._conversation()
        messages = self._prompt(conversation_id)
        if any(m.role != "system" for m in messages):
            # Nothing kept without a reply; a chat ending with a user message (its reply
            # failed) has no state that its next prompt (that message answered) starts with
            # beyond what a turn restores, nor is its next prompt that plus the text typed.
            if messages[-1].role != "assistant":
                return
            assert conversation_id is not None
            key = chat_state_key(conversation_id)
        elif typing:
            key = ""  # a new chat: nothing kept to restore, the text to read
        else:
            return
        request_id = self._session.warm(messages, key, typing)
        if request_id is None:
            return
        self._read = typing
        self.sent.emit(request_id, conversation_id)
