"""Which app a chat export comes from, told by its content (never by the file's name), and
the import of any of them: Hearth JSON, ChatGPT, Open WebUI, LM Studio and Jan.

Every source gets Hearth JSON's guards: the size limit before reading, strict UTF-8 JSON,
every field's type checked, a tree without cycles or unknown parents, sane times, everything
checked before anything is written and all of it written in one transaction. No Qt; any
thread may call these (the window runs them on a worker thread).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.chat.importer import (
    FORMAT_NAME,
    ChatImportError,
    ImportSummary,
    Progress,
    conversations_from_json,
    insert_checked,
    parse_document,
    read_chat_file,
)
from app.chat.imports import chatgpt, jan, lm_studio, open_webui
from app.chat.imports.foreign_chat import ForeignChat, to_conversation
from storage.bulk_import import NewConversation
from storage.database import Database

UNKNOWN = "This file is not a Hearth, ChatGPT, Open WebUI, LM Studio or Jan export."
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Source:
    name: str
    recognise: Callable[[Any], bool]
    read: Callable[[Any], list[ForeignChat]]


# Asked in this order; each looks for what only its format has at the top of the document.
FOREIGN = (
    Source(chatgpt.NAME, chatgpt.recognise, chatgpt.read),
    Source(open_webui.NAME, open_webui.recognise, open_webui.read),
    Source(lm_studio.NAME, lm_studio.recognise, lm_studio.read),
)


def is_hearth(document: Any) -> bool:
    return isinstance(document, dict) and document.get("format") == FORMAT_NAME


def identify(document: Any) -> str | None:
    """The app a parsed JSON document was exported by, or None when none is recognised."""
    if is_hearth(document):
        return "Hearth"
    if jan.is_thread(document) or jan.is_message(document):
        return jan.NAME
    return next((s.name for s in FOREIGN if s.recognise(document)), None)


def import_path(db: Database, path: Path, progress: Progress | None = None) -> ImportSummary:
    """Import the chats in `path` (a file of any supported format, or a Jan threads folder)
    as new ones, all or nothing. Raises ChatImportError, whose message names the file."""
    path = Path(path)
    try:
        if path.is_dir():
            return _import_foreign(db, jan.NAME, jan.read_folder(path), progress)
        return _import_file(db, path, progress)
    except ChatImportError as exc:
        raise ChatImportError(f"{path.name}: {exc}") from exc


def _import_file(db: Database, path: Path, progress: Progress | None) -> ImportSummary:
    data = read_chat_file(path)
    if data.startswith(_ZIP_MAGIC):
        raise ChatImportError(
            "This is a zip archive; unpack it and import the conversations.json inside."
        )
    try:
        document = parse_document(data)
    except ChatImportError:
        if jan.looks_like_lines(data):  # JSON Lines: not one JSON document
            return _import_foreign(db, jan.NAME, jan.read_lines(data, path), progress)
        raise
    if is_hearth(document):
        return insert_checked(db, conversations_from_json(document, progress))
    if jan.is_thread(document):
        return _import_foreign(db, jan.NAME, jan.read_thread_file(document, path), progress)
    if jan.is_message(document):  # a messages.jsonl of one line is one JSON document
        return _import_foreign(db, jan.NAME, jan.read_lines(data, path), progress)
    source = next((s for s in FOREIGN if s.recognise(document)), None)
    if source is None:
        raise ChatImportError(UNKNOWN)
    return _import_foreign(db, source.name, source.read(document), progress)


def _import_foreign(
    db: Database, name: str, chats: list[ForeignChat], progress: Progress | None
) -> ImportSummary:
    now = datetime.now(UTC)
    conversations: list[NewConversation] = []
    skipped: Counter[str] = Counter()
    for number, chat in enumerate(chats, 1):
        conversation, left_out = to_conversation(chat, now)
        skipped.update(left_out)
        if conversation is not None:
            conversations.append(conversation)
        if progress is not None:
            progress(number, len(chats))
    return insert_checked(db, conversations, name, skipped)
