"""Chosen versions of edited/regenerated messages, pinned chats, per-chat system prompts,
and named presets.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Plain integer columns, no foreign keys: a pointer to a vanished row simply falls back
    # to the newest version, and SQLite's ALTER TABLE ADD COLUMN needs no table rebuild.
    op.add_column("messages", sa.Column("active_child_id", sa.Integer(), nullable=True))
    op.add_column("conversations", sa.Column("active_root_id", sa.Integer(), nullable=True))
    op.add_column(
        "conversations",
        sa.Column("pinned", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("conversations", sa.Column("system_prompt", sa.Text(), nullable=True))
    op.create_table(
        "presets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("system_prompt", sa.Text(), nullable=False),
        sa.Column("sampling_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_presets"),
        sa.UniqueConstraint("name", name="uq_presets_name"),
    )


def downgrade() -> None:
    op.drop_table("presets")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("system_prompt")
        batch.drop_column("pinned")
        batch.drop_column("active_root_id")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("active_child_id")
