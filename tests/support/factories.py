"""Records for UI tests: the widgets only ever see these plain dataclasses."""

from __future__ import annotations

from datetime import datetime

from storage.records import ConversationRecord, MessageRecord, MessageStatus, Role, StatsRecord

NOW = datetime(2025, 1, 2, 3, 4, 5)


def make_message(
    message_id: int,
    role: Role,
    content: str,
    status: MessageStatus = MessageStatus.COMPLETE,
    error: str | None = None,
    stats: StatsRecord | None = None,
) -> MessageRecord:
    return MessageRecord(
        id=message_id,
        conversation_id=1,
        parent_id=None,
        role=role,
        content=content,
        status=status,
        created_at=NOW,
        updated_at=NOW,
        error=error,
        stats=stats,
    )


def make_stats() -> StatsRecord:
    return StatsRecord(
        model="gemma-3-270m-q4_k_m",
        chat_format="gemma",
        n_ctx=4096,
        n_gpu_layers=0,
        prompt_tokens=120,
        prompt_tokens_evaluated=96,
        completion_tokens=31,
        ttft_ms=245.0,
        prefill_tps=850.0,
        decode_tps=12.3,
        total_ms=2800.0,
        stop_reason="eos",
    )


def make_conversation(conversation_id: int, title: str) -> ConversationRecord:
    return ConversationRecord(id=conversation_id, title=title, created_at=NOW, updated_at=NOW)
