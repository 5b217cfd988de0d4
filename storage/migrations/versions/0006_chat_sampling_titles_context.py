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
    # Existing titles count as automatic: they only matter for a chat's first exchange,
    # which every existing chat with messages is already past.
    op.add_column(
        "conversations",
        sa.Column("title_source", sa.String(16), nullable=False, server_default="auto"),
    )
    op.add_column("messages", sa.Column("context_json", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("context_json")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("title_source")
        batch.drop_column("sampling_json")
