from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "hearth.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database, note = Database.open(db_path)
    assert note is None
    yield database
    database.close()


@pytest.fixture
def conversations(db: Database) -> ConversationRepository:
    return ConversationRepository(db)


@pytest.fixture
def messages(db: Database) -> MessageRepository:
    return MessageRepository(db)
