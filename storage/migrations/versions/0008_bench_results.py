"""`hearth bench` results: one row per configuration of a run.

Revision ID: 0008
Revises: 0007 (message traces, from the i12-store branch)
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # No index: a machine keeps a few hundred results at most, read whole by the
    # Performance page, and every empty index is one more page in every database file.
    op.create_table(
        "bench_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("model_path", sa.Text(), nullable=False),
        sa.Column("quantization", sa.Text(), nullable=True),
        sa.Column("backend", sa.Text(), nullable=False),
        sa.Column("llama_cpp_version", sa.Text(), nullable=False),
        sa.Column("n_prompt", sa.Integer(), nullable=False),
        sa.Column("n_gen", sa.Integer(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("n_gpu_layers", sa.Integer(), nullable=False),
        sa.Column("n_gpu_layers_actual", sa.Integer(), nullable=True),
        sa.Column("threads", sa.Integer(), nullable=True),
        sa.Column("n_batch", sa.Integer(), nullable=False),
        sa.Column("flash_attn", sa.Boolean(), nullable=False),
        sa.Column("type_k", sa.String(16), nullable=False),
        sa.Column("type_v", sa.String(16), nullable=False),
        sa.Column("repetitions", sa.Integer(), nullable=False),
        sa.Column("pp_tps", sa.Float(), nullable=True),
        sa.Column("pp_tps_sd", sa.Float(), nullable=True),
        sa.Column("tg_tps", sa.Float(), nullable=True),
        sa.Column("tg_tps_sd", sa.Float(), nullable=True),
        sa.Column("llama_pp_tps", sa.Float(), nullable=True),
        sa.Column("llama_tg_tps", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bench_results")),
    )


def downgrade() -> None:
    op.drop_table("bench_results")
