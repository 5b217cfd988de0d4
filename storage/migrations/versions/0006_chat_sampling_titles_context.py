"""Per-chat sampling settings, where a chat's title came from, and which messages a reply
was generated without (the context-overflow markers).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs: SQLite needs no table rebuild, so no batch copy (and no cascading
    # DROP of messages) on upgrade.
    op.add_column("conversations", sa.Column("sampling_json", sa.Text(), nullable=True))
    op.add_column(
        "conversations",
        sa.Column("title_source", sa.String(16), nullable=False, server_default="auto"),
    )
    op.add_column("messages", sa.Column("context_json", sa.Text(), nullable=True))
    _mark_typed_titles()


# Hearth up to 0005 titled a chat with the first words of its first message and kept no
# record of renames. Any other title was typed by the user, and automatic titles (which a
# young chat may still get) must never replace it. The rule as 0005 applied it, frozen here.
_DEFAULT_TITLE, _TITLE_LIMIT = "New chat", 48


def _first_words(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _TITLE_LIMIT else line[: _TITLE_LIMIT - 1].rstrip() + "…"


def _mark_typed_titles() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            """SELECT c.id, c.title,
                      (SELECT m.content FROM messages AS m
                       WHERE m.conversation_id = c.id AND m.parent_id IS NULL
                             AND m.role = 'user'
                       ORDER BY m.id LIMIT 1)
               FROM conversations AS c"""
        )
    ).all()
    typed = [
        conversation_id
        for conversation_id, title, first in rows
        if title != _DEFAULT_TITLE
        and not (isinstance(first, str) and isinstance(title, str) and title == _first_words(first))
    ]
    for start in range(0, len(typed), 500):  # SQLite limits the parameters of one statement
        connection.execute(
            sa.text("UPDATE conversations SET title_source = 'user' WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": typed[start : start + 500]},
        )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("context_json")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("title_source")
        batch.drop_column("sampling_json")
