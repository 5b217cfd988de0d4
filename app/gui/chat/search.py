"""Connects the search dialog to the message index and jumps to what the user picks."""

from __future__ import annotations

from PySide6.QtCore import QObject

from app.gui.chat.controller import ChatController
from storage.errors import DatabaseError
from storage.search import HIT_END, HIT_START, SearchHit, SearchRepository
from ui.chat.search_dialog import SearchDialog, SearchResult, snippet_to_html

ROLE_LABELS = {"user": "You", "assistant": "Assistant", "system": "System"}


def _result(hit: SearchHit) -> SearchResult:
    return SearchResult(
        hit.conversation_id,
        hit.message_id,
        hit.conversation_title,
        ROLE_LABELS.get(hit.role.value if hit.role else "", "Message"),
        hit.created_at.astimezone().strftime("%Y-%m-%d %H:%M"),
        snippet_to_html(hit.snippet, HIT_START, HIT_END),
    )


class SearchController(QObject):
    def __init__(
        self, dialog: SearchDialog, chat: ChatController, repository: SearchRepository
    ) -> None:
        super().__init__(dialog)
        self.dialog = dialog
        self.chat = chat
        self.repository = repository
        dialog.queryChanged.connect(self.search)
        dialog.resultActivated.connect(self.jump)

    def search(self, query: str) -> None:
        try:
            hits = self.repository.search(query)
        except DatabaseError as exc:
            self.dialog.status.setText(f"Search failed: {exc}")
            return
        self.dialog.set_results(query, [_result(hit) for hit in hits])

    def jump(self, conversation_id: int, message_id: int) -> None:
        self.chat.open_conversation(conversation_id)
        self.chat.window.pages.setCurrentIndex(0)
        self.chat.window.chat_view.scroll_to_message(message_id)
        self.dialog.hide()
