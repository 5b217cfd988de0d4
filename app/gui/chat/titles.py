"""Automatic chat titles: after a chat's first exchange, the loaded model is asked in the
background for a few words that name it. GUI thread only.

Off unless the user turns it on (Chat menu). The request is a low-priority one of a few
tokens whose prompt begins with the chat's own, so the engine reuses the chat's evaluated
prefix and the next turn still finds most of it cached. A new chat turn cancels it (chat
always goes first); a title the user typed is never replaced, even when the rename lands
while the answer is being written (storage checks that in the same UPDATE).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from app.gui.backend_switch import BackendSwitch
from app.gui.settings_store import SettingsStore
from inference.client import EngineClient
from inference.protocol import ChatMessage, Done, Priority, Sampling, Work
from storage.chats import ConversationRepository, MessageRepository
from storage.errors import DatabaseError
from storage.records import MessageRecord, MessageStatus, Role, TitleSource

TITLE_LIMIT = 48  # characters; the sidebar elides beyond its width anyway
TITLE_TOKENS = 16
# A chat whose title request was cancelled by the user's next message gets another chance,
# but only while it is young: an old chat is past being named from its opening.
TITLE_WITHIN_MESSAGES = 6
INSTRUCTION = (
    "Write a short title (at most six words) for the conversation so far. Reply with the "
    "title only, on one line, without quotes."
)

_THINKING = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_LABEL = re.compile(r"^\s*(title|chat title)\s*[:\-–—]\s*", re.IGNORECASE)
_LIST_MARK = re.compile(r"^\s*(?:[#>*\-+•]+|\d+[.)])\s*")
_MARKUP = re.compile(r"[*_`~#<>\[\]{}|\\]")
_QUOTES = "\"'“”‘’«»„‚‹›「」『』"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ufffd\u200b-\u200f\u2028-\u202e]")


def clean_title(answer: str, fallback: str, limit: int = TITLE_LIMIT) -> str:
    """A one-line title from a model's answer: its first non-empty line without labels,
    Markdown, quotes or trailing full stops, at most `limit` characters. `fallback` when
    nothing title-like is left (an empty answer, or symbols and stray bytes only)."""
    text = _THINKING.sub("", answer)
    line = next((ln for ln in text.splitlines() if _CONTROL.sub("", ln).strip()), "")
    line = _CONTROL.sub("", line)
    line = _LIST_MARK.sub("", _LABEL.sub("", line.strip()))
    line = _LABEL.sub("", _MARKUP.sub("", line))
    line = "".join(ch for ch in line if ch not in '"“”«»„‹›「」『』')
    line = " ".join(line.split()).strip(_QUOTES + " ").rstrip(".,;:-–— ").strip(_QUOTES + " ")
    if sum(ch.isalpha() for ch in line) < 2:
        return fallback
    if len(line) > limit:
        cut = line[: limit - 1]
        cut = cut.rsplit(" ", 1)[0] if " " in cut else cut
        line = cut.rstrip(".,;:-–— ") + "…"
    return line


class AutoTitler(QObject):
    """Asks for a chat's title once its first exchange is stored and stores the cleaned
    answer (unless the user's own title or a junk answer stands); the sidebar shows it.
    `pending` maps the title requests in flight to their chats.

    Takes what it uses, not the chat presenter (which owns it, so the two do not import
    each other): the engine, the stored chats, the settings store (automatic titles on or
    off), and callables for the chat's prompt, the model's sampling and showing a new
    title. Whoever owns the chat turn calls `reply_requested` and `reply_finished`."""

    def __init__(
        self,
        client: EngineClient | BackendSwitch,
        conversations: ConversationRepository,
        messages: MessageRepository,
        settings: SettingsStore,
        action: QAction,
        *,
        history_prompt: Callable[[int, list[MessageRecord]], list[ChatMessage]],
        model_sampling: Callable[[], tuple[Sampling, int]],
        refresh_list: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        """`action` is the checkable menu entry that turns automatic titles on and off;
        `history_prompt(conversation_id, path)` is what the model is sent for that chat,
        `model_sampling()` how its replies sample, `refresh_list()` shows a new title."""
        super().__init__(parent)
        self.client = client
        self.conversations = conversations
        self.messages = messages
        self.settings = settings
        self.history_prompt = history_prompt
        self.model_sampling = model_sampling
        self.refresh_list = refresh_list
        self.pending: dict[int, int] = {}  # request id -> conversation id
        action.setChecked(settings.settings.auto_titles)
        action.toggled.connect(self.set_enabled)
        client.generationFinished.connect(self._on_finished)
        client.requestFailed.connect(self._on_failed)
        client.engineCrashed.connect(lambda _reason: self.pending.clear())

    def set_enabled(self, enabled: bool) -> None:
        self.settings.update(auto_titles=enabled)

    def reply_finished(self, message_id: int) -> None:
        """A chat's reply `message_id` was stored: name the chat if it is its first."""
        if not self.settings.settings.auto_titles:
            return
        try:
            self._maybe_request(message_id)
        except DatabaseError:
            return  # a title is a nicety; the chat itself reports storage trouble

    def _maybe_request(self, message_id: int) -> None:
        reply = self.messages.get(message_id)
        if reply is None or reply.status is not MessageStatus.COMPLETE:
            return
        cid = reply.conversation_id
        record = self.conversations.get(cid)
        if record is None or record.title_source is not TitleSource.AUTO:
            return
        if cid in self.pending.values():
            return
        path = self.messages.active_path(cid)
        if not path or path[-1].id != message_id or len(path) > TITLE_WITHIN_MESSAGES:
            return
        if not any(m.role is Role.USER for m in path):
            return
        prompt = [*self.history_prompt(cid, path), ChatMessage("user", INSTRUCTION)]
        sampling, _ = self.model_sampling()
        request_id = self.client.generate(
            prompt,
            max_tokens=TITLE_TOKENS,
            sampling=replace(sampling, temperature=min(sampling.temperature, 0.3)),
            priority=Priority.BACKGROUND,
            work=Work.TITLE,
        )
        self.pending[request_id] = cid

    def reply_requested(self, _conversation_id: int) -> None:
        """A chat turn is about to ask the engine: chat always goes first."""
        for request_id in list(self.pending):
            self.client.cancel(request_id)

    def _on_finished(self, request_id: int, done: Done) -> None:
        cid = self.pending.pop(request_id, None)
        if cid is None:
            return
        try:
            record = self.conversations.get(cid)
            if record is not None:
                title = clean_title(done.text, record.title)
                if title != record.title and self.conversations.set_automatic_title(
                    cid, title, TitleSource.MODEL
                ):
                    self.refresh_list()
        except DatabaseError:
            pass  # the first-words title stays

    def _on_failed(self, request_id: int, _kind: str, _message: str) -> None:
        # Cancelled for the next turn, or the prompt no longer fits: the title stays.
        self.pending.pop(request_id, None)
