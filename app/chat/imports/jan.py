"""Jan's threads: a folder per thread holding `thread.json` and `messages.jsonl`
(Jan's data folder → threads/<thread id>/).

Documented by janhq/jan in docs/docs/specs/threads.md and docs/docs/specs/messages.md, with the
stored types in core/src/types/thread/threadEntity.ts (`Thread`: id, object "thread", title,
created, updated) and core/src/types/message/messageEntity.ts (`ThreadMessage`):

    messages.jsonl, one object a line:
    {"id": str, "object": "thread.message", "thread_id": str, "role": "user"|"assistant"|"system",
     "status": "ready"|"pending"|"error"|"stopped", "created_at": Unix time (s or ms),
     "content": [{"type": "text"|"reasoning"|"image_url"|"tool_call",
                  "text"?: {"value": str, "annotations": [...]}, ...}]}

Jan has no branches: a thread is one line of messages, in time order. Import takes a thread's
messages.jsonl or thread.json (the other file is read from beside it), a thread folder, or
the threads folder (every thread in it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.chat.importer import MAX_FILE_BYTES, ChatImportError, parse_document
from app.chat.imports.checks import fail, field, kind_of, moment, need, text, title
from app.chat.imports.foreign_chat import (
    IMAGES,
    OTHER,
    REASONING,
    SYSTEM,
    TOOL_CALLS,
    ForeignChat,
    ForeignMessage,
)
from app.util.untrusted_json import JsonFileError, read_limited
from storage.records import MessageStatus, Role

NAME = "Jan"
MESSAGES = "messages.jsonl"
THREAD = "thread.json"
_SKIPPED = {"reasoning": REASONING, "image_url": IMAGES, "tool_call": TOOL_CALLS}
_STATUSES = {
    "ready": MessageStatus.COMPLETE,
    "error": MessageStatus.ERROR,
    "stopped": MessageStatus.INTERRUPTED,
    "pending": MessageStatus.INTERRUPTED,  # nothing is writing it any more
}


def is_message(value: Any) -> bool:
    return isinstance(value, dict) and value.get("object") == "thread.message"


def is_thread(value: Any) -> bool:
    return isinstance(value, dict) and value.get("object") == "thread"


def looks_like_lines(data: bytes) -> bool:
    """The first line of `data` is a Jan message: a messages.jsonl."""
    first = data.lstrip().split(b"\n", 1)[0]
    try:
        return is_message(json.loads(first.decode("utf-8-sig")))
    except (ValueError, RecursionError):
        return False


def read_lines(data: bytes, path: Path | None) -> list[ForeignChat]:
    """A messages.jsonl's messages as one chat; its title from thread.json beside `path`."""
    thread = _thread_beside(path) if path is not None else {}
    return [_chat(thread, _messages(data, path.name if path else MESSAGES), path)]


def read_thread_file(document: Any, path: Path) -> list[ForeignChat]:
    """A thread.json: its messages are in messages.jsonl beside it."""
    lines = path.parent / MESSAGES
    return [_chat(document, _messages(_read(lines, MAX_FILE_BYTES), lines.name), path)]


def read_folder(folder: Path) -> list[ForeignChat]:
    """A thread folder, or a folder of thread folders (Jan's threads/, or its data folder)."""
    if (folder / "threads").is_dir() and not (folder / MESSAGES).exists():
        folder = folder / "threads"
    threads = (
        [folder]
        if (folder / MESSAGES).is_file()
        else sorted(child for child in folder.iterdir() if (child / MESSAGES).is_file())
    )
    if not threads:
        raise ChatImportError(
            f"{folder} holds no Jan thread (a folder with {MESSAGES}); "
            "import a chat export file or a Jan threads folder."
        )
    budget = MAX_FILE_BYTES  # one limit for the whole folder, as for one file
    chats: list[ForeignChat] = []
    for thread in threads:
        data = _read(thread / MESSAGES, budget)
        budget -= len(data)
        chats.append(_chat(_thread_beside(thread / MESSAGES), _messages(data, thread.name), thread))
    return chats


def _read(path: Path, limit: int) -> bytes:
    try:
        return read_limited(path, limit)
    except JsonFileError as exc:
        raise ChatImportError(str(exc)) from exc


def _thread_beside(path: Path) -> dict[str, Any]:
    """thread.json beside `path` (the thread's title and times); {} when there is none."""
    beside = path.parent / THREAD
    if not beside.is_file():
        return {}
    document = parse_document(_read(beside, MAX_FILE_BYTES))
    return need(document, dict, f"{beside.parent.name}/{THREAD}", "thread")


def _messages(data: bytes, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for number, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            value = parse_document(line)
        except ChatImportError as exc:
            raise ChatImportError(f"{name}, line {number}: {exc}") from exc
        found.append(need(value, dict, f"{name}, line {number}", "message"))
    return found


def _chat(thread: Any, lines: list[dict[str, Any]], path: Path | None) -> ForeignChat:
    where = f"The thread {path.name if path else ''}".strip()
    thread = need(thread, dict, where, "thread")
    name = title(thread.get("title"), where)
    where = f"The thread {name[:60]!r}" if name else where
    messages = [_message(f"{where}, message {n}", n, line) for n, line in enumerate(lines, 1)]
    # One line of messages in time order (the spec's example lists them newest first).
    ordered = sorted(messages, key=lambda m: (m.created is None, m.created))
    chained: list[ForeignMessage] = []
    for message in ordered:
        parent = chained[-1].id if chained else None
        chained.append(
            ForeignMessage(
                id=message.id,
                parent=parent,
                role=message.role,
                text=message.text,
                created=message.created,
                status=message.status,
                skip=message.skip,
                dropped=message.dropped,
            )
        )
    return ForeignChat(
        where=where,
        title=name,
        messages=chained,
        created=moment(thread.get("created"), where, "created"),
        updated=moment(thread.get("updated"), where, "updated"),
        current=chained[-1].id if chained else None,
    )


def _message(place: str, number: int, obj: dict[str, Any]) -> ForeignMessage:
    role: str = field(obj, "role", str, place)
    status = _STATUSES.get(field(obj, "status", (str, type(None)), place) or "ready")
    created = moment(obj.get("created_at"), place, "created_at")
    words: list[str] = []
    dropped: list[str] = []
    for part in field(obj, "content", list, place):
        if not isinstance(part, dict):
            raise fail(place, f'"content" must hold objects, not {kind_of(part)}.')
        kind = part.get("type")
        if kind == "text":
            value: dict[str, Any] = field(part, "text", dict, place)
            words.append(text(value.get("value"), place, "text.value"))
        else:
            dropped.append(_SKIPPED.get(str(kind), OTHER))
    joined = text("\n\n".join(w for w in words if w), place, "the message's text")
    key = str(number)  # the line, not Jan's id: a file cannot make two lines one message
    if role not in ("user", "assistant") or not joined.strip():
        reason = SYSTEM if role == "system" else OTHER if role not in ("user", "assistant") else ""
        reason = reason or (dropped[0] if dropped else "")  # "": an empty message, not missed
        return ForeignMessage(
            id=key, parent=None, role=Role.SYSTEM, text="", created=created, skip=reason
        )
    return ForeignMessage(
        id=key,
        parent=None,
        role=Role(role),
        text=joined,
        created=created,
        status=status or MessageStatus.COMPLETE,
        dropped=dropped,
    )
