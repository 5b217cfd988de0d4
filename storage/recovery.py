"""Bringing the chats of a damaged database (set aside by Database.open) back into the new one,
when the app asks for it (it decides when: at once from the command line, in the background
in the window).

What reads (storage.damaged_file) goes into the live database in one transaction, so a
failure leaves it as it was. Ids are kept where the live database does not use them yet (the
usual case: recovery starts right after the new file is created); a chat whose id is taken
gets a new one, and message ids move past the live ones, links moving with them. Messages
whose chat is lost, and texts that survive only in the search index, go into one "Recovered
messages" chat, in their original order. A message whose parent is lost follows the one
written before it in its chat, so the chat still reads on across the gap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from storage.damaged_file import DamagedFile, Row
from storage.errors import UnreadableFileError
from storage.fts_text import stored_text
from storage.models import Conversation, utc_now
from storage.records import MessageStatus, TitleSource
from storage.recovery_report import RECOVERED_CHAT_TITLE, RecoveryReport

if TYPE_CHECKING:
    from storage.database import Database

log = logging.getLogger(__name__)

# Not a role this version writes: such messages load as damaged and are never sent to a model.
UNKNOWN_ROLE = "unknown"
INDEX_ONLY_NOTE = (
    "Only its text was recovered (from the search index); its chat and its author were lost."
)

# The search index's tables: one row per message (rowid = message id); _content keeps the
# indexed text, which is the message's own text (storage.fts_text).
_INDEX_SIZES, _INDEX_TEXTS = "message_index_docsize", "message_index_content"
# Copied with new ids (nothing refers to theirs); a row clashing with a live one is skipped.
_OTHER_TABLES = (
    "documents",
    "chunk_summaries",
    "document_summaries",
    "translations",
    "presets",
)

Progress = Callable[[int, int], None]


def _nothing(_done: int, _total: int) -> None:
    pass


def recover(damaged: Path, database: Database, progress: Progress = _nothing) -> RecoveryReport:
    """Copy what can be read of the damaged file `damaged` into `database`."""
    try:
        with DamagedFile.open_copy(damaged) as source:
            return _Recovery(source, damaged, database, progress).run()
    except UnreadableFileError as error:
        log.warning("Nothing recoverable in %s: %s", damaged, error)
        return RecoveryReport(damaged, 0, 0, 0, None, False, False, 0)


IdMap = Callable[[object], object]


def _offset(offset: int) -> IdMap:
    return lambda value: value + offset if isinstance(value, int) else value


def _conversation_ids(connection: Connection, wanted: set[int]) -> IdMap:
    """Recovered chats keep their ids, but for those the live database already uses (the
    empty chat the app opened meanwhile): those move past every id in use."""
    taken = {int(row[0]) for row in connection.exec_driver_sql("SELECT id FROM conversations")}
    free = max(taken | wanted | {0}) + 1
    moved: dict[object, object] = {}
    for clash in sorted(wanted & taken):
        moved[clash], free = free, free + 1
    return lambda value: moved.get(value, value)


Table = tuple[list[str], list[Row]]  # column names, and rows as (rowid, *columns)


@dataclass(frozen=True)
class _Found:
    """What could be read of the damaged file."""

    conversations: Table
    messages: Table
    stats: Table
    index_ids: list[int]  # the search index's list of messages
    index_texts: list[Row]  # (message id, indexed text)
    others: dict[str, Table]

    def named_message_ids(self) -> set[int]:
        """Every message id that a readable part of the file names."""
        columns, messages = self.messages
        links = _at(columns, "parent_id") + _at(columns, "active_child_id")
        return (
            _ids(messages, [0, *links])
            | _ids(self.stats[1], [0])
            | set(self.index_ids)
            | _ids(self.index_texts, [0])
        )


class _RecoveredChat:
    """The "Recovered messages" chat, created the first time a message needs it."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.id: int | None = None

    def __call__(self) -> int:
        if self.id is None:
            now = utc_now()
            chat = Conversation(
                title=RECOVERED_CHAT_TITLE,
                title_source=TitleSource.USER.value,
                created_at=now,
                updated_at=now,
            )
            self._session.add(chat)
            self._session.flush()
            self.id = chat.id
        return self.id


class _Recovery:
    def __init__(
        self, source: DamagedFile, damaged: Path, database: Database, progress: Progress
    ) -> None:
        self.source = source
        self.damaged = damaged
        self.database = database
        self.progress = progress
        self.columns = source.columns()

    def _read(self, table: str, wanted: Iterable[str]) -> tuple[list[str], list[Row]]:
        """The columns of `wanted` that the damaged table has, and its readable rows."""
        have = self.columns.get(table)
        if have is None:
            return [], []
        columns = [c for c in wanted if c in have]
        return columns, self.source.rows(table, columns)

    def run(self) -> RecoveryReport:
        self.progress(0, 2)
        # Everything is read before the write transaction starts, so the live database is
        # locked for the inserts only (the app may be in use meanwhile).
        found = self._read_all()
        self.progress(1, 2)
        report = self._write_all(found)
        self.progress(2, 2)
        log.info("Recovered from %s: %s", self.damaged, report)
        return report

    def _read_all(self) -> _Found:
        live = self.database.columns(
            ("conversations", "messages", "generation_stats", *_OTHER_TABLES)
        )
        found = _Found(
            self._read("conversations", live["conversations"]),
            self._read("messages", live["messages"]),
            self._read("generation_stats", live["generation_stats"]),
            [int(row[0]) for row in self._read(_INDEX_SIZES, [])[1]],  # type: ignore[call-overload]
            self._read(_INDEX_TEXTS, ["c0"])[1],
            {
                table: self._read(table, [c for c in live[table] if c != "id"])
                for table in _OTHER_TABLES
            },
        )
        return found

    def _texts_only(self, found: _Found) -> list[tuple[int, str]]:
        """Texts from the search index of the messages whose rows are lost."""
        have = _ids(found.messages[1], [0])
        return [
            (row[0], stored_text(row[1]))
            for row in found.index_texts
            if isinstance(row[0], int) and row[0] not in have and isinstance(row[1], str)
            if row[1]
        ]

    def _write_all(self, found: _Found) -> RecoveryReport:
        conversation_columns, conversations = found.conversations
        message_columns, messages = found.messages
        with self.database.session() as session:
            connection = session.connection()
            # A write first: it takes the write lock now, so ids read below stay free until
            # the commit (a plain BEGIN would fail at the first insert if the app wrote
            # in between).
            connection.exec_driver_sql("DELETE FROM alembic_version WHERE 0")
            # Links are mended before the rows go in (with a violation outstanding, SQLite
            # would search the table for children at every insert); deferred, so one that
            # slips through (a row left out) is mended before the commit instead.
            connection.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            chats_before = _count(connection, "conversations", None)
            message_offset = _max_id(connection, "messages")
            chat_ids = _conversation_ids(
                connection,
                _ids(conversations, [0]) | _ids(messages, _at(message_columns, "conversation_id")),
            )
            message_ids = _offset(message_offset)
            chats = _complete_rows(
                connection,
                "conversations",
                conversation_columns,
                _mapped(
                    conversation_columns,
                    conversations,
                    {"id": chat_ids, "active_root_id": message_ids},
                ),
            )
            _insert(connection, "conversations", conversation_columns, chats)
            recovered_chat = _RecoveredChat(session)
            columns, placed = _placed_messages(
                message_columns,
                _complete_rows(
                    connection,
                    "messages",
                    message_columns,
                    _mapped(
                        message_columns,
                        messages,
                        {
                            "id": message_ids,
                            "conversation_id": chat_ids,
                            "parent_id": message_ids,
                            "active_child_id": message_ids,
                        },
                    ),
                ),
                [(i + message_offset, text) for i, text in self._texts_only(found)],
                _ids(chats, [n for n, c in enumerate(conversation_columns) if c == "id"]),
                recovered_chat,
            )
            _insert(connection, "messages", columns, placed)
            # A reply still being written when the file broke was cut short there.
            connection.exec_driver_sql(
                "UPDATE messages SET status = ? WHERE status = ? AND id > ?",
                (MessageStatus.INTERRUPTED.value, MessageStatus.STREAMING.value, message_offset),
            )
            stats_columns, stats = found.stats
            _insert(
                connection,
                "generation_stats",
                stats_columns,
                _mapped(stats_columns, stats, {"message_id": message_ids}),
            )
            connection.exec_driver_sql(
                "DELETE FROM generation_stats WHERE message_id > ? "
                "AND message_id NOT IN (SELECT id FROM messages)",
                (message_offset,),
            )
            _gather_strays(connection, recovered_chat, message_offset)
            _repair_links(connection, message_offset)
            other_rows = sum(
                self._insert_plain(connection, table, *found.others[table])
                for table in _OTHER_TABLES
            )
            texts_only = _count_texts_only(connection, message_offset)
            recovered_messages = _count(connection, "messages", message_offset) - texts_only
            recovered_chats = _count(connection, "conversations", None) - chats_before
        complete = "messages" in self.columns and "messages" not in self.source.damaged_tables
        listed = _INDEX_SIZES in self.columns and _INDEX_SIZES not in self.source.damaged_tables
        if listed:
            in_file: int | None = len(found.index_ids)
        elif complete:
            in_file = len(messages)
        else:
            in_file = len(found.named_message_ids()) or None
        return RecoveryReport(
            self.damaged,
            recovered_chats,
            recovered_messages,
            texts_only,
            in_file,
            listed or complete,
            complete,
            other_rows,
        )

    # ---- inserts ---------------------------------------------------------------------------

    def _insert_plain(
        self, connection: Connection, table: str, columns: list[str], rows: list[Row]
    ) -> int:
        if not rows:
            return 0
        before = _count(connection, table, None)
        _insert(connection, table, columns, [row[1:] for row in rows])
        return _count(connection, table, None) - before


# ---- helpers ---------------------------------------------------------------------------------


def _placed_messages(
    columns: list[str],
    rows: list[Row],
    texts: list[tuple[int, str]],
    chats: set[int],
    recovered_chat: _RecoveredChat,
) -> tuple[list[str], list[Row]]:
    """The messages to insert, in id order, each in a chat that exists and after a parent
    that exists in the same chat: a message whose chat is lost, and each text found only in
    the search index, goes into the recovered chat, one after the other; a message whose
    parent is lost (or is later, or in another chat) follows the message written just
    before it in its chat. Returns the columns and the rows."""
    every = list(dict.fromkeys([*columns, *_TEXT_ONLY_COLUMNS]))
    at = {column: n for n, column in enumerate(every)}
    width = len(every)
    merged: list[list[object]] = [list(row) + [None] * (width - len(row)) for row in rows]
    stamp = utc_now().replace(tzinfo=None).isoformat(sep=" ")
    for message_id, text in texts:
        row: list[object] = [None] * width
        for column, value in zip(
            _TEXT_ONLY_COLUMNS,
            (
                message_id,
                UNKNOWN_ROLE,
                text,
                MessageStatus.DAMAGED.value,
                INDEX_ONLY_NOTE,
                stamp,
                stamp,
            ),
            strict=True,
        ):
            row[at[column]] = value
        row[at["conversation_id"]] = _LOST
        merged.append(row)
    merged = [row for row in merged if isinstance(row[at["id"]], int)]
    merged.sort(key=lambda row: row[at["id"]])  # type: ignore[arg-type, return-value]
    chat_of: dict[object, object] = {}
    last_in: dict[object, object] = {}
    for row in merged:
        chat = row[at["conversation_id"]]
        if chat not in chats:
            chat = row[at["conversation_id"]] = recovered_chat()
        parent = row[at["parent_id"]]
        if chat == recovered_chat.id or (parent is not None and chat_of.get(parent) != chat):
            row[at["parent_id"]] = last_in.get(chat)
        chat_of[row[at["id"]]] = chat
        last_in[chat] = row[at["id"]]
    return every, [tuple(row) for row in merged]


_LOST = object()  # the chat of a text found only in the search index
_TEXT_ONLY_COLUMNS = ("id", "role", "content", "status", "error", "created_at", "updated_at")


def _complete_rows(
    connection: Connection, table: str, columns: list[str], rows: list[Row]
) -> list[Row]:
    """The rows that give every NOT NULL column without a default a value (the others
    would be refused anyway), so links to them are only made to rows that go in."""
    info = connection.exec_driver_sql(f'PRAGMA table_info("{table}")').fetchall()
    required = {str(c[1]) for c in info if c[3] and c[4] is None and not c[5]}
    needed = [n for n, column in enumerate(columns) if column in required]
    return [row for row in rows if all(row[n] is not None for n in needed)]


def _gather_strays(
    connection: Connection, recovered_chat: _RecoveredChat, message_offset: int
) -> None:
    """Moves into the recovered chat the messages whose chat did not go in after all, and
    lines up that chat: each message the only version after the one before."""
    strays = connection.exec_driver_sql(
        "SELECT count(*) FROM messages WHERE id > ? "
        "AND conversation_id NOT IN (SELECT id FROM conversations)",
        (message_offset,),
    ).scalar()
    if strays:
        connection.exec_driver_sql(
            "UPDATE messages SET conversation_id = ? WHERE id > ? "
            "AND conversation_id NOT IN (SELECT id FROM conversations)",
            (recovered_chat(), message_offset),
        )
    if recovered_chat.id is None:
        return
    ordered = [
        int(row[0])
        for row in connection.exec_driver_sql(
            "SELECT id FROM messages WHERE conversation_id = ? ORDER BY id", (recovered_chat.id,)
        )
    ]
    connection.exec_driver_sql(
        "UPDATE messages SET parent_id = ?, active_child_id = ? WHERE id = ?",
        [
            (
                ordered[n - 1] if n else None,
                ordered[n + 1] if n + 1 < len(ordered) else None,
                message_id,
            )
            for n, message_id in enumerate(ordered)
        ],
    )
    connection.exec_driver_sql(
        "UPDATE conversations SET active_root_id = ? WHERE id = ?",
        (ordered[0] if ordered else None, recovered_chat.id),
    )


def _count_texts_only(connection: Connection, message_offset: int) -> int:
    return int(
        connection.exec_driver_sql(
            "SELECT count(*) FROM messages WHERE id > ? AND error = ? AND role = ?",
            (message_offset, INDEX_ONLY_NOTE, UNKNOWN_ROLE),
        ).scalar()
    )


def _max_id(connection: Connection, table: str) -> int:
    return int(connection.exec_driver_sql(f'SELECT coalesce(max(id), 0) FROM "{table}"').scalar())


def _count(connection: Connection, table: str, above_id: int | None) -> int:
    if above_id is None:
        return int(connection.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar())
    return int(
        connection.exec_driver_sql(
            f'SELECT count(*) FROM "{table}" WHERE id > ?', (above_id,)
        ).scalar()
    )


def _same(value: object) -> object:
    return value


def _mapped(columns: list[str], rows: list[Row], maps: dict[str, IdMap]) -> list[Row]:
    """The rows without their rowid, with the id columns in `maps` mapped to their new ids."""
    each = [maps.get(column, _same) for column in columns]
    return [tuple(f(v) for f, v in zip(each, row[1:], strict=True)) for row in rows]


def _at(columns: list[str], column: str) -> list[int]:
    """Where `column` is in rows read as (rowid, *columns); [] if it is not there."""
    return [columns.index(column) + 1] if column in columns else []


def _ids(rows: list[Row], positions: list[int]) -> set[int]:
    return {row[i] for row in rows for i in positions if isinstance(row[i], int)}  # type: ignore[misc]


def _insert(connection: Connection, table: str, columns: list[str], rows: list[Row]) -> None:
    if not rows or not columns:
        return
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    # OR IGNORE: a row that breaks a NOT NULL or UNIQUE rule (damage, or a clash with a
    # live row) is left out, never the whole recovery.
    connection.exec_driver_sql(f'INSERT OR IGNORE INTO "{table}" ({names}) VALUES ({marks})', rows)


def _repair_links(connection: Connection, message_offset: int) -> None:
    """Mend every link of a recovered row that points at a lost row, a later message (a
    loop) or another chat; the rows themselves stay."""
    for sql in (
        # A parent that is lost, not earlier, or in another chat: the message follows the
        # chat's message written just before it, so the chat still reads on across the gap
        # (as a first message it would only show as another version of the chat's start).
        "UPDATE messages SET parent_id = (SELECT max(p.id) FROM messages AS p"
        "  WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id)"
        " WHERE id > :m AND parent_id IS NOT NULL AND (parent_id >= id OR NOT EXISTS ("
        "  SELECT 1 FROM messages AS p WHERE p.id = messages.parent_id"
        "  AND p.conversation_id = messages.conversation_id))",
        # A chosen version that is not (any longer) a child of this message.
        "UPDATE messages SET active_child_id = NULL WHERE id > :m AND active_child_id IS NOT "
        "NULL AND NOT EXISTS (SELECT 1 FROM messages AS c"
        "  WHERE c.id = messages.active_child_id AND c.parent_id = messages.id)",
        # A chosen first message that is not one of the chat's first messages.
        "UPDATE conversations SET active_root_id = NULL WHERE active_root_id IS "
        "NOT NULL AND NOT EXISTS (SELECT 1 FROM messages AS r WHERE r.id = "
        "conversations.active_root_id AND r.conversation_id = conversations.id"
        "  AND r.parent_id IS NULL)",
    ):
        connection.exec_driver_sql(sql.replace(":m", str(int(message_offset))))
