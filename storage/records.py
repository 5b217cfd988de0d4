"""Frozen records that storage hands out. Never live ORM objects: these cross threads and
layers (the UI renders them) safely."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class MessageStatus(StrEnum):
    COMPLETE = "complete"
    STREAMING = "streaming"
    INTERRUPTED = "interrupted"
    ERROR = "error"
    # A row whose fields could not be read; shown as damaged, never hides the conversation.
    DAMAGED = "damaged"


class TitleSource(StrEnum):
    AUTO = "auto"  # the placeholder or the first words: an automatic title may replace it
    MODEL = "model"  # written by the model from the first exchange
    USER = "user"  # typed by the user: never replaced


class Role(StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


@dataclass(frozen=True)
class StatsRecord:
    """Timings of one generated reply. Field names match inference.protocol.GenerationStats."""

    model: str
    chat_format: str
    n_ctx: int
    n_gpu_layers: int
    prompt_tokens: int
    prompt_tokens_evaluated: int
    completion_tokens: int
    ttft_ms: float
    prefill_tps: float
    decode_tps: float
    total_ms: float
    stop_reason: str


@dataclass(frozen=True)
class ConversationRecord:
    id: int
    title: str
    created_at: datetime
    updated_at: datetime
    pinned: bool = False
    system_prompt: str | None = None
    # This chat's own sampling values (keys of storage.sampling_values.CHAT_KEYS); a missing
    # key means the model's default.
    sampling: dict[str, float | int] = field(default_factory=dict)
    title_source: TitleSource = TitleSource.AUTO


@dataclass(frozen=True)
class MessageRecord:
    id: int
    conversation_id: int
    parent_id: int | None
    role: Role
    content: str
    status: MessageStatus
    created_at: datetime
    updated_at: datetime
    error: str | None = None
    stats: StatsRecord | None = None
    # Edits and regenerations are versions under one parent: this is version `version` of
    # `version_count` (1 of 1 when the message was never edited or regenerated).
    version: int = 1
    version_count: int = 1
