"""ORM tables. Only storage/ sees these; repositories turn rows into frozen records.

Role and status are plain strings, not SQL enums or CHECK constraints: a newer Hearth may
write values this version does not know, and such rows must still load (as DAMAGED).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Batch migrations recreate SQLite tables; constraints need stable names to be found again.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC as SQLite text and hands back timezone-aware datetimes.

    SQLite has no timezone type; naive UTC text keeps ORDER BY on the column correct.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("storage only accepts timezone-aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        # A hand-edited or damaged value ('yesterday', a number) must not make the whole
        # row, and so the conversation holding it, unreadable: it reads as UNREADABLE_TIME,
        # which record_mapping turns into a DAMAGED message.
        parse = super().result_processor(dialect, coltype)

        def process(value: object) -> datetime | None:
            try:
                return parse(value) if parse is not None else value  # type: ignore[return-value]
            except (TypeError, ValueError, OverflowError):
                return UNREADABLE_TIME

        return process


#: What a timestamp that cannot be read loads as.
UNREADABLE_TIME = datetime(1970, 1, 1, tzinfo=UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set while the conversation is in the trash; purge_deleted removes it for good.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The version of the first message the user chose (None: the newest).
    active_root_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    system_prompt: Mapped[str | None] = mapped_column(Text, nullable=True)
    # This chat's own sampling values as JSON (revision 0006); None: the model's defaults.
    sampling_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    # records.TitleSource: an automatic title may be replaced, one the user typed never is.
    title_source: Mapped[str] = mapped_column(String(16), default="auto", server_default="auto")


class Message(Base):
    __tablename__ = "messages"
    # active_path reads a whole conversation in id order.
    __table_args__ = (Index(None, "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    # Versions of an edited or regenerated message share a parent.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), nullable=True)
    role: Mapped[str] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The version of the next message the user chose to see (None: the newest).
    active_child_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # On a reply: JSON naming the messages left out of the model's view to fit the context
    # (revision 0006), so the transcript marks them again after a restart.
    context_json: Mapped[str | None] = mapped_column(Text, nullable=True)


class GenerationStats(Base):
    """One row per generated reply; columns mirror records.StatsRecord field for field."""

    __tablename__ = "generation_stats"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(Text)
    chat_format: Mapped[str] = mapped_column(Text)
    n_ctx: Mapped[int] = mapped_column(Integer)
    n_gpu_layers: Mapped[int] = mapped_column(Integer)
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    prompt_tokens_evaluated: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    ttft_ms: Mapped[float] = mapped_column(Float)
    prefill_tps: Mapped[float] = mapped_column(Float)
    decode_tps: Mapped[float] = mapped_column(Float)
    total_ms: Mapped[float] = mapped_column(Float)
    stop_reason: Mapped[str] = mapped_column(Text)


class MessageTrace(Base):
    """Where a reply's time went (revision 0007): storage.traces encodes and decodes it.

    A table of its own, not columns on messages or generation_stats: those rows are read
    with every page of history, and a trace (a few KB) is read only when its timing view
    opens. The foreign key cascades, so purging a chat or discarding a reply drops it.
    """

    __tablename__ = "message_traces"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    # storage.traces.TRACE_FORMAT: a reader meeting a format it does not know reads no trace.
    format: Mapped[int] = mapped_column(Integer)
    phases_json: Mapped[str] = mapped_column(Text)
    # Per-token latencies in ms, packed little-endian float32 (4 bytes a token).
    token_ms: Mapped[bytes] = mapped_column(LargeBinary)


# ---- documents and their summaries (revision 0002) ----------------------------------------


class DocumentRow(Base):
    """A document the user opened. The content hash, not the path, identifies it: a moved
    file keeps its summaries, an edited one gets new ones."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(32))
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    words: Mapped[int] = mapped_column(Integer)
    tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChunkSummaryRow(Base):
    """One partial summary: level 0 is a chunk's summary, higher levels combine a group of
    the level below. The key makes a cancelled job resumable and a repeated one free."""

    __tablename__ = "chunk_summaries"
    # Unique index rather than constraint: one lookup path for get and for upsert.
    __table_args__ = (
        Index(None, "doc_hash", "model", "options_key", "level", "index", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_hash: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(Text)
    options_key: Mapped[str] = mapped_column(Text)
    level: Mapped[int] = mapped_column(Integer)
    index: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # JSON chosen by the app (chunk ids, pages, headings); storage does not interpret it.
    sources_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FinalSummaryRow(Base):
    __tablename__ = "document_summaries"
    __table_args__ = (Index(None, "doc_hash", "model", "options_key", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_hash: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(Text)
    options_key: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    citations_json: Mapped[str] = mapped_column(Text)
    timing_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TranslationRow(Base):
    """One finished translation from the Translate page, kept for the history list."""

    __tablename__ = "translations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_text: Mapped[str] = mapped_column(Text)
    translation: Mapped[str] = mapped_column(Text)
    # None when the source language was never decided (the model was told "the source").
    source_lang: Mapped[str | None] = mapped_column(String(16), nullable=True)
    target_lang: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PresetRow(Base):
    """A named system prompt with sampling settings (revision 0005)."""

    __tablename__ = "presets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    system_prompt: Mapped[str] = mapped_column(Text)
    sampling_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BenchResultRow(Base):
    """One configuration of a `hearth bench` run (revision 0008): its settings, Hearth's
    figures and llama.cpp's own for the same repetitions, or why it could not run."""

    __tablename__ = "bench_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    model: Mapped[str] = mapped_column(Text)
    model_path: Mapped[str] = mapped_column(Text)
    quantization: Mapped[str | None] = mapped_column(Text, nullable=True)
    backend: Mapped[str] = mapped_column(Text)
    llama_cpp_version: Mapped[str] = mapped_column(Text)
    n_prompt: Mapped[int] = mapped_column(Integer)
    n_gen: Mapped[int] = mapped_column(Integer)
    depth: Mapped[int] = mapped_column(Integer)
    n_gpu_layers: Mapped[int] = mapped_column(Integer)
    n_gpu_layers_actual: Mapped[int | None] = mapped_column(Integer, nullable=True)
    threads: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_batch: Mapped[int] = mapped_column(Integer)
    flash_attn: Mapped[bool] = mapped_column(Boolean)
    type_k: Mapped[str] = mapped_column(String(16))
    type_v: Mapped[str] = mapped_column(String(16))
    repetitions: Mapped[int] = mapped_column(Integer)
    pp_tps: Mapped[float | None] = mapped_column(Float, nullable=True)
    pp_tps_sd: Mapped[float | None] = mapped_column(Float, nullable=True)
    tg_tps: Mapped[float | None] = mapped_column(Float, nullable=True)
    tg_tps_sd: Mapped[float | None] = mapped_column(Float, nullable=True)
    llama_pp_tps: Mapped[float | None] = mapped_column(Float, nullable=True)
    llama_tg_tps: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
