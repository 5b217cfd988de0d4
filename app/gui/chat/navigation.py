"""What the chat's helper presenters (search, presets, files, history recovery) use of the
chat page: which chat is open, opening another, listing them again. The chat controller
provides it; they name this instead of the controller, so none of them imports it and
each can be built with a small stand-in."""

from __future__ import annotations

from typing import Protocol


class ChatNavigation(Protocol):
    """The chat page's navigation. GUI thread only."""

    # The chat shown now (None: none); setting None leaves the page without one.
    current_conversation: int | None

    @property
    def generating(self) -> bool:
        """Whether a reply is being written now."""
        ...

    def open_conversation(self, conversation_id: int) -> None:
        """Show this chat (stopping a reply being written in another)."""
        ...

    def refresh_list(self) -> None:
        """Show the sidebar's chats as stored now (after a title changed, or chats came)."""
        ...
