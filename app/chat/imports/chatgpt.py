"""ChatGPT's `conversations.json` (Settings → Data controls → Export data; the file in the zip).

OpenAI documents the export itself (help.openai.com, "How do I export my ChatGPT history and
data?") but publishes no schema; the shape read here is the one the file holds and that
Open WebUI's importer reads (open-webui/open-webui, src/lib/utils/index.ts,
`convertOpenAIChats`/`convertOpenAIMessages`):

    [ {"title": str, "create_time": float, "update_time": float, "current_node": id,
       "mapping": {id: {"id": id, "parent": id | null, "children": [id],
                        "message": null | {"author": {"role": "system"|"user"|"assistant"|"tool"},
                                           "create_time": float | null, "recipient": "all" | tool,
                                           "content": {"content_type": "text" | ...,
                                                       "parts": [str | object]},
                                           "metadata": {"is_visually_hidden_from_conversation":
                                                        bool}}}}} ]

Every node of `mapping` is kept with its parent, so edits and regenerations stay branches;
`current_node` is the branch ChatGPT showed. Left out: the empty root, hidden context
(custom instructions), tool calls and their output, images and other attachments, reasoning.
"""

from __future__ import annotations

from typing import Any

from app.chat.imports.checks import fail, field, kind_of, moment, need, text, title
from app.chat.imports.foreign_chat import (
    FILES,
    IMAGES,
    OTHER,
    REASONING,
    SYSTEM,
    TOOL_CALLS,
    ForeignChat,
    ForeignMessage,
)
from storage.records import Role

NAME = "ChatGPT"

_SKIPPED_TYPES = {
    "code": TOOL_CALLS,
    "execution_output": TOOL_CALLS,
    "tether_browsing_display": TOOL_CALLS,
    "tether_quote": TOOL_CALLS,
    "thoughts": REASONING,
    "reasoning_recap": REASONING,
}


def recognise(document: Any) -> bool:
    """A list of objects with a `mapping`: ChatGPT's conversations.json."""
    return (
        isinstance(document, list)
        and bool(document)
        and isinstance(document[0], dict)
        and "mapping" in document[0]
    )


def read(document: Any) -> list[ForeignChat]:
    items: list[Any] = need(document, list, "The file", "conversations")
    return [_conversation(n, item) for n, item in enumerate(items, 1)]


def _conversation(number: int, item: Any) -> ForeignChat:
    where = f"Conversation {number}"
    obj: dict[str, Any] = need(item, dict, where, f"conversation {number}")
    name = title(obj.get("title"), where)
    where = f"Conversation {number} ({name[:60]!r})" if name else where
    mapping: dict[str, Any] = field(obj, "mapping", dict, where)
    messages: list[ForeignMessage] = []
    system_prompt: str | None = None
    for node_id, node in mapping.items():
        message = _node(where, node_id, node)
        if message.role is Role.SYSTEM and message.skip is None:
            # A visible system message: the chat's system prompt (the first), else left out.
            if system_prompt is None:
                system_prompt = message.text
                message = _left_out(message, None)
            else:
                message = _left_out(message, SYSTEM)
        messages.append(message)
    return ForeignChat(
        where=where,
        title=name,
        messages=messages,
        created=moment(obj.get("create_time"), where, "create_time"),
        updated=moment(obj.get("update_time"), where, "update_time"),
        current=field(obj, "current_node", (str, type(None)), where),
        system_prompt=system_prompt,
    )


def _left_out(message: ForeignMessage, reason: str | None) -> ForeignMessage:
    """`message` left out of the tree; reason None: not counted (it went elsewhere, or
    ChatGPT never showed it either)."""
    return ForeignMessage(
        id=message.id, parent=message.parent, role=message.role, text="", skip=reason or ""
    )


def _node(where: str, node_id: str, node: Any) -> ForeignMessage:
    place = f"{where}, message {node_id[:60]!r}"
    obj: dict[str, Any] = need(node, dict, place, "message")
    parent: str | None = field(obj, "parent", (str, type(None)), place)
    message = field(obj, "message", (dict, type(None)), place)
    if message is None:  # the tree's empty root
        return ForeignMessage(id=node_id, parent=parent, role=Role.SYSTEM, text="", skip="")
    author: dict[str, Any] = field(message, "author", dict, place)
    role: str = field(author, "role", str, place)
    content: dict[str, Any] = field(message, "content", dict, place)
    kind: str = field(content, "content_type", str, place)
    created = moment(message.get("create_time"), place, "create_time")
    metadata = field(message, "metadata", (dict, type(None)), place) or {}
    base = ForeignMessage(id=node_id, parent=parent, role=Role.SYSTEM, text="", created=created)
    if metadata.get("is_visually_hidden_from_conversation") is True:
        return _left_out(base, None)
    if role == "tool" or message.get("recipient", "all") != "all":
        return _left_out(base, TOOL_CALLS)
    if role not in ("user", "assistant", "system"):
        return _left_out(base, OTHER)
    if kind not in ("text", "multimodal_text"):
        return _left_out(base, _SKIPPED_TYPES.get(kind, OTHER))
    words, dropped = _parts(place, field(content, "parts", list, place))
    if not words.strip():
        # Nothing but an image (counted), or an empty placeholder ChatGPT did not show either.
        return _left_out(base, dropped[0] if dropped else None)
    return ForeignMessage(
        id=node_id,
        parent=parent,
        role=Role(role),
        text=words,
        created=created,
        dropped=dropped,
    )


def _parts(place: str, parts: list[Any]) -> tuple[str, list[str]]:
    """The text parts joined, and what was left out (one entry per part)."""
    words: list[str] = []
    dropped: list[str] = []
    for part in parts:
        if isinstance(part, str):
            words.append(text(part, place, "parts"))
        elif isinstance(part, dict):
            kind = part.get("content_type")
            if kind == "audio_transcription" and isinstance(part.get("text"), str):
                words.append(text(part["text"], place, "parts"))  # a voice message's words
            elif kind == "image_asset_pointer":
                dropped.append(IMAGES)
            elif kind != "audio_asset_pointer":  # the sound of a transcribed message: not lost
                dropped.append(FILES)
        else:
            raise fail(place, f'"parts" must hold text or objects, not {kind_of(part)}.')
    joined = "\n\n".join(w for w in words if w)
    text(joined, place, "the message's text")
    return joined, dropped
