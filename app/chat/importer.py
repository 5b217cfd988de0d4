"""Importing Hearth JSON (docs/chat-json-schema.md) as new conversations.

The file is untrusted. Everything is checked before anything is written, and all of it is
written in one transaction: a bad file imports nothing and raises ChatImportError with a
message for the user. No Qt; any thread may call these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_type_hints

from app.util.untrusted_json import MB, JsonFileError, parse, read_limited, utf8_size
from storage.bulk_import import (
    NewConversation,
    NewMessage,
    insert_conversations,
    insertion_order,
)
from storage.chats import DEFAULT_TITLE
from storage.database import Database
from storage.errors import DatabaseError, TreeShapeError
from storage.records import MessageStatus, Role, StatsRecord, TitleSource
from storage.sampling_values import CHAT_KEYS, clean_sampling, out_of_range

FORMAT_NAME = "hearth-chat"
FORMAT_VERSION = 2  # version 1 files lack the fields 2 added; they import with defaults

MAX_FILE_BYTES = 200 * MB
MAX_MESSAGE_BYTES = 10 * MB  # content, and separately the error text, of one message
MAX_SHORT_TEXT_BYTES = 64 * 1024  # titles, stats strings
MAX_SYSTEM_PROMPT_BYTES = 1 * MB
MAX_NAME_CHARS = 32  # role and status (the database column's width)

_KNOWN_ROLES = {r.value for r in Role}
_KNOWN_STATUSES = {s.value for s in MessageStatus}
_STATS_TYPES: dict[str, type] = get_type_hints(StatsRecord)


class ChatImportError(Exception):
    """The file cannot be imported; nothing was imported. The message is for the user."""


@dataclass(frozen=True)
class ImportSummary:
    conversation_ids: list[int]
    messages: int
    # Messages with a role or status this version does not know: kept, shown as damaged.
    damaged: int
    source: str = "Hearth"  # the app whose export it was (app/chat/imports/sources.py)
    # What another app's export held that Hearth leaves out, by kind ("images": 2).
    skipped: Mapping[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        """ "Imported 2 chats from ChatGPT (9 messages; 3 skipped: images, tool calls)"."""
        chats = len(self.conversation_ids)
        notes = [f"{self.messages} message{'s' if self.messages != 1 else ''}"]
        if self.damaged:
            notes.append(f"{self.damaged} shown as damaged")
        left_out = sum(self.skipped.values())
        if left_out:
            kinds = sorted(self.skipped, key=lambda kind: (-self.skipped[kind], kind))
            notes.append(f"{left_out} skipped: {', '.join(kinds)}")
        return (
            f"Imported {chats} chat{'s' if chats != 1 else ''} from {self.source} "
            f"({'; '.join(notes)})"
        )


# ---- reading the file ----------------------------------------------------------------------


def read_chat_file(path: Path) -> bytes:
    try:
        return read_limited(Path(path), MAX_FILE_BYTES)
    except JsonFileError as exc:  # its messages name the path already
        raise ChatImportError(str(exc)) from exc


def parse_document(data: bytes) -> Any:
    """Bytes → the JSON value, with every failure as a ChatImportError."""
    if len(data) > MAX_FILE_BYTES:
        raise ChatImportError(f"The file is too large to import (limit {MAX_FILE_BYTES // MB} MB).")
    try:
        return parse(data)
    except JsonFileError as exc:
        raise ChatImportError(str(exc)) from exc


# ---- checking the JSON ---------------------------------------------------------------------


class _Place:
    """Where in the file a value was found, for messages like "conversation 2, message 5"."""

    def __init__(self, label: str) -> None:
        self.label = label

    def fail(self, problem: str) -> ChatImportError:
        return ChatImportError(f"{self.label}: {problem}")

    def field(self, obj: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
        if key not in obj:
            raise self.fail(f'the field "{key}" is missing.')
        return self.value(obj[key], key, kind)

    def value(self, value: Any, key: str, kind: type | tuple[type, ...]) -> Any:
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # bool is an int in Python, never in this format.
        if isinstance(value, bool) and bool not in kinds:
            raise self.fail(f'"{key}" must be {_kind_words(kinds)}, not true/false.')
        if not isinstance(value, kinds):
            raise self.fail(f'"{key}" must be {_kind_words(kinds)}, not {_json_kind(value)}.')
        return value

    def text(self, obj: dict[str, Any], key: str, limit: int, *, optional: bool = False) -> Any:
        if optional and obj.get(key) is None:
            return None
        value: str = self.field(obj, key, str)
        size = utf8_size(value)
        if size is None:
            raise self.fail(f'"{key}" holds characters that are not valid Unicode.')
        if size > limit:
            raise self.fail(
                f'"{key}" is too long ({size / MB:.1f} MB; the limit is {limit / MB:g} MB).'
            )
        return value

    def time(self, obj: dict[str, Any], key: str) -> datetime:
        stamp: str = self.field(obj, key, str)
        try:
            moment = datetime.fromisoformat(stamp)
            # A time without an offset is taken as UTC (the format always writes one).
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC)
        except (ValueError, OverflowError) as exc:
            raise self.fail(f'"{key}" is not a date and time ({stamp[:40]!r}).') from exc


_JSON_KINDS = {str: "text", int: "a whole number", float: "a number", bool: "true/false"}


def _kind_words(kinds: tuple[type, ...]) -> str:
    words = {_JSON_KINDS.get(k, "a list" if k is list else "an object") for k in kinds}
    if type(None) in kinds:
        words = {w for w in words if w != "an object"} | {"null"}
    if {int, float} <= set(kinds):
        words -= {"a whole number"}
    return " or ".join(sorted(words))


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return _JSON_KINDS.get(type(value), type(value).__name__)


def _name(place: _Place, obj: dict[str, Any], key: str) -> str:
    value: str = place.field(obj, key, str)
    if not value or len(value) > MAX_NAME_CHARS or not value.isprintable():
        raise place.fail(f'"{key}" must be a short word such as "assistant", not {value[:40]!r}.')
    return value


def _stats(place: _Place, value: Any) -> StatsRecord | None:
    if value is None:
        return None
    stats: dict[str, Any] = place.value(value, "stats", dict)
    inner = _Place(f"{place.label}, stats")
    values: dict[str, Any] = {}
    for name, kind in _STATS_TYPES.items():
        if kind is int:
            values[name] = inner.field(stats, name, int)
        elif kind is float:
            # null stands for a value that was not a finite number (JSON has no NaN).
            number = inner.field(stats, name, (int, float, type(None)))
            values[name] = 0.0 if number is None else float(number)
        else:
            values[name] = inner.text(stats, name, MAX_SHORT_TEXT_BYTES)
    return StatsRecord(**values)


def _message(place: _Place, value: Any) -> NewMessage:
    obj: dict[str, Any] = place.value(value, "message", dict)
    key: int = place.field(obj, "id", int)
    place = _Place(f"{place.label} (id {key})")
    if "parent_id" not in obj:
        raise place.fail('the field "parent_id" is missing (null for a first message).')
    parent: int | None = place.value(obj["parent_id"], "parent_id", (int, type(None)))
    return NewMessage(
        key=key,
        parent_key=parent,
        role=_name(place, obj, "role"),
        content=place.text(obj, "content", MAX_MESSAGE_BYTES),
        status=_name(place, obj, "status"),
        error=place.text(obj, "error", MAX_MESSAGE_BYTES, optional=True),
        created_at=place.time(obj, "created_at"),
        updated_at=place.time(obj, "updated_at"),
        stats=_stats(place, obj.get("stats")),
        outside_keys=_ids(place, obj.get("outside_view", []), "outside_view"),
    )


def _ids(place: _Place, value: Any, key: str) -> list[int]:
    items: list[Any] = place.value(value, key, list)
    return [place.value(item, key, int) for item in items]


def _sampling(place: _Place, value: Any) -> dict[str, float | int]:
    if value is None:
        return {}
    values: dict[str, Any] = place.value(value, "sampling", dict)
    for key in CHAT_KEYS:  # names this version does not know are ignored, like other fields
        if key in values:
            number = place.value(values[key], f"sampling.{key}", (int, float))
            problem = out_of_range(key, number)
            if problem is not None:
                raise place.fail(f"the sampling setting {problem}.")
    return clean_sampling(values)


def _title_source(place: _Place, value: Any) -> TitleSource:
    # Missing (version 1) or unknown: treated as typed by the user, so never retitled.
    if value is None:
        return TitleSource.USER
    name: str = place.value(value, "title_source", str)
    return TitleSource(name) if name in TitleSource._value2member_map_ else TitleSource.USER


def _conversation(number: int, value: Any) -> NewConversation:
    place = _Place(f"Conversation {number}")
    obj: dict[str, Any] = place.value(value, f"conversation {number}", dict)
    title: str = place.text(obj, "title", MAX_SHORT_TEXT_BYTES)
    place = _Place(f"Conversation {number} ({title.strip()[:60]!r})")
    items: list[Any] = place.field(obj, "messages", list)
    messages = [_message(_Place(f"{place.label}, message {i}"), m) for i, m in enumerate(items, 1)]
    shown = _ids(place, obj.get("shown_path", []), "shown_path")
    try:
        insertion_order(messages)
    except TreeShapeError as exc:
        raise place.fail(f"the messages do not form a tree: {exc}.") from exc
    return NewConversation(
        title=title.strip() or DEFAULT_TITLE,
        created_at=place.time(obj, "created_at"),
        updated_at=place.time(obj, "updated_at"),
        pinned=place.value(obj.get("pinned", False), "pinned", bool),
        system_prompt=place.text(obj, "system_prompt", MAX_SYSTEM_PROMPT_BYTES, optional=True),
        sampling=_sampling(place, obj.get("sampling")),
        title_source=_title_source(place, obj.get("title_source")),
        messages=messages,
        shown_keys=shown,
    )


Progress = Callable[[int, int], None]  # (done, total); may raise to stop the import


def conversations_from_json(
    document: Any, progress: Progress | None = None
) -> list[NewConversation]:
    """Check a parsed Hearth JSON document and turn it into conversations to insert;
    `progress` hears about each conversation checked."""
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise ChatImportError(
            'The file is not a Hearth chat export (it lacks "format": "hearth-chat").'
        )
    top = _Place("The file")
    version = top.field(document, "version", int)
    if version > FORMAT_VERSION:
        raise ChatImportError(
            f"The file was written by a newer Hearth (format version {version}); "
            f"this Hearth reads version {FORMAT_VERSION}. Update Hearth to import it."
        )
    if version < 1:
        raise ChatImportError(f"The file has an unknown format version ({version}).")
    items: list[Any] = top.field(document, "conversations", list)
    checked: list[NewConversation] = []
    for n, item in enumerate(items, 1):
        checked.append(_conversation(n, item))
        if progress is not None:
            progress(n, len(items))
    return checked


# ---- importing -----------------------------------------------------------------------------


def _is_damaged(message: NewMessage) -> bool:
    return (
        message.role not in _KNOWN_ROLES
        or message.status not in _KNOWN_STATUSES
        or message.status == MessageStatus.DAMAGED.value
    )


def import_bytes(db: Database, data: bytes, progress: Progress | None = None) -> ImportSummary:
    """Import every conversation in `data` as new ones, all or nothing. `progress` hears
    about each conversation checked; raising from it stops the import before anything is
    written (the write itself is one transaction and is not interrupted)."""
    return insert_checked(db, conversations_from_json(parse_document(data), progress))


def insert_checked(
    db: Database,
    conversations: list[NewConversation],
    source: str = "Hearth",
    skipped: Mapping[str, int] | None = None,
) -> ImportSummary:
    """Write conversations checked by a reader (this module's or one in app/chat/imports),
    all in one transaction."""
    try:
        ids = insert_conversations(db, conversations)
    except TreeShapeError as exc:  # already checked by the reader; kept for callers' one except
        raise ChatImportError(str(exc)) from exc
    except DatabaseError as exc:
        raise ChatImportError(f"Nothing was imported: {exc}") from exc
    every = [m for c in conversations for m in c.messages]
    return ImportSummary(ids, len(every), sum(map(_is_damaged, every)), source, dict(skipped or {}))


def import_file(db: Database, path: Path, progress: Progress | None = None) -> ImportSummary:
    """Read and import a Hearth JSON file. Raises ChatImportError; nothing is imported then."""
    path = Path(path)
    data = read_chat_file(path)  # its errors name the path already
    try:
        return import_bytes(db, data, progress)
    except ChatImportError as exc:
        raise ChatImportError(f"{path.name}: {exc}") from exc
