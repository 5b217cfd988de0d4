"""Frozen records that storage hands out. Never live ORM objects: these cross threads and
layers (the UI renders them) safely."""

from __future__ import annotations

from collections.abc import Mapping
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
    # The engine's prefill to first token (inference.protocol.GenerationStats.ttft_ms), the
    # column's old name kept; time to first token (Enter -> first paint) is in the trace.
    ttft_ms: float
    prefill_tps: float
    decode_tps: float
    total_ms: float
    stop_reason: str


#: A value of a trace's phases: what JSON holds as a scalar (None: a phase that did not happen).
PhaseValue = float | int | str | bool | None


@dataclass(frozen=True)
class TraceRecord:
    """Where the time of one reply went (issue 12), stored beside its StatsRecord.

    Storage does not interpret it: `phases` holds whatever the app names (milliseconds of
    each phase, why the cache was not reused, the GUI's own marks) and `token_ms` the
    latency of every generated token in milliseconds, in order. The totals stay in
    StatsRecord: one source of truth for every figure the stats line and the Performance
    page show. storage.traces says how it is stored.
    """

    phases: Mapping[str, PhaseValue]
    token_ms: tuple[float, ...] = ()


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


@dataclass(frozen=True)
class PerformanceRow:
    """One finished reply's figures for the Performance page (storage.performance)."""

    message_id: int
    conversation_id: int
    title: str  # the conversation's
    created_at: datetime  # when the reply was asked for (its row was created)
    stats: StatsRecord
    # The trace's phases the caller asked for by name; a key is absent when the reply has no
    # trace, its trace is damaged, or the trace lacks the key.
    phases: Mapping[str, PhaseValue] = field(default_factory=dict)

    @property
    def depth_at_start(self) -> int:
        """Context depth at the start of the reply: the tokens in the model's context when
        the reply's decoding began, i.e. the whole prompt (those reused from the cache and
        those evaluated alike). Decode speed falls as this grows; llama-bench's "depth" of
        a generation test is the same quantity. Sorting by "depth_at_start" sorts by it."""
        return self.stats.prompt_tokens

    @property
    def tokens_reused(self) -> int:
        """Prompt tokens taken from the model's cache instead of evaluated."""
        return max(0, self.stats.prompt_tokens - self.stats.prompt_tokens_evaluated)


@dataclass(frozen=True)
class SpeedPoints:
    """The Performance page's plots' data, by column (what a plotting library takes): item i
    of every tuple belongs to the same reply; replies in the order they were asked for."""

    message_id: tuple[int, ...] = ()
    model: tuple[str, ...] = ()
    prompt_tokens: tuple[int, ...] = ()  # context depth when decoding began
    prompt_tokens_evaluated: tuple[int, ...] = ()  # prompt length prefill worked on
    prefill_tps: tuple[float, ...] = ()
    decode_tps: tuple[float, ...] = ()
