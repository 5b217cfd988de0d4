"""Open WebUI's chat export (Settings → Chats → Export chats, or a chat's Download → Export
chat (.json)): a JSON list of its chat records.

The shape, from open-webui/open-webui: backend/open_webui/models/chats.py (`ChatResponse`:
id, title, chat, created_at and updated_at in Unix seconds, pinned, ...) and the chat object
the web app stores in `chat` (src/lib/components/chat/Chat.svelte; read back by
src/lib/components/chat/Settings/Chats.svelte `importChats`, which also takes a bare chat
object, the older export):

    [ {"title": str, "created_at": int, "updated_at": int, "pinned": bool,
       "chat": {"title": str, "timestamp": int (ms), "system"?: str, "params"?: {"system": str},
                "history": {"currentId": id,
                            "messages": {id: {"id": id, "parentId": id | null,
                                              "childrenIds": [id],
                                              "role": "user"|"assistant"|"system",
                                              "content": str, "timestamp": int (s),
                                              "files"?: [{"type": "image" | ...}]}}}}} ]

`history` is a tree (regenerations and edits are siblings); `currentId` is the shown branch.
Reasoning and tool-call blocks Open WebUI writes into a reply as `<details type="reasoning">`
or `type="tool_calls"` are left out, and so are attached files and images.
"""

from __future__ import annotations

import re
from typing import Any

from app.chat.importer import MAX_SYSTEM_PROMPT_BYTES
from app.chat.imports.checks import field, moment, need, text, title
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

NAME = "Open WebUI"

# Blocks Open WebUI writes into a reply's text; they are not part of the answer.
_BLOCK = re.compile(
    r'<details type="(reasoning|tool_calls|code_interpreter)"[^>]*>.*?</details>\s*', re.DOTALL
)
_BLOCK_REASONS = {"reasoning": REASONING, "tool_calls": TOOL_CALLS, "code_interpreter": TOOL_CALLS}


def _chat_of(item: Any) -> Any:
    return item.get("chat") if isinstance(item, dict) and "chat" in item else item


def recognise(document: Any) -> bool:
    """A list whose first entry is a chat record (or a bare chat) with a `history`."""
    if not isinstance(document, list) or not document:
        return False
    chat = _chat_of(document[0])
    return isinstance(chat, dict) and "history" in chat


def read(document: Any) -> list[ForeignChat]:
    items: list[Any] = need(document, list, "The file", "chats")
    return [_chat(n, item) for n, item in enumerate(items, 1)]


def _chat(number: int, item: Any) -> ForeignChat:
    where = f"Chat {number}"
    record: dict[str, Any] = need(item, dict, where, f"chat {number}")
    chat: dict[str, Any] = need(_chat_of(record), dict, where, "chat")
    name = title(record.get("title", chat.get("title")), where)
    where = f"Chat {number} ({name[:60]!r})" if name else where
    history: dict[str, Any] = field(chat, "history", dict, where)
    items: dict[str, Any] = field(history, "messages", dict, where)
    params = field(chat, "params", (dict, type(None)), where) or {}
    prompt = params.get("system", chat.get("system"))
    system_prompt = (
        None if prompt is None else text(prompt, where, "system", MAX_SYSTEM_PROMPT_BYTES)
    )
    messages: list[ForeignMessage] = []
    for key, value in items.items():
        message = _message(where, key, value)
        if message.role is Role.SYSTEM and message.skip is None:
            if not system_prompt:
                system_prompt = message.text
                message = _left_out(message, "")
            else:
                message = _left_out(message, SYSTEM)
        messages.append(message)
    created = moment(record.get("created_at", chat.get("timestamp")), where, "created_at")
    return ForeignChat(
        where=where,
        title=name,
        messages=messages,
        created=created,
        updated=moment(record.get("updated_at"), where, "updated_at"),
        current=field(history, "currentId", (str, type(None)), where),
        system_prompt=system_prompt,
        pinned=field(record, "pinned", (bool, type(None)), where) is True,
    )


def _left_out(message: ForeignMessage, reason: str) -> ForeignMessage:
    return ForeignMessage(
        id=message.id, parent=message.parent, role=message.role, text="", skip=reason
    )


def _message(where: str, key: str, value: Any) -> ForeignMessage:
    place = f"{where}, message {key[:60]!r}"
    obj: dict[str, Any] = need(value, dict, place, "message")
    parent: str | None = field(obj, "parentId", (str, type(None)), place)
    role: str = field(obj, "role", str, place)
    created = moment(obj.get("timestamp"), place, "timestamp")
    content = text(field(obj, "content", (str, type(None)), place) or "", place, "content")
    dropped: list[str] = []
    for block in _BLOCK.finditer(content):
        dropped.append(_BLOCK_REASONS[block.group(1)])
    content = _BLOCK.sub("", content).strip()
    for attached in field(obj, "files", (list, type(None)), place) or []:
        is_image = isinstance(attached, dict) and attached.get("type") == "image"
        dropped.append(IMAGES if is_image else FILES)
    if role not in ("user", "assistant", "system"):
        return ForeignMessage(id=key, parent=parent, role=Role.SYSTEM, text="", skip=OTHER)
    if not content:
        reason = dropped[0] if dropped else ""
        return ForeignMessage(id=key, parent=parent, role=Role(role), text="", skip=reason)
    return ForeignMessage(
        id=key, parent=parent, role=Role(role), text=content, created=created, dropped=dropped
    )
