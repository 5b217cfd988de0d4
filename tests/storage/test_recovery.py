"""A damaged chat history is set aside and what can be read of it comes back: a real
400-message history written by the repositories, damaged on disk, opened and recovered as
the app does at start-up (app.chat.recovery)."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.records import MessageStatus, Role
from storage.recovery import recover
from storage.recovery_report import RECOVERED_CHAT_TITLE, RecoveryReport
from storage.recovery_rows import INDEX_ONLY_NOTE
from storage.sqlite_btree import TABLE_INTERIOR, BTreePages
from storage.traces import TraceRepository
from tests.support.damaged_database import (
    CHATS,
    MESSAGES,
    TRACE,
    History,
    copy_file,
    cut_in_half,
    message_text,
    overwrite_header,
    page_count,
    page_size,
    write_history,
    zero_pages,
)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, History]:
    """One history for the module (writing 400 messages takes seconds); tests damage copies."""
    path = tmp_path_factory.mktemp("history") / "hearth.db"
    return path, write_history(path)


def _zero_middle(path: Path) -> None:
    zero_pages(path, page_count(path) // 2 - 3, 6)


def _open_and_recover(db_path: Path) -> tuple[Database, RecoveryReport]:
    """Open a damaged file (set aside, nothing recovered yet) and recover it."""
    db, note = Database.open(db_path)
    assert note is not None and note.report is None
    assert note.moved_to.name.startswith("hearth.db.corrupt-") and note.moved_to.exists()
    return db, recover(note.moved_to, db)


def _open_damaged(
    written: tuple[Path, History], db_path: Path, damage: Callable[[Path], None]
) -> tuple[History, Database, RecoveryReport]:
    source, history = written
    copy_file(source, db_path)
    damage(db_path)
    db, report = _open_and_recover(db_path)
    return history, db, report


def _shown_messages(db: Database) -> dict[int, tuple[str, str, str]]:
    """Every message the chats show when opened: id -> (chat title, role, text)."""
    shown: dict[int, tuple[str, str, str]] = {}
    messages = MessageRepository(db)
    for chat in ConversationRepository(db).list_recent():
        for message in messages.active_path(chat.id):
            shown[message.id] = (chat.title, str(message.role), message.content)
    return shown


def test_overwritten_header_recovers_every_message_with_its_chat_and_id(
    written: tuple[Path, History], db_path: Path
) -> None:
    history, db, report = _open_damaged(written, db_path, overwrite_header)
    moved_to = report.damaged_file
    try:
        assert (report.messages, report.conversations, report.complete) == (MESSAGES, CHATS, True)
        assert report.describe() == (
            f"Recovered all {MESSAGES} messages in {CHATS} chats from the damaged database; "
            f"the damaged file is kept at {moved_to}."
        )
        shown = _shown_messages(db)
        assert {i: (t, text) for i, (t, _role, text) in shown.items()} == history.messages
        assert {c.title for c in ConversationRepository(db).list_recent()} == set(
            history.titles.values()
        )
        reply = MessageRepository(db).get(2)
        assert reply is not None and reply.stats is not None and reply.stats.model == "tiny"
        assert TraceRepository(db).get(2) == TRACE
    finally:
        db.close()
    # The recovered file is healthy: the next start opens it as it is.
    reopened, again = Database.open(db_path)
    reopened.close()
    assert again is None


@pytest.mark.parametrize(
    ("damage", "at_least"),
    # SQLite's own `.recover` got 188 of 400 back from a file cut in half.
    [(cut_in_half, 180), (_zero_middle, 350)],
    ids=["cut-in-half", "pages-zeroed"],
)
def test_partly_unreadable_file_recovers_what_reads_and_says_how_much(
    written: tuple[Path, History], db_path: Path, damage: Callable[[Path], None], at_least: int
) -> None:
    history, db, report = _open_damaged(written, db_path, damage)
    try:
        shown = _shown_messages(db)
        whole = {i: v for i, v in shown.items() if v[0] != RECOVERED_CHAT_TITLE}
        assert len(whole) == report.messages >= at_least
        assert len(whole) < MESSAGES and not report.complete
        # Every message shown is the one written, in its own chat, under its own id.
        for message_id, (title, _role, text) in whole.items():
            assert history.messages[message_id] == (title, text)
        # The search index names every message, so the total is known.
        assert (report.messages_in_file, report.in_file_exact) == (MESSAGES, True)
        texts_only = {i: v for i, v in shown.items() if v[0] == RECOVERED_CHAT_TITLE}
        assert len(texts_only) == report.texts_only
        for message_id, (_title, role, text) in texts_only.items():
            assert message_id not in whole and text == history.messages[message_id][1]
            stored = MessageRepository(db).get(message_id)
            assert stored is not None and stored.status is MessageStatus.DAMAGED
            assert stored.error == INDEX_ONLY_NOTE and role != Role.USER.value
        assert f"Recovered {report.messages} of {MESSAGES} messages in " in report.describe()
        # The chats go on: a new message joins the recovered ones.
        chat = next(c for c in ConversationRepository(db).list_recent() if c.title == "Chat 0")
        last = MessageRepository(db).active_path(chat.id)[-1]
        added = MessageRepository(db).add(chat.id, Role.USER, "still here?", parent_id=last.id)
        assert MessageRepository(db).active_path(chat.id)[-1] == added
    finally:
        db.close()


def test_the_count_of_messages_in_the_damaged_file_is_a_bound_when_not_known(
    tmp_path: Path,
) -> None:
    """Without the search index's list of messages the file's total is only what its
    readable parts name, and the message says so."""
    kept = tmp_path / "hearth.db.corrupt-1"
    bound = RecoveryReport(kept, 3, 180, 0, 250, False, False, 0)
    assert bound.describe() == (
        f"Recovered 180 of at least 250 messages in 3 chats from the damaged database; "
        f"the damaged file is kept at {kept}."
    )
    nothing = RecoveryReport(kept, 0, 0, 0, None, False, False, 0)
    assert nothing.describe() == (
        f"Nothing could be recovered from the damaged database; the damaged file is kept at {kept}."
    )


def test_recovery_after_the_app_wrote_keeps_both_and_every_link(
    written: tuple[Path, History], db_path: Path
) -> None:
    """Recovery runs in the background: the user may have written a chat meanwhile."""
    source, history = written
    copy_file(source, db_path)
    overwrite_header(db_path)
    db, note = Database.open(db_path)
    try:
        assert note is not None and note.report is None
        conversations, messages = ConversationRepository(db), MessageRepository(db)
        mine = conversations.create("Written meanwhile")
        question = messages.add(mine.id, Role.USER, "hello meanwhile")

        report = recover(note.moved_to, db)

        assert (report.messages, report.conversations) == (MESSAGES, CHATS)
        assert [m.content for m in messages.active_path(mine.id)] == ["hello meanwhile"]
        shown = _shown_messages(db)
        texts = sorted((t, text) for t, _role, text in shown.values() if t != mine.title)
        assert texts == sorted(history.messages.values())
        # The ids that clashed moved, with the links that use them.
        chat_zero = next(c for c in conversations.list_recent() if c.title == "Chat 0")
        assert chat_zero.id != mine.id
        path = messages.active_path(chat_zero.id)
        assert all(m.id > question.id for m in path)
        assert [m.parent_id for m in path[1:]] == [m.id for m in path[:-1]]
        # Stats and traces moved with their replies.
        replies = [m for m in path if m.role is Role.ASSISTANT]
        assert replies and all(m.stats is not None for m in replies)
        assert all(TraceRepository(db).get(m.id) == TRACE for m in replies)
    finally:
        db.close()


@pytest.mark.parametrize("seed", range(6))
def test_pages_of_random_bytes_never_hang_recovery_or_break_the_new_file(
    written: tuple[Path, History], db_path: Path, seed: int
) -> None:
    """Damage SQLite does not notice at once (pages of random bytes, not zeros): recovery
    ends, and what it wrote obeys every rule of the new database."""
    source, history = written
    copy_file(source, db_path)
    size = page_size(db_path)
    chooser = random.Random(seed)
    data = bytearray(db_path.read_bytes())
    for page in chooser.sample(range(2, page_count(db_path) + 1), 8):
        data[(page - 1) * size : page * size] = chooser.randbytes(size)
    db_path.write_bytes(bytes(data))

    db, report = _open_and_recover(db_path)
    try:
        with db.session() as session:
            assert session.execute(text("PRAGMA integrity_check")).scalars().all() == ["ok"]
            assert session.execute(text("PRAGMA foreign_key_check")).all() == []
        # Every chat opens, and shows what the file held (random bytes that land on the
        # list of tables can leave nothing readable; SQLite loads that list whole or not).
        shown = _shown_messages(db)
        assert len(shown) >= report.messages
        if report.messages:
            assert any(history.messages.get(i) == v[::2] for i, v in shown.items())
    finally:
        db.close()


def test_a_destroyed_root_page_gives_its_leaves_back(
    written: tuple[Path, History], db_path: Path
) -> None:
    """Zeroed interior pages cut every page below them off the table; those leaves are found
    by their rowids and the shape of their rows, and read again."""
    source, history = written
    copy_file(source, db_path)
    with sqlite3.connect(db_path) as connection:
        roots = dict(connection.execute("SELECT name, rootpage FROM sqlite_schema"))
    connection.close()
    for table in ("messages", "message_index_docsize"):
        zero_pages(db_path, roots[table], 1)

    db, report = _open_and_recover(db_path)
    try:
        shown = _shown_messages(db)
        assert {i: (t, text) for i, (t, _role, text) in shown.items()} == history.messages
        assert report.messages == MESSAGES
    finally:
        db.close()


def test_a_zeroed_interior_page_of_a_long_history_loses_no_message(db_path: Path) -> None:
    """In a long history the messages table has interior pages below its root; zeroing one
    cuts hundreds of leaves off, and all of them come back."""
    total, chats = 8000, 40
    db, _note = Database.open(db_path)
    stamp = "2026-01-01 00:00:00"
    with db.session() as session:  # written in bulk: the repositories would take minutes
        connection = session.connection()
        connection.exec_driver_sql(
            "INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
            [(c, f"Chat {c}", stamp, stamp) for c in range(1, chats + 1)],
        )
        connection.exec_driver_sql(
            "INSERT INTO messages (id, conversation_id, parent_id, role, content, status, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'complete', ?, ?)",
            [
                (
                    n,
                    n % chats + 1,
                    n - chats if n > chats else None,
                    "user" if (n // chats) % 2 == 0 else "assistant",
                    message_text(n),
                    stamp,
                    stamp,
                )
                for n in range(1, total + 1)
            ],
        )
    db.close()
    with sqlite3.connect(db_path) as connection:
        root = connection.execute(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'messages'"
        ).fetchone()[0]
    connection.close()
    pages = BTreePages(db_path, page_size(db_path))
    middle = pages.child_pages(root)[1]
    assert pages.kind(middle) == TABLE_INTERIOR, "the history is long enough for two levels"
    zero_pages(db_path, middle, 1)

    db, report = _open_and_recover(db_path)
    try:
        assert report.messages == total
        messages = MessageRepository(db)
        for chat in ConversationRepository(db).list_recent():
            path = messages.active_path(chat.id)
            assert [m.content for m in path] == [
                message_text(n) for n in range(chat.id - 1 or chats, total + 1, chats)
            ]
    finally:
        db.close()
