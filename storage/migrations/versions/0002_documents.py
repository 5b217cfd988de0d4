"""Documents, their partial (chunk) summaries and their final summaries.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("words", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
        sa.UniqueConstraint("content_hash", name="uq_documents_content_hash"),
    )
    op.create_table(
        "chunk_summaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doc_hash", sa.String(64), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("options_key", sa.Text(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sources_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_chunk_summaries"),
    )
    op.create_index(
        "ix_chunk_summaries_doc_hash_model_options_key_level_index",
        "chunk_summaries",
        ["doc_hash", "model", "options_key", "level", "index"],
        unique=True,
    )
    op.create_table(
        "document_summaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doc_hash", sa.String(64), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("options_key", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("citations_json", sa.Text(), nullable=False),
        sa.Column("timing_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_document_summaries"),
    )
    op.create_index(
        "ix_document_summaries_doc_hash_model_options_key",
        "document_summaries",
        ["doc_hash", "model", "options_key"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_document_summaries_doc_hash_model_options_key", "document_summaries")
    op.drop_table("document_summaries")
    op.drop_index("ix_chunk_summaries_doc_hash_model_options_key_level_index", "chunk_summaries")
    op.drop_table("chunk_summaries")
    op.drop_table("documents")
