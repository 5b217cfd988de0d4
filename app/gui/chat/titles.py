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
from dataclasses import replace
from typing import Protocol

from PySide6.QtCore import QObject, Signal, SignalInstance
from PySide6.QtGui import QAction

from app.config.paths import HearthPaths
from app.config.settings import Settings, save_settings
from inference.client import EngineClient
from inference.protocol import ChatMessage, Done, Priority, Sampling
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


class TitleHost(Protocol):
    """What the titler uses of the chat it names (the chat controller provides it): when a
    reply is asked for and finished, the engine, the stored chats, the settings it turns
    on and off, and the chat's prompt and sampling."""

    replyRequested: SignalInstance  # conversation id, just before its reply is requested
    replyFinished: SignalInstance  # message id
    client: EngineClient
    conversations: ConversationRepository
    messages: MessageRepository
    paths: HearthPaths
    settings: Settings

    def history_prompt(
        self, conversation_id: int, path: list[MessageRecord]
    ) -> list[ChatMessage]: ...

    def model_sampling(self) -> tuple[Sampling, int]: ...

    def refresh_list(self) -> None: ...


class AutoTitler(QObject):
    """Signals: ``titleRequested(conversation_id)`` once the request is sent;
    ``titleAnswered(conversation_id, answer)`` with the model's raw answer, after the
    cleaned title was stored (unless the user's own title or a junk answer stood)."""

    titleRequested = Signal(int)
    titleAnswered = Signal(int, str)

    def __init__(self, chat: TitleHost, action: QAction, parent: QObject | None = None) -> None:
        """`action` is the checkable menu entry that turns automatic titles on and off."""
        super().__init__(parent)
        self.chat = chat
        self.pending: dict[int, int] = {}  # request id -> conversation id
        action.setChecked(chat.settings.auto_titles)
        action.toggled.connect(self.set_enabled)
        chat.replyFinished.connect(self._on_reply_finished)
        chat.replyRequested.connect(self._yield_to_chat)
        chat.client.generationFinished.connect(self._on_finished)
        chat.client.requestFailed.connect(self._on_failed)
        chat.client.engineCrashed.connect(lambda _reason: self.pending.clear())

    def set_enabled(self, enabled: bool) -> None:
        chat = self.chat
        chat.settings = replace(chat.settings, auto_titles=enabled)
        save_settings(chat.paths.settings_file, chat.settings)

    def _on_reply_finished(self, message_id: int) -> None:
        if not self.chat.settings.auto_titles:
            return
        try:
            self._maybe_request(message_id)
        except DatabaseError:
            return  # a title is a nicety; the chat itself reports storage trouble

    def _maybe_request(self, message_id: int) -> None:
        chat = self.chat
        reply = chat.messages.get(message_id)
        if reply is None or reply.status is not MessageStatus.COMPLETE:
            return
        cid = reply.conversation_id
        record = chat.conversations.get(cid)
        if record is None or record.title_source is not TitleSource.AUTO:
            return
        if cid in self.pending.values():
            return
        path = chat.messages.active_path(cid)
        if not path or path[-1].id != message_id or len(path) > TITLE_WITHIN_MESSAGES:
            return
        if not any(m.role is Role.USER for m in path):
            return
        prompt = [*chat.history_prompt(cid, path), ChatMessage("user", INSTRUCTION)]
        sampling, _ = chat.model_sampling()
        request_id = chat.client.generate(
            prompt,
            max_tokens=TITLE_TOKENS,
            sampling=replace(sampling, temperature=min(sampling.temperature, 0.3)),
            priority=Priority.BACKGROUND,
        )
        self.pending[request_id] = cid
        self.titleRequested.emit(cid)

    def _yield_to_chat(self, _conversation_id: int) -> None:
        for request_id in list(self.pending):
            self.chat.client.cancel(request_id)

    def _on_finished(self, request_id: int, done: Done) -> None:
        cid = self.pending.pop(request_id, None)
        if cid is None:
            return
        try:
            record = self.chat.conversations.get(cid)
            if record is not None:
                title = clean_title(done.text, record.title)
                if title != record.title and self.chat.conversations.set_automatic_title(
                    cid, title, TitleSource.MODEL
                ):
                    self.chat.refresh_list()
        except DatabaseError:
            pass  # the first-words title stays
        self.titleAnswered.emit(cid, done.text)

    def _on_failed(self, request_id: int, _kind: str, _message: str) -> None:
        # Cancelled for the next turn, or the prompt no longer fits: the title stays.
        self.pending.pop(request_id, None)
