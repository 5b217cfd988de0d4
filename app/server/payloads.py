"""The JSON bodies of OpenAI's chat.completion(.chunk) and text_completion objects.

One `ReplyShape` per request knows its id, model name and kind, so the streaming and the
whole answers are built by the same few functions.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from inference.protocol import GenerationStats

# The engine's stop reasons as OpenAI's finish_reason.
_FINISH = {
    "eos": "stop",
    "stop": "stop",
    "length": "length",
    "context_full": "length",
    "cancelled": "stop",
}


def finish_reason(stop_reason: str) -> str:
    return _FINISH.get(stop_reason, "stop")


def usage(stats: GenerationStats) -> dict[str, int]:
    return {
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "total_tokens": stats.prompt_tokens + stats.completion_tokens,
    }


def sse(payload: dict[str, Any] | str) -> bytes:
    """One Server-Sent Events message."""
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return f"data: {data}\n\n".encode()


@dataclass(frozen=True)
class ReplyShape:
    chat: bool  # /v1/chat/completions, else /v1/completions
    model: str
    id: str = ""
    created: int = field(default_factory=lambda: int(time.time()))

    @classmethod
    def new(cls, chat: bool, model: str) -> ReplyShape:
        prefix = "chatcmpl-" if chat else "cmpl-"
        return cls(chat, model, prefix + secrets.token_hex(12))

    def _head(self, chunk: bool) -> dict[str, Any]:
        kind = "chat.completion" if self.chat else "text_completion"
        if chunk and self.chat:
            kind += ".chunk"
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}

    def whole(self, text: str, stats: GenerationStats, timings: dict[str, Any]) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "logprobs": None}
        if self.chat:
            choice["message"] = {"role": "assistant", "content": text}
        else:
            choice["text"] = text
        choice["finish_reason"] = finish_reason(stats.stop_reason)
        return {
            **self._head(False),
            "choices": [choice],
            "usage": usage(stats),
            "timings": timings,
        }

    def chunk(
        self, text: str | None, *, role: bool = False, finish: str | None = None
    ) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "logprobs": None}
        if self.chat:
            delta: dict[str, Any] = {"role": "assistant"} if role else {}
            if text is not None:
                delta["content"] = text
            choice["delta"] = delta
        else:
            choice["text"] = text or ""
        choice["finish_reason"] = finish
        return {**self._head(True), "choices": [choice]}

    def last_chunk(self, stats: GenerationStats, timings: dict[str, Any]) -> dict[str, Any]:
        payload = self.chunk(None, finish=finish_reason(stats.stop_reason))
        payload["timings"] = timings
        return payload

    def usage_chunk(self, stats: GenerationStats) -> dict[str, Any]:
        """stream_options.include_usage: a last chunk with no choices and the usage."""
        return {**self._head(True), "choices": [], "usage": usage(stats)}
