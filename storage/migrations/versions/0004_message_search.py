"""Full-text search over messages (FTS5), kept by triggers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

from storage.fts_text import INDEX_FUNCTION, index_text

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

# remove_diacritics 2 also folds letters with several marks (Vietnamese, for one).
_TABLE = (
    "CREATE VIRTUAL TABLE message_index USING fts5("
    "content, tokenize = 'unicode61 remove_diacritics 2')"
)
_TRIGGERS = (
    f"""CREATE TRIGGER messages_index_insert AFTER INSERT ON messages BEGIN
        INSERT INTO message_index(rowid, content) VALUES (new.id, {INDEX_FUNCTION}(new.content));
    END""",
    f"""CREATE TRIGGER messages_index_update AFTER UPDATE OF content ON messages BEGIN
        DELETE FROM message_index WHERE rowid = old.id;
        INSERT INTO message_index(rowid, content) VALUES (new.id, {INDEX_FUNCTION}(new.content));
    END""",
    """CREATE TRIGGER messages_index_delete AFTER DELETE ON messages BEGIN
        DELETE FROM message_index WHERE rowid = old.id;
    END""",
)


def upgrade() -> None:
    connection = op.get_bind()
    driver = connection.connection.driver_connection
    # Also registered by storage.database on every connection; here for connections that
    # did not come from there (tests, tools upgrading a copy).
    driver.create_function(INDEX_FUNCTION, 1, index_text, deterministic=True)  # type: ignore[union-attr]
    op.execute(_TABLE)
    for trigger in _TRIGGERS:
        op.execute(trigger)
    op.execute(
        f"INSERT INTO message_index(rowid, content) "
        f"SELECT id, {INDEX_FUNCTION}(content) FROM messages"
    )


def downgrade() -> None:
    for name in ("messages_index_delete", "messages_index_update", "messages_index_insert"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS message_index")
