"""LM Studio's conversation file (~/.lmstudio/conversations/*.conversation.json; one chat a file).

LM Studio is closed source and publishes no schema for these files; the shape read here is the
one the files hold, as the community converter YorkieDev/lm-studio-conversation-converter
(script.js: `validateConversationData`, `extractMessageContent`, `addAssistantMessage`) reads it:

    {"name": str, "createdAt": int (ms), "pinned": bool, "systemPrompt"?: str,
     "perChatPredictionConfig"?: {"fields": [{"key": "llm.prediction.systemPrompt", "value": str}]},
     "messages": [{"currentlySelected": int,
                   "versions": [{"type": "singleStep", "role": "user"|"assistant"|"system",
                                 "content": [{"type": "text", "text": str} | {"type": "file", ...}]}
                              | {"type": "multiStep", "role": "assistant",
                                 "steps": [{"type": "contentBlock", "content": [...]}
                                           | {"type": "toolStatus" | "debugInfoBlock", ...}]}]}]}

A message's versions (regenerations, edits) become sibling versions in Hearth, each answering
the selected version of the message before; the selected versions are the branch shown.
"""

from __future__ import annotations

from typing import Any

from app.chat.importer import MAX_SYSTEM_PROMPT_BYTES
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

NAME = "LM Studio"
_PROMPT_KEY = "llm.prediction.systemPrompt"


def recognise(document: Any) -> bool:
    """An object with `messages` whose entries hold `versions` (or none yet, with a `name`)."""
    if not isinstance(document, dict) or not isinstance(document.get("messages"), list):
        return False
    messages = document["messages"]
    if messages:
        return isinstance(messages[0], dict) and "versions" in messages[0]
    return "name" in document and "createdAt" in document


def read(document: Any) -> list[ForeignChat]:
    where = "The conversation"
    obj: dict[str, Any] = need(document, dict, where, "conversation")
    name = title(obj.get("name"), where)
    where = f"The conversation {name[:60]!r}" if name else where
    created = moment(obj.get("createdAt"), where, "createdAt")
    messages: list[ForeignMessage] = []
    parent: str | None = None
    for number, item in enumerate(field(obj, "messages", list, where), 1):
        place = f"{where}, message {number}"
        entry: dict[str, Any] = need(item, dict, place, "message")
        versions: list[Any] = field(entry, "versions", list, place)
        selected = field(entry, "currentlySelected", (int, type(None)), place) or 0
        if not 0 <= selected < len(versions):
            raise fail(
                place, f'"currentlySelected" is {selected}, but it has {len(versions)} versions.'
            )
        for index, version in enumerate(versions):
            messages.append(
                _version(f"{place}, version {index + 1}", f"{number}.{index}", parent, version)
            )
        parent = f"{number}.{selected}"
    return [
        ForeignChat(
            where=where,
            title=name,
            messages=messages,
            created=created,
            current=parent,
            system_prompt=_system_prompt(where, obj),
            pinned=field(obj, "pinned", (bool, type(None)), where) is True,
        )
    ]


def _system_prompt(where: str, obj: dict[str, Any]) -> str | None:
    prompt = obj.get("systemPrompt")
    config = field(obj, "perChatPredictionConfig", (dict, type(None)), where) or {}
    for entry in field(config, "fields", (list, type(None)), where) or []:
        if isinstance(entry, dict) and entry.get("key") == _PROMPT_KEY and entry.get("value"):
            prompt = entry["value"]  # the chat's own setting wins over the older field
    if prompt is None:
        return None
    return text(prompt, where, "systemPrompt", MAX_SYSTEM_PROMPT_BYTES).strip() or None


def _version(place: str, key: str, parent: str | None, value: Any) -> ForeignMessage:
    obj: dict[str, Any] = need(value, dict, place, "version")
    role: str = field(obj, "role", str, place)
    kind: str = field(obj, "type", str, place)
    dropped: list[str] = []
    words: list[str] = []
    if kind == "singleStep":
        words += _content(place, field(obj, "content", list, place), dropped)
    elif kind == "multiStep":
        for step in field(obj, "steps", list, place):
            step = need(step, dict, place, "step")
            if step.get("type") != "contentBlock":
                dropped.append(TOOL_CALLS if step.get("type") == "toolStatus" else OTHER)
            elif (need(step.get("style"), (dict, type(None)), place, "style") or {}).get(
                "type"
            ) == "thinking":
                dropped.append(REASONING)
            else:
                words += _content(place, field(step, "content", list, place), dropped)
    else:
        raise fail(place, f'"type" is {kind[:40]!r}; this Hearth reads singleStep and multiStep.')
    joined = text("\n\n".join(w for w in words if w), place, "the message's text")
    if role not in ("user", "assistant", "system"):
        return ForeignMessage(id=key, parent=parent, role=Role.SYSTEM, text="", skip=OTHER)
    if role == "system" or not joined.strip():
        reason = SYSTEM if role == "system" and joined.strip() else (dropped[0] if dropped else "")
        return ForeignMessage(id=key, parent=parent, role=Role(role), text="", skip=reason)
    return ForeignMessage(id=key, parent=parent, role=Role(role), text=joined, dropped=dropped)


def _content(place: str, parts: list[Any], dropped: list[str]) -> list[str]:
    words: list[str] = []
    for part in parts:
        if not isinstance(part, dict):
            raise fail(place, f'"content" must hold objects, not {kind_of(part)}.')
        if part.get("type") == "text":
            words.append(text(part.get("text"), place, "text"))
        elif part.get("type") == "file":
            dropped.append(IMAGES if part.get("fileType") == "image" else FILES)
        else:
            dropped.append(OTHER)
    return words
