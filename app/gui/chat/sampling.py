"""A chat's own sampling settings on top of the model's: what a reply is generated with, and
the dialog that edits them. GUI thread only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from inference.protocol import Sampling
from storage.errors import DatabaseError
from ui.chat.sampling_dialog import RANDOM_SEED, ChatSamplingDialog

if TYPE_CHECKING:
    from app.gui.chat.controller import ChatController

_SAMPLING_FIELDS = frozenset(asdict(Sampling()))


def chat_sampling(
    base: Sampling, max_tokens: int, own: Mapping[str, float | int]
) -> tuple[Sampling, int]:
    """The model's sampling and reply length with this chat's own values on top."""
    values = {k: v for k, v in own.items() if k in _SAMPLING_FIELDS}
    if values.get("seed") == RANDOM_SEED:
        values["seed"] = None  # type: ignore[assignment]  # Sampling's "a new seed each time"
    length = own.get("max_tokens", max_tokens)
    return replace(base, **values), int(length)  # type: ignore[arg-type]


def sampling_values(sampling: Sampling, max_tokens: int) -> dict[str, float | int]:
    """The dialog's view of a Sampling: plain numbers, the random seed as RANDOM_SEED."""
    values: dict[str, float | int] = {
        k: v for k, v in asdict(sampling).items() if k != "seed" and v is not None
    }
    values["seed"] = RANDOM_SEED if sampling.seed is None else sampling.seed
    values["max_tokens"] = max_tokens
    return values


class ChatSamplingEditor(QObject):
    """Opens the dialog from the sidebar's "Sampling…" and stores what the user chose."""

    def __init__(self, chat: ChatController) -> None:
        super().__init__(chat)
        self.chat = chat
        self.dialog = ChatSamplingDialog(chat.window)
        chat.window.conversations.samplingRequested.connect(self.edit)
        self.dialog.samplingChosen.connect(self.store)

    def edit(self, conversation_id: int) -> None:
        try:
            record = self.chat.conversations.get(conversation_id)
        except DatabaseError as exc:
            self.chat.window.show_error(f"Your chats could not be read: {exc}")
            return
        if record is None:
            return
        defaults = sampling_values(*self.chat.model_sampling())
        self.dialog.edit(conversation_id, record.title, defaults, record.sampling)

    def store(self, conversation_id: int, values: dict[str, float | int]) -> None:
        try:
            self.chat.conversations.set_sampling(conversation_id, values)
        except DatabaseError as exc:
            self.chat.window.show_error(f"Your chats could not be saved: {exc}")
            return
        self.chat.sampling_changed()
