"""History of translations made on the Translate page.

Revision ID: 0003
Revises: 0002
Create Date: 2025-02-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("translation", sa.Text(), nullable=False),
        sa.Column("source_lang", sa.String(16), nullable=True),
        sa.Column("target_lang", sa.String(16), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_translations"),
    )
    op.create_index("ix_translations_created_at", "translations", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_translations_created_at", "translations")
    op.drop_table("translations")
