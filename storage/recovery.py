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

from storage.damaged_file import DamagedFile, Row
from storage.errors import UnreadableFileError
from storage.fts_text import stored_text
from storage.records import MessageStatus
from storage.recovery_report import RecoveryReport
from storage.recovery_rows import (
    RecoveredChat,
    column_at,
    complete_rows,
    conversation_ids,
    count_rows,
    count_texts_only,
    gather_strays,
    ids_in,
    insert_rows,
    mapped_rows,
    max_id,
    offset_ids,
    placed_messages,
    repair_links,
)

if TYPE_CHECKING:
    from storage.database import Database

log = logging.getLogger(__name__)


# The search index's tables: one row per message (rowid = message id); _content keeps the
# indexed text, which is the message's own text (storage.fts_text).
_INDEX_SIZES, _INDEX_TEXTS = "message_index_docsize", "message_index_content"
# Rows about one message, keyed by its id: they follow the message to its new id.
_PER_MESSAGE_TABLES = ("generation_stats", "message_traces")
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


Table = tuple[list[str], list[Row]]  # column names, and rows as (rowid, *columns)


@dataclass(frozen=True)
class _Found:
    """What could be read of the damaged file."""

    conversations: Table
    messages: Table
    # Tables of rows about one message each, keyed by its id: generation_stats and
    # message_traces (an older file lacks the latter: nothing is read from it).
    per_message: dict[str, Table]
    index_ids: list[int]  # the search index's list of messages
    index_texts: list[Row]  # (message id, indexed text)
    others: dict[str, Table]

    def named_message_ids(self) -> set[int]:
        """Every message id that a readable part of the file names."""
        columns, messages = self.messages
        links = column_at(columns, "parent_id") + column_at(columns, "active_child_id")
        return (
            ids_in(messages, [0, *links])
            | {i for _columns, rows in self.per_message.values() for i in ids_in(rows, [0])}
            | set(self.index_ids)
            | ids_in(self.index_texts, [0])
        )


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
            ("conversations", "messages", *_PER_MESSAGE_TABLES, *_OTHER_TABLES)
        )
        found = _Found(
            self._read("conversations", live["conversations"]),
            self._read("messages", live["messages"]),
            {table: self._read(table, live[table]) for table in _PER_MESSAGE_TABLES},
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
        have = ids_in(found.messages[1], [0])
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
            chats_before = count_rows(connection, "conversations", None)
            message_offset = max_id(connection, "messages")
            chat_ids = conversation_ids(
                connection,
                ids_in(conversations, [0])
                | ids_in(messages, column_at(message_columns, "conversation_id")),
            )
            message_ids = offset_ids(message_offset)
            chats = complete_rows(
                connection,
                "conversations",
                conversation_columns,
                mapped_rows(
                    conversation_columns,
                    conversations,
                    {"id": chat_ids, "active_root_id": message_ids},
                ),
            )
            insert_rows(connection, "conversations", conversation_columns, chats)
            recovered_chat = RecoveredChat(session)
            columns, placed = placed_messages(
                message_columns,
                complete_rows(
                    connection,
                    "messages",
                    message_columns,
                    mapped_rows(
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
                ids_in(chats, [n for n, c in enumerate(conversation_columns) if c == "id"]),
                recovered_chat,
            )
            insert_rows(connection, "messages", columns, placed)
            # A reply still being written when the file broke was cut short there.
            connection.exec_driver_sql(
                "UPDATE messages SET status = ? WHERE status = ? AND id > ?",
                (MessageStatus.INTERRUPTED.value, MessageStatus.STREAMING.value, message_offset),
            )
            for table, (columns, rows) in found.per_message.items():
                insert_rows(
                    connection,
                    table,
                    columns,
                    mapped_rows(columns, rows, {"message_id": message_ids}),
                )
                connection.exec_driver_sql(
                    f"DELETE FROM {table} WHERE message_id > ? "
                    "AND message_id NOT IN (SELECT id FROM messages)",
                    (message_offset,),
                )
            gather_strays(connection, recovered_chat, message_offset)
            repair_links(connection, message_offset)
            other_rows = sum(
                self._insert_plain(connection, table, *found.others[table])
                for table in _OTHER_TABLES
            )
            texts_only = count_texts_only(connection, message_offset)
            recovered_messages = count_rows(connection, "messages", message_offset) - texts_only
            recovered_chats = count_rows(connection, "conversations", None) - chats_before
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
        before = count_rows(connection, table, None)
        insert_rows(connection, table, columns, [row[1:] for row in rows])
        return count_rows(connection, table, None) - before
