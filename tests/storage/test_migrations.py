from __future__ import annotations

import shutil
import sqlite3
import textwrap
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from storage import migrate
from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.errors import DatabaseError
from storage.fts_text import INDEX_FUNCTION, index_text
from storage.performance import PerformanceRepository
from storage.presets import PresetRepository
from storage.records import MessageStatus, Role, TitleSource, TraceRecord
from storage.search import SearchRepository
from storage.traces import TraceRepository

TABLES = {"alembic_version", "conversations", "messages", "generation_stats", "message_traces"}


def _backups(db_path: Path) -> list[Path]:
    return sorted(db_path.parent.glob(f"{db_path.name}.backup-*"))


def test_empty_database_reaches_head_without_backup(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # migrations must not depend on the working directory
    db, _ = Database.open(db_path)
    db.close()
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
        assert migrate.current_revision(engine) == migrate.head_revision()
        with engine.connect() as connection:
            diff = migrate.schema_drift(connection)
        assert diff == [], "models.py and the migrations disagree"
    finally:
        engine.dispose()
    assert _backups(db_path) == []


def test_reopening_at_head_makes_no_backup(db_path: Path) -> None:
    for _ in range(2):
        Database.open(db_path)[0].close()
    assert _backups(db_path) == []


def test_database_with_data_at_base_is_backed_up_first(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    raw = sqlite3.connect(db_path)
    raw.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
    raw.execute("CREATE TABLE notes (body TEXT)")
    raw.execute("INSERT INTO notes VALUES ('precious')")
    raw.commit()
    raw.close()

    Database.open(db_path)[0].close()

    [backup] = _backups(db_path)
    assert backup.name.startswith("hearth.db.backup-base-")
    copy = sqlite3.connect(backup)
    try:
        assert copy.execute("SELECT body FROM notes").fetchall() == [("precious",)]
        assert copy.execute("SELECT count(*) FROM alembic_version").fetchone() == (0,)
    finally:
        copy.close()


REVISION_NEXT = '''
"""Archived conversations (test only).

Revision ID: 9999
Revises: {head}
"""
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # recreate="always" copies the table and DROPs the old one: with foreign keys on, that
    # DROP would cascade-delete every message.
    with op.batch_alter_table("conversations", recreate="always") as batch:
        batch.add_column(
            sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("archived")
'''


@pytest.fixture
def migrations_with_next(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    # On top of whatever the real head is, so new real revisions never collide with it.
    text = textwrap.dedent(REVISION_NEXT).replace("{head}", str(migrate.head_revision()))
    (copy / "versions" / "9999_archived.py").write_text(text)
    return copy


def test_old_database_is_backed_up_then_upgraded_keeping_data(
    db_path: Path, migrations_with_next: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = Database.open(db_path)
    old_head = migrate.head_revision()
    chat = ConversationRepository(db).create("old chat")
    messages = MessageRepository(db)
    question = messages.add(chat.id, Role.USER, "still here?")
    messages.add(chat.id, Role.ASSISTANT, "yes", parent_id=question.id)
    db.close()

    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", migrations_with_next)
    db, _ = Database.open(db_path)
    try:
        assert [m.content for m in MessageRepository(db).active_path(chat.id)] == [
            "still here?",
            "yes",
        ]
        assert ConversationRepository(db).get(chat.id) is not None
    finally:
        db.close()

    engine = create_engine(f"sqlite:///{db_path}")
    try:
        assert migrate.current_revision(engine) == "9999"
        columns = {c["name"] for c in inspect(engine).get_columns("conversations")}
        assert "archived" in columns
    finally:
        engine.dispose()

    [backup] = _backups(db_path)
    assert backup.name.startswith(f"hearth.db.backup-{old_head}-")
    copy = sqlite3.connect(backup)
    try:
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == (old_head,)
        assert copy.execute("SELECT count(*) FROM messages").fetchone() == (2,)
    finally:
        copy.close()


def test_database_from_newer_version_is_refused_untouched(db_path: Path) -> None:
    Database.open(db_path)[0].close()
    raw = sqlite3.connect(db_path)
    raw.execute("UPDATE alembic_version SET version_num = '0099'")
    raw.commit()
    raw.close()

    with pytest.raises(DatabaseError, match="newer version of Hearth"):
        Database.open(db_path)
    assert _backups(db_path) == []


def _database_at(db_path: Path, revision: str) -> None:
    """An empty database migrated only up to `revision`, as an older Hearth left it."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with engine.begin() as connection:
            command.upgrade(migrate.alembic_config(connection), revision)
    finally:
        engine.dispose()


def test_a_0005_database_gains_chat_sampling_titles_and_context_keeping_data(
    db_path: Path,
) -> None:
    """A database exactly as Hearth at revision 0005 left it: chats it titled itself, one the
    user renamed, an empty one; a regenerated reply with its stats and the version the user
    chose; a pinned chat with its system prompt; a preset."""
    _database_at(db_path, "0005")
    raw = sqlite3.connect(db_path)
    raw.create_function(INDEX_FUNCTION, 1, index_text)  # the search triggers call it
    raw.executescript(
        """
        INSERT INTO conversations (id, title, created_at, updated_at, pinned, system_prompt,
                                   active_root_id)
            VALUES (1, 'Typed long ago', '2026-01-01 10:00:00', '2026-01-01 10:05:00',
                    1, 'Be brief.', NULL),
                   (2, 'How do I bake bread without yeast at home in a…',
                    '2026-01-02 09:00:00', '2026-01-02 09:10:00', 0, NULL, NULL),
                   (3, 'New chat', '2026-01-03 08:00:00', '2026-01-03 08:00:00', 0, NULL,
                    NULL);
        INSERT INTO messages (id, conversation_id, parent_id, role, content, status,
                              created_at, updated_at, active_child_id, error)
            VALUES (1, 1, NULL, 'user', 'still here?', 'complete',
                    '2026-01-01 10:00:00', '2026-01-01 10:00:00', NULL, NULL),
                   (2, 1, 1, 'assistant', 'yes', 'complete',
                    '2026-01-01 10:00:01', '2026-01-01 10:00:01', NULL, NULL),
                   (3, 2, NULL, 'user',
                    'How do I bake  bread without yeast at home in a small kitchen?',
                    'complete', '2026-01-02 09:00:00', '2026-01-02 09:00:00', 4, NULL),
                   (4, 2, 3, 'assistant', 'Use a sourdough starter.', 'complete',
                    '2026-01-02 09:00:05', '2026-01-02 09:00:05', NULL, NULL),
                   (5, 2, 3, 'assistant', 'Flatbread needs none', 'interrupted',
                    '2026-01-02 09:01:00', '2026-01-02 09:01:00', NULL, 'Stopped by you');
        INSERT INTO generation_stats (message_id, model, chat_format, n_ctx, n_gpu_layers,
                                      prompt_tokens, prompt_tokens_evaluated,
                                      completion_tokens, ttft_ms, prefill_tps, decode_tps,
                                      total_ms, stop_reason)
            VALUES (4, 'gemma', 'gemma', 2048, 0, 30, 30, 6, 12.5, 900.0, 40.25, 160.0,
                    'eos');
        INSERT INTO presets (id, name, system_prompt, sampling_json, created_at, updated_at)
            VALUES (1, 'Terse', 'Be terse.', '{"temperature": 0.2}',
                    '2026-01-01 10:00:00', '2026-01-01 10:00:00');
        """
    )
    raw.commit()
    raw.close()

    db, _ = Database.open(db_path)
    try:
        conversations, messages = ConversationRepository(db), MessageRepository(db)
        chat = conversations.get(1)
        assert chat is not None
        assert (chat.title, chat.pinned, chat.system_prompt, chat.sampling) == (
            "Typed long ago",
            True,
            "Be brief.",
            {},
        )
        # 0005 kept no record of renames: a title other than the first words was typed, and
        # an automatic title must never replace it. Its own first words and the
        # placeholder may still be replaced.
        assert chat.title_source is TitleSource.USER
        assert conversations.get(2).title_source is TitleSource.AUTO  # type: ignore[union-attr]
        assert conversations.get(3).title_source is TitleSource.AUTO  # type: ignore[union-attr]
        assert [m.content for m in messages.active_path(1)] == ["still here?", "yes"]
        # The version the user chose is still the one shown, with its stats.
        bread = messages.active_path(2)
        assert [m.id for m in bread] == [3, 4]
        assert (bread[1].version, bread[1].version_count) == (1, 2)
        assert bread[1].stats is not None and bread[1].stats.decode_tps == 40.25
        other = messages.get(5)
        assert other is not None and other.error == "Stopped by you"
        assert [h.message_id for h in SearchRepository(db).search("sourdough")] == [4]
        assert messages.outside_view(1, [1, 2]) == frozenset()
        assert [p.name for p in PresetRepository(db).list()] == ["Terse"]
        # The new columns take values at once.
        conversations.set_sampling(1, {"temperature": 0.3})
        messages.set_outside_view(2, [1])
        assert conversations.get(1).sampling == {"temperature": 0.3}  # type: ignore[union-attr]
        assert messages.outside_view(1, [1, 2]) == {1}
    finally:
        db.close()
    [backup] = _backups(db_path)
    assert backup.name.startswith("hearth.db.backup-0005-")


def test_0006_downgrades_to_0005_keeping_chats(db: Database, db_path: Path) -> None:
    chat = ConversationRepository(db).create("kept")
    MessageRepository(db).add(chat.id, Role.USER, "hello")
    db.close()
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with engine.begin() as connection:
            command.downgrade(migrate.alembic_config(connection), "0005")
        assert migrate.current_revision(engine) == "0005"
        assert "sampling_json" not in {
            c["name"] for c in inspect(engine).get_columns("conversations")
        }
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM messages").scalar() == 1
    finally:
        engine.dispose()


def test_a_0006_database_gains_traces_and_its_replies_still_open(db_path: Path) -> None:
    """A database as Hearth at revision 0006 left it: a reply with stats (no trace: there was
    none then), one cut short, a chat in the trash."""
    _database_at(db_path, "0006")
    raw = sqlite3.connect(db_path)
    raw.create_function(INDEX_FUNCTION, 1, index_text)  # the search triggers call it
    raw.executescript(
        """
        INSERT INTO conversations (id, title, created_at, updated_at, pinned, title_source,
                                   deleted_at)
            VALUES (1, 'Kept', '2026-12-01 10:00:00', '2026-12-01 10:05:00', 0, 'user', NULL),
                   (2, 'Binned', '2026-12-02 10:00:00', '2026-12-02 10:00:00', 0, 'auto',
                    '2026-12-03 10:00:00');
        INSERT INTO messages (id, conversation_id, parent_id, role, content, status,
                              created_at, updated_at, context_json)
            VALUES (1, 1, NULL, 'user', 'how fast?', 'complete',
                    '2026-12-01 10:00:00', '2026-12-01 10:00:00', NULL),
                   (2, 1, 1, 'assistant', 'quite', 'complete',
                    '2026-12-01 10:00:01', '2026-12-01 10:00:02', '{"outside_view": []}'),
                   (3, 1, 1, 'assistant', 'qu', 'interrupted',
                    '2026-12-01 10:01:00', '2026-12-01 10:01:00', NULL),
                   (4, 2, NULL, 'user', 'gone', 'complete',
                    '2026-12-02 10:00:00', '2026-12-02 10:00:00', NULL);
        INSERT INTO generation_stats (message_id, model, chat_format, n_ctx, n_gpu_layers,
                                      prompt_tokens, prompt_tokens_evaluated,
                                      completion_tokens, ttft_ms, prefill_tps, decode_tps,
                                      total_ms, stop_reason)
            VALUES (2, 'gemma', 'gemma', 2048, 0, 30, 30, 6, 12.5, 900.0, 40.25, 160.0,
                    'eos');
        """
    )
    raw.commit()
    raw.close()

    db, _ = Database.open(db_path)
    try:
        messages, traces = MessageRepository(db), TraceRepository(db)
        assert [m.content for m in messages.active_path(1)] == ["how fast?", "qu"]
        answer = messages.get(2)
        assert answer is not None and answer.stats is not None
        assert answer.stats.decode_tps == 40.25
        # No timing recorded for replies from before traces.
        assert traces.get(2) is None and traces.get(3) is None
        [row] = PerformanceRepository(db).replies(phase_keys=["prefill_ms"])
        assert (row.message_id, row.title, row.phases) == (2, "Kept", {})
        # The new table takes traces at once, and purging the binned chat still works.
        traces.save(2, TraceRecord({"prefill_ms": 3.5}, (1.0, 2.0)))
        assert traces.get(2) == TraceRecord({"prefill_ms": 3.5}, (1.0, 2.0))
        assert ConversationRepository(db).purge_deleted() == 1
    finally:
        db.close()
    [backup] = _backups(db_path)
    assert backup.name.startswith("hearth.db.backup-0006-")


def test_0007_downgrades_to_0006_keeping_chats(db: Database, db_path: Path) -> None:
    chat = ConversationRepository(db).create("kept")
    messages = MessageRepository(db)
    question = messages.add(chat.id, Role.USER, "hello")
    reply = messages.start_reply(chat.id, question.id)
    messages.finish_reply(
        reply.id, "hi", MessageStatus.COMPLETE, trace=TraceRecord({"decode_ms": 1.0}, (1.0,))
    )
    db.close()
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with engine.begin() as connection:
            command.downgrade(migrate.alembic_config(connection), "0006")
        assert migrate.current_revision(engine) == "0006"
        assert "message_traces" not in inspect(engine).get_table_names()
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM messages").scalar() == 2
    finally:
        engine.dispose()
