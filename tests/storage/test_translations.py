from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, inspect

from storage import migrate
from storage.database import Database
from storage.translations import TranslationRepository


def _add(repo: TranslationRepository, source: str, translation: str) -> int:
    record = repo.add(
        source_text=source,
        translation=translation,
        source_lang="en",
        target_lang="fr",
        model="tiny",
    )
    return record.id


def test_added_translation_comes_back_whole(db: Database) -> None:
    repo = TranslationRepository(db)
    added = repo.add(
        source_text="Good morning",
        translation="Bonjour",
        source_lang=None,
        target_lang="fr",
        model="gemma",
    )
    got = repo.get(added.id)
    assert got == added
    assert got.source_lang is None and got.target_lang == "fr" and got.model == "gemma"
    assert got.created_at.tzinfo is not None
    assert repo.get(added.id + 1) is None


def test_search_is_newest_first_and_matches_either_side(db: Database) -> None:
    repo = TranslationRepository(db)
    first = _add(repo, "The cat sleeps", "Le chat dort")
    second = _add(repo, "A dog barks", "Un chien aboie")
    third = _add(repo, "Cats and dogs", "Chats et chiens")
    assert [r.id for r in repo.search()] == [third, second, first]
    assert [r.id for r in repo.search("cat")] == [third, first]  # LIKE ignores ASCII case
    assert [r.id for r in repo.search("chien")] == [third, second]
    assert repo.search("giraffe") == []
    repo.delete(second)
    assert [r.id for r in repo.search("chien")] == [third]


def test_search_treats_wildcards_as_plain_characters(db: Database) -> None:
    repo = TranslationRepository(db)
    percent = _add(repo, "100% sure", "sûr à 100%")
    _add(repo, "1000 sure", "sûr à 1000")
    underscore = _add(repo, "snake_case", "snake_case")
    _add(repo, "snakeXcase", "snakeXcase")
    assert [r.id for r in repo.search("0%")] == [percent]
    assert [r.id for r in repo.search("e_c")] == [underscore]


def test_deleted_entries_come_back_whole_and_clear_empties_the_history(db: Database) -> None:
    repo = TranslationRepository(db)
    first = _add(repo, "The cat sleeps", "Le chat dort")
    second = _add(repo, "A dog barks", "Un chien aboie")
    third = _add(repo, "Cats and dogs", "Chats et chiens")
    before = {r.id: r for r in repo.search()}
    deleted = repo.delete_many([first, third, 999])
    assert sorted(r.id for r in deleted) == [first, third]
    assert [r.id for r in repo.search()] == [second] and repo.count() == 1
    repo.restore(deleted)
    assert {r.id: r for r in repo.search()} == before

    # SQLite hands the newest deleted id to the next entry: undo keeps both.
    [gone] = repo.delete_many([third])
    newer = _add(repo, "A bird sings", "Un oiseau chante")
    assert newer == third
    repo.restore([gone])
    texts = sorted(r.source_text for r in repo.search())
    assert texts == ["A bird sings", "A dog barks", "Cats and dogs", "The cat sleeps"]

    assert repo.clear() == 4
    assert repo.search() == [] and repo.count() == 0


def test_database_at_0002_is_upgraded_keeping_its_data(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    engine = create_engine(f"sqlite:///{db_path}")
    with engine.begin() as connection:
        command.upgrade(migrate.alembic_config(connection), "0002")
        connection.exec_driver_sql(
            "INSERT INTO conversations (id, title, created_at, updated_at) "
            "VALUES (1, 'old chat', '2025-01-01 10:00:00', '2025-01-01 10:00:00')"
        )
        connection.exec_driver_sql(
            "INSERT INTO documents (content_hash, path, title, type, words, created_at, "
            "updated_at) VALUES ('abc', '/a.txt', 'A', 'txt', 3, '2025-01-01 10:00:00', "
            "'2025-01-01 10:00:00')"
        )
    assert migrate.current_revision(engine) == "0002"
    assert "translations" not in inspect(engine).get_table_names()
    engine.dispose()

    db, _ = Database.open(db_path)
    try:
        repo = TranslationRepository(db)
        _add(repo, "kept?", "gardé ?")
        assert [r.source_text for r in repo.search()] == ["kept?"]
    finally:
        db.close()
    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchone() == (
            migrate.head_revision(),
        )
        assert raw.execute("SELECT title FROM conversations").fetchall() == [("old chat",)]
        assert raw.execute("SELECT path FROM documents").fetchall() == [("/a.txt",)]
    finally:
        raw.close()
    assert [p.name.split("-")[1] for p in db_path.parent.glob("hearth.db.backup-*")] == ["0002"]
