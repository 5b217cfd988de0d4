"""A chat's own sampling settings on top of the model's: the dialog that edits them.
GUI thread only. What a reply is generated with is app.chat.reply_sampling's."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from app.chat.reply_sampling import sampling_values
from inference.protocol import Sampling
from storage.chats import ConversationRepository
from storage.errors import DatabaseError
from ui.chat.sampling_dialog import ChatSamplingDialog
from ui.main_window import MainWindow


class ChatSamplingEditor(QObject):
    """Opens the dialog from the sidebar's "Sampling…" and stores what the user chose.

    Takes the few things it uses rather than the chat controller (which owns it), so the
    two do not import each other: `model_sampling` gives the model's sampling and reply
    length (the dialog's defaults), `on_changed` is called after a chat's values were
    stored."""

    def __init__(
        self,
        window: MainWindow,
        conversations: ConversationRepository,
        model_sampling: Callable[[], tuple[Sampling, int]],
        on_changed: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.window = window
        self.conversations = conversations
        self.model_sampling = model_sampling
        self.on_changed = on_changed
        self.dialog = ChatSamplingDialog(window)
        window.conversations.samplingRequested.connect(self.edit)
        self.dialog.samplingChosen.connect(self.store)

    def edit(self, conversation_id: int) -> None:
        try:
            record = self.conversations.get(conversation_id)
        except DatabaseError as exc:
            self.window.show_error(f"Your chats could not be read: {exc}")
            return
        if record is None:
            return
        defaults = sampling_values(*self.model_sampling())
        self.dialog.edit(conversation_id, record.title, defaults, record.sampling)

    def store(self, conversation_id: int, values: dict[str, float | int]) -> None:
        try:
            self.conversations.set_sampling(conversation_id, values)
        except DatabaseError as exc:
            self.window.show_error(f"Your chats could not be saved: {exc}")
            return
        self.on_changed()
