"""One streamed reply from an OpenAI-compatible server, read chunk by chunk and timed on
Hearth's clock (issue 14), then turned into the same Done a local reply gives.

The figures (each defined once, here; app/chat/timing.py defines the local ones the same way):
- origin (`sent_s`): time.perf_counter() just before the request is handed to the HTTP client,
  so a new connection's setup counts, as it delays the reply the user waits for.
- a content delta: a chunk whose first choice carries a `delta.content` (chat) or `text`
  (completion) string, an empty one included (llama.cpp's servers send one chunk per token,
  an empty one for a token that ends inside a UTF-8 character) unless it closes the reply
  (an empty text beside a finish_reason).
- time to first token: origin -> the first content delta parsed (the server's queue, its
  prefill and the network both ways included).
- decode speed: tokens after the first / time from the first to the last content delta, the
  token count being the server's `usage.completion_tokens` when it sends it (with
  stream_options.include_usage), else the count of content deltas (`ServerFigures.token_count`
  says which). Per-delta gaps go into the Trace's token_gaps, so
  app.chat.timing.decode_speed(trace) is the same figure counted by deltas.
- prefill speed: prompt tokens the server evaluated (llama-server's timings.prompt_n, else
  usage.prompt_tokens minus cached tokens) / time to first token: on Hearth's clock a lower
  bound, the server's own figure is in `timings`.
- total: origin -> [DONE] (else the end of the stream).
"""

from __future__ import annotations

import json
import time
from array import array
from collections.abc import Callable, Sequence
from typing import Any

from inference.protocol import Done, GenerationStats, Sampling, ServerFigures, Trace
from inference.trace import pack_token_ms

# OpenAI's finish_reason -> Hearth's stop_reason (inference/process/generation.py): OpenAI's
# "stop" covers both an end-of-turn token and a stop string.
_STOP_REASONS = {"stop": "stop", "length": "length", "eos": "eos", "abort": "cancelled"}


class ServerSaid(Exception):
    """The server sent an error object inside the stream instead of a chunk."""


class ReplyStream:
    """Collects one reply: `feed` each event's data (any thread, one at a time), then `done`.
    `kind` is "chat" or "completion"; `on_delta` gets each non-empty text piece."""

    def __init__(
        self, kind: str, on_delta: Callable[[str], None] | None, sent_s: float | None = None
    ) -> None:
        self.kind = kind
        self.on_delta = on_delta
        self.sent_s = time.perf_counter() if sent_s is None else sent_s
        self.parts: list[str] = []
        self.deltas = 0
        self.first_s: float | None = None
        self.last_s: float | None = None
        self.gaps = array("f")
        self.usage: dict[str, Any] | None = None
        self.timings: dict[str, Any] | None = None
        self.finish_reason: str | None = None
        self.ended = False  # [DONE] seen
        self.ended_s: float | None = None  # when: the end of the reply on Hearth's clock

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def complete(self) -> bool:
        """The server said the reply is over: [DONE], or a finish_reason before the end."""
        return self.ended or self.finish_reason is not None

    def feed(self, data: str) -> bool:
        """One event's data. True at [DONE]. Raises ValueError (not JSON, not a chunk) or
        ServerSaid (an error object mid-stream)."""
        if data.strip() == "[DONE]":
            self.ended = True
            self.ended_s = time.perf_counter()
            return True
        if not data.strip():
            return False  # an empty event (a keep-alive some servers send)
        chunk = json.loads(data)
        if not isinstance(chunk, dict):
            raise ValueError(f"a stream chunk that is not an object: {data[:80]!r}")
        self.take(chunk)
        return False

    def take(self, chunk: dict[str, Any]) -> None:
        """One parsed chunk (or a whole non-streamed reply, which has the same fields)."""
        if "error" in chunk and "choices" not in chunk:
            error = chunk["error"]
            raise ServerSaid(str(error.get("message", error) if isinstance(error, dict) else error))
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        if isinstance(chunk.get("timings"), dict):
            self.timings = chunk["timings"]
        choices = chunk.get("choices")
        if choices is None:
            if self.usage is None and self.timings is None:
                raise ValueError(f"a stream chunk without choices: {json.dumps(chunk)[:80]}")
            return
        if not isinstance(choices, list):
            raise ValueError("a stream chunk whose choices are not a list")
        for choice in choices[:1]:
            self._choice(choice)

    def _choice(self, choice: dict[str, Any]) -> None:
        if self.kind == "chat":
            holder = choice.get("delta") or choice.get("message") or {}
            text = holder.get("content") if isinstance(holder, dict) else None
        else:
            text = choice.get("text")
        reason = choice.get("finish_reason")
        # A closing chunk's empty text (llama-cpp-python's completions send one) is no token.
        if isinstance(text, str) and (text or not isinstance(reason, str)):
            self._content(text)
        if isinstance(reason, str):
            self.finish_reason = reason

    def _content(self, text: str) -> None:
        now = time.perf_counter()
        if self.first_s is None:
            self.first_s = now
        elif self.last_s is not None:
            self.gaps.append((now - self.last_s) * 1000.0)
        self.last_s = now
        self.deltas += 1
        if text:
            self.parts.append(text)
            if self.on_delta is not None:
                self.on_delta(text)

    # ---- the result ----------------------------------------------------------------------

    def _int(self, source: dict[str, Any] | None, name: str) -> int | None:
        value = (source or {}).get(name)
        return int(value) if isinstance(value, int | float) and value >= 0 else None

    def done(
        self,
        request_id: int,
        *,
        model: str,
        n_ctx: int,
        base_url: str,
        stop_reason: str | None = None,
        end_s: float | None = None,
    ) -> Done:
        """The reply as a Done; `stop_reason` overrides the server's (cancelled, interrupted)."""
        end = end_s or self.ended_s or time.perf_counter()
        usage_tokens = self._int(self.usage, "completion_tokens")
        completion = usage_tokens if usage_tokens is not None else self.deltas
        cached = self._int(self.timings, "cache_n")
        if cached is None:
            details = (self.usage or {}).get("prompt_tokens_details")
            cached = self._int(details if isinstance(details, dict) else None, "cached_tokens")
        cached = cached or 0
        prompt_n = self._int(self.timings, "prompt_n")
        prompt = self._int(self.usage, "prompt_tokens")
        if prompt is None:
            prompt = (prompt_n or 0) + cached
        evaluated = prompt_n if prompt_n is not None else max(0, prompt - cached)
        ttft_s = (self.first_s - self.sent_s) if self.first_s is not None else 0.0
        first, last = self.first_s, self.last_s
        span_s = last - first if first is not None and last is not None else 0.0
        if stop_reason is None:
            reason = self.finish_reason or ""
            stop_reason = _STOP_REASONS.get(reason, reason)
        stats = GenerationStats(
            model=model,
            chat_format="model-template",  # as remote_probe.remote_model_info says
            n_ctx=n_ctx,
            n_gpu_layers=0,
            prompt_tokens=prompt,
            prompt_tokens_evaluated=evaluated,
            completion_tokens=completion,
            ttft_ms=ttft_s * 1000.0,
            prefill_tps=evaluated / ttft_s if evaluated and ttft_s > 0 else 0.0,
            decode_tps=(completion - 1) / span_s if completion > 1 and span_s > 0 else 0.0,
            total_ms=(end - self.sent_s) * 1000.0,
            stop_reason=stop_reason,
        )
        trace = Trace(
            started_at_ms=0.0,
            prefill_ms=ttft_s * 1000.0,
            first_token_at_ms=ttft_s * 1000.0 if self.first_s is not None else -1.0,
            decode_ms=(end - self.first_s) * 1000.0 if self.first_s is not None else 0.0,
            token_gaps=pack_token_ms(self.gaps),
            end_at_ms=(end - self.sent_s) * 1000.0,
            tokens_reused=cached,
            tokens_evaluated=evaluated,
            origin_s=self.sent_s,
        )
        figures = ServerFigures(
            base_url=base_url,
            model=model,
            token_count="usage" if usage_tokens is not None else "deltas",
            deltas=self.deltas,
            usage=self.usage,
            timings=self.timings,
            finish_reason=self.finish_reason,
        )
        return Done(request_id, self.text, stats, trace=trace, server=figures)


def request_parameters(
    model: str, max_tokens: int, sampling: Sampling, stop: Sequence[str]
) -> dict[str, Any]:
    """The request's sampling. top_k, min_p and repeat_penalty are not OpenAI's but llama.cpp's
    servers, vLLM (top_k, min_p) and Ollama read them; servers that do not, ignore them."""
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "top_k": sampling.top_k,
        "min_p": sampling.min_p,
        "repeat_penalty": sampling.repeat_penalty,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if sampling.seed is not None:
        body["seed"] = sampling.seed
    if stop:
        body["stop"] = list(stop)
    return body
