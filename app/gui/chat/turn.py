"""The reply being generated (ChatController's turn state)."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.chat.live_speed import LiveSpeed
from app.chat.prefill_progress import PrefillEstimate
from storage.records import MessageRecord


@dataclass
class Turn:
    """The reply being generated."""

    request_id: int
    conversation_id: int
    message_id: int
    # When the user asked for the reply (Enter, Regenerate): perf_counter seconds, where time
    # to first token starts (app.chat.timing).
    sent_at: float
    prompt_tokens: int = 0
    n_ctx: int = 0
    first_token_at: float | None = None  # the first delta arrived from the engine
    # The first and last text of the reply reached the chat view (DeltaCoalescer flush).
    first_paint_at: float | None = None
    last_paint_at: float | None = None
    # How far the engine has read the prompt (PrefillProgress), shown until the first text.
    prefill: PrefillEstimate = field(default_factory=PrefillEstimate)
    tokens: int = 0
    parts: list[str] = field(default_factory=list)
    flushed_len: int = 0
    # The stored messages each prompt message carries ((-1,) for the system prompt).
    prompt_ids: list[tuple[int, ...]] = field(default_factory=list)
    parent_id: int = 0  # the user message being answered
    reply: MessageRecord | None = None  # the reply's row as created (shown if unsaved)
    speed: LiveSpeed = field(default_factory=LiveSpeed)  # token arrivals, for the speed plot

    @property
    def text(self) -> str:
        if len(self.parts) > 1:
            self.parts[:] = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""
