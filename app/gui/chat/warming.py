"""Warming the opened chat (issue 13): when a stored conversation is opened, or its model
finishes loading while it is open, the engine is asked to restore the chat's kept KV state
(EngineSession.warm, protocol.WarmRequest), so the restore happens while the user reads and
types and Enter pays only for the new tokens. GUI thread only.

Rapid switching sends one warm: each opening restarts a short timer and only the chat open
when it fires is warmed (the engine also skips a warm when a newer one waits). The messages
sent are the ones the chat's next reply will be built from, without the new user turn, and
the key is the one its replies use (app.chat.state_keys), so the state restored is exactly
the one the next turn would look for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal

from app.chat.state_keys import chat_state_key
from app.gui.session import EngineSession
from inference.protocol import ChatMessage

# Opening chats one after another (arrow keys in the list) sends one warm, for the last one.
WARM_DELAY_MS = 150


class ChatWarming(QObject):
    """`conversation()`: the open chat (None: a new one); `prompt(id)`: the messages its next
    reply would be built from, without a new user turn; `busy()`: a reply is being written
    (the engine's cache is in use: nothing to warm)."""

    sent = Signal(int, int)  # request id, conversation id

    def __init__(
        self,
        session: EngineSession,
        conversation: Callable[[], int | None],
        prompt: Callable[[int], Sequence[ChatMessage]],
        busy: Callable[[], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._conversation = conversation
        self._prompt = prompt
        self._busy = busy
        self._timer = QTimer(self, singleShot=True, interval=WARM_DELAY_MS, timeout=self._send)
        session.loaded.connect(lambda _info: self.schedule())

    def schedule(self) -> None:
        """The open chat changed (or its model loaded): warm it once things settle."""
        self._timer.start()  # a restart: only the last opening's warm is sent

    @property
    def pending(self) -> bool:
        """A warm is due (the timer runs)."""
        return self._timer.isActive()

    def stop(self) -> None:
        self._timer.stop()

    def _send(self) -> None:
        conversation_id = self._conversation()
        if conversation_id is None or self._busy():
            return
        messages = self._prompt(conversation_id)
        # Nothing kept without a reply; a chat ending with a user message has no state that
        # its next prompt (that message answered) starts with beyond what a turn restores.
        if not messages or messages[-1].role != "assistant":
            return
        request_id = self._session.warm(messages, chat_state_key(conversation_id))
        if request_id is not None:
            self.sent.emit(request_id, conversation_id)
