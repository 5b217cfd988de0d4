"""The names of the KV states the engine keeps on disk for a chat (issue 13, "Instant resume";
inference/state_files.py is the store). One spelling, shared by the window (sending a turn,
forgetting a deleted chat) and the CLI (`hearth chat --conversation ID`), so a chat continued
from either finds the state the other kept."""

from __future__ import annotations


def chat_state_key(conversation_id: int) -> str:
    """GenerateRequest.state_key of every turn of conversation `conversation_id`."""
    return f"chat:{conversation_id}"
