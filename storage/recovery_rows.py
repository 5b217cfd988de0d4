"""The row-level steps of bringing a damaged file's chats back (storage.recovery runs them
in its one write transaction): recovered ids mapped past the live ones, rows that cannot go in
left out, each message placed in a chat that exists after a parent that exists, the
"Recovered messages" chat for the rest, and every link to a lost row mended.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from storage.damaged_file import Row
from storage.models import Conversation, utc_now
from storage.records import MessageStatus, TitleSource
from storage.recovery_report import RECOVERED_CHAT_TITLE

# Not a role this version writes: such messages load as damaged and are never sent to a model.
UNKNOWN_ROLE = "unknown"
INDEX_ONLY_NOTE = (
    "Only its text was recovered (from the search index); its chat and its author were lost."
)

IdMap = Callable[[object], object]


def offset_ids(offset: int) -> IdMap:
    return lambda value: value + offset if isinstance(value, int) else value


def conversation_ids(connection: Connection, wanted: set[int]) -> IdMap:
    """Recovered chats keep their ids, but for those the live database already uses (the
    empty chat the app opened meanwhile): those move past every id in use."""
    taken = {int(row[0]) for row in connection.exec_driver_sql("SELECT id FROM conversations")}
    free = max(taken | wanted | {0}) + 1
    moved: dict[object, object] = {}
    for clash in sorted(wanted & taken):
        moved[clash], free = free, free + 1
    return lambda value: moved.get(value, value)


class RecoveredChat:
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


def placed_messages(
    columns: list[str],
    rows: list[Row],
    texts: list[tuple[int, str]],
    chats: set[int],
    recovered_chat: RecoveredChat,
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


def complete_rows(
    connection: Connection, table: str, columns: list[str], rows: list[Row]
) -> list[Row]:
    """The rows that give every NOT NULL column without a default a value (the others
    would be refused anyway), so links to them are only made to rows that go in."""
    info = connection.exec_driver_sql(f'PRAGMA table_info("{table}")').fetchall()
    required = {str(c[1]) for c in info if c[3] and c[4] is None and not c[5]}
    needed = [n for n, column in enumerate(columns) if column in required]
    return [row for row in rows if all(row[n] is not None for n in needed)]


def gather_strays(
    connection: Connection, recovered_chat: RecoveredChat, message_offset: int
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


def count_texts_only(connection: Connection, message_offset: int) -> int:
    return int(
        connection.exec_driver_sql(
            "SELECT count(*) FROM messages WHERE id > ? AND error = ? AND role = ?",
            (message_offset, INDEX_ONLY_NOTE, UNKNOWN_ROLE),
        ).scalar()
    )


def max_id(connection: Connection, table: str) -> int:
    return int(connection.exec_driver_sql(f'SELECT coalesce(max(id), 0) FROM "{table}"').scalar())


def count_rows(connection: Connection, table: str, above_id: int | None) -> int:
    if above_id is None:
        return int(connection.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar())
    return int(
        connection.exec_driver_sql(
            f'SELECT count(*) FROM "{table}" WHERE id > ?', (above_id,)
        ).scalar()
    )


def _same(value: object) -> object:
    return value


def mapped_rows(columns: list[str], rows: list[Row], maps: dict[str, IdMap]) -> list[Row]:
    """The rows without their rowid, with the id columns in `maps` mapped to their new ids."""
    each = [maps.get(column, _same) for column in columns]
    return [tuple(f(v) for f, v in zip(each, row[1:], strict=True)) for row in rows]


def column_at(columns: list[str], column: str) -> list[int]:
    """Where `column` is in rows read as (rowid, *columns); [] if it is not there."""
    return [columns.index(column) + 1] if column in columns else []


def ids_in(rows: list[Row], positions: list[int]) -> set[int]:
    return {row[i] for row in rows for i in positions if isinstance(row[i], int)}  # type: ignore[misc]


def insert_rows(connection: Connection, table: str, columns: list[str], rows: list[Row]) -> None:
    if not rows or not columns:
        return
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    # OR IGNORE: a row that breaks a NOT NULL or UNIQUE rule (damage, or a clash with a
    # live row) is left out, never the whole recovery.
    connection.exec_driver_sql(f'INSERT OR IGNORE INTO "{table}" ({names}) VALUES ({marks})', rows)


def repair_links(connection: Connection, message_offset: int) -> None:
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
