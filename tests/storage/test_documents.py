from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, inspect

from storage import migrate
from storage.database import Database
from storage.documents import DocumentRepository, SummaryKey


def _database_at_0001(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            command.upgrade(migrate.alembic_config(connection), "0001")
            connection.exec_driver_sql(
                "INSERT INTO conversations (id, title, created_at, updated_at) "
                "VALUES (1, 'kept', '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
            )
    finally:
        engine.dispose()


def test_0001_database_upgrades_to_documents_keeping_chats(db_path: Path) -> None:
    _database_at_0001(db_path)
    db, _ = Database.open(db_path)
    db.close()
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
        tables = set(inspect(engine).get_table_names())
        assert {"documents", "chunk_summaries", "document_summaries"} <= tables
        with engine.connect() as connection:
            diff = migrate.schema_drift(connection)
            assert diff == [], "models.py and the migrations disagree"
            titles = connection.exec_driver_sql("SELECT title FROM conversations").fetchall()
            assert titles == [("kept",)]
    finally:
        engine.dispose()
    # A backup of the 0001 file was made before migrating.
    [backup] = sorted(db_path.parent.glob(f"{db_path.name}.backup-0001-*"))
    copy = sqlite3.connect(backup)
    try:
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    finally:
        copy.close()


def test_document_round_trip(db: Database) -> None:
    documents = DocumentRepository(db)
    first = documents.upsert(
        content_hash="a" * 64,
        path="/old/report.pdf",
        title="Report",
        type="pdf",
        pages=3,
        words=900,
    )
    moved = documents.upsert(
        content_hash="a" * 64,
        path="/new/report.pdf",
        title="Report",
        type="pdf",
        pages=3,
        words=900,
        tokens=1200,
    )
    assert moved.id == first.id and moved.path == "/new/report.pdf" and moved.tokens == 1200
    assert documents.get_by_hash("a" * 64) == moved
    assert documents.get_by_hash("b" * 64) is None
    assert [d.id for d in documents.list_recent()] == [first.id]


def test_partial_and_final_summaries_are_keyed(db: Database) -> None:
    documents = DocumentRepository(db)
    key = SummaryKey("a" * 64, "tiny Q8_0", '{"length":"short"}')
    other = SummaryKey("a" * 64, "tiny Q8_0", '{"length":"long"}')
    documents.put_partial(key, 0, 0, "first", '{"chunks":[0]}')
    documents.put_partial(key, 0, 1, "second", '{"chunks":[1]}')
    documents.put_partial(key, 1, 0, "both", '{"chunks":[0,1]}')
    documents.put_partial(key, 0, 1, "second, again", '{"chunks":[1]}')  # replaces
    stored = documents.get_partial(key, 0, 1)
    assert stored is not None and stored.text == "second, again"
    assert documents.get_partial(other, 0, 1) is None
    assert [(p.level, p.index, p.text) for p in documents.list_partials(key)] == [
        (0, 0, "first"),
        (0, 1, "second, again"),
        (1, 0, "both"),
    ]
    assert documents.get_final(key) is None
    documents.put_final(key, "summary", "[]", '{"chunks": 2}')
    final = documents.get_final(key)
    assert final is not None and final.text == "summary" and final.key == key
    assert [f.key for f in documents.finals_for("a" * 64)] == [key]

    documents.delete("a" * 64)
    assert documents.list_partials(key) == [] and documents.get_final(key) is None


def test_removing_a_document_can_keep_its_summaries(db: Database) -> None:
    documents = DocumentRepository(db)
    for content_hash in ("b" * 64, "c" * 64):
        documents.upsert(
            content_hash=content_hash,
            path=f"/d/{content_hash[0]}.md",
            title="T",
            type="markdown",
            pages=None,
            words=3,
        )
    kept = SummaryKey("b" * 64, "tiny Q8_0", "{}")
    documents.put_partial(kept, 0, 0, "part", '{"chunks":[0]}')
    documents.put_final(kept, "summary", "[]", "{}")

    documents.delete("b" * 64, summaries=False)
    assert documents.get_by_hash("b" * 64) is None
    assert [d.content_hash for d in documents.list_recent()] == ["c" * 64]
    assert documents.get_final(kept) is not None and len(documents.list_partials(kept)) == 1

    documents.delete("b" * 64)
    assert documents.get_final(kept) is None and documents.list_partials(kept) == []
