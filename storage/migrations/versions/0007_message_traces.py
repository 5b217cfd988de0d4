"""Where each reply's time went: a trace per reply, in a table of its own (issue 12).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # A new table only: no existing row changes, and replies from before have no trace
    # (their timing view says "no timing recorded").
    op.create_table(
        "message_traces",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("phases_json", sa.Text(), nullable=False),
        sa.Column("token_ms", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name="pk_message_traces"),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_message_traces_message_id_messages",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("message_traces")
