"""Connects the search dialog to the message index and jumps to what the user picks."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QTabWidget

from app.gui.chat.navigation import ChatNavigation
from storage.errors import DatabaseError
from storage.search import HIT_END, HIT_START, SearchHit, SearchRepository
from ui.chat.search_dialog import SearchDialog, SearchResult, snippet_to_html
from ui.chat.view import ChatView

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
    """Takes what it uses, not the chat presenter: `chat` opens the chosen chat, `pages`
    (the window's tabs, Chat first) and `chat_view` show the chosen message."""

    def __init__(
        self,
        dialog: SearchDialog,
        repository: SearchRepository,
        chat: ChatNavigation,
        pages: QTabWidget,
        chat_view: ChatView,
    ) -> None:
        super().__init__(dialog)
        self.dialog = dialog
        self.repository = repository
        self.chat = chat
        self.pages = pages
        self.chat_view = chat_view
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
        self.pages.setCurrentIndex(0)
        self.chat_view.scroll_to_message(message_id)
        self.dialog.hide()
