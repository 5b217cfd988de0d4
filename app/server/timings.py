"""Hearth's timing of one API reply: the `timings` field of every response (the last chunk
of a stream), named as llama-server names its own so a client that reads llama-server's
figures reads Hearth's (Hearth's own remote backends included), plus three of Hearth's.

Definitions (ms on time.perf_counter; the engine's figures come from its GenerationStats and
Trace, inference/protocol.py and inference/trace.py):

- `prompt_n`: prompt tokens the engine evaluated; `cache_n`: prompt tokens it reused from
  the KV cache (prompt_n + cache_n is the whole prompt).
- `prompt_ms`: the engine's prefill to first token: from the prompt being built to the first
  token out of the sampler, time paused for the window's chat excluded (GenerationStats.
  ttft_ms). `prompt_per_second`: prompt_n / prefill time.
- `predicted_n`: tokens generated. `predicted_per_second`: the decode speed, the tokens after
  the first divided by the time from the first token to the last (GenerationStats.
  decode_tps); `predicted_ms`: that decode time (Trace.decode_ms).
- `queued_ms`: time the request waited in the engine's line behind other work, plus the time
  it was paused for the window's chat (Trace.queue_ms + Trace.paused_ms).
- `time_to_first_token_ms`: the server's clock, from the request's body having been read and
  checked to the first token's text reaching the server from the engine (waiting in line,
  prefill and the pipe included; the HTTP write and the network are not).
- `total_ms`: the server's clock, from the same start to the engine's Done reaching it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from inference.protocol import Done


@dataclass
class ReplyClock:
    """The server's marks for one request (perf_counter seconds)."""

    received: float = field(default_factory=time.perf_counter)
    first_token: float | None = None
    done: float | None = None

    def token(self) -> None:
        if self.first_token is None:
            self.first_token = time.perf_counter()

    def finish(self) -> None:
        self.done = time.perf_counter()

    def ttft_ms(self) -> float | None:
        if self.first_token is None:
            return None
        return (self.first_token - self.received) * 1000.0

    def total_ms(self) -> float:
        end = self.done if self.done is not None else time.perf_counter()
        return (end - self.received) * 1000.0


def timings(done: Done, clock: ReplyClock) -> dict[str, float | int | None]:
    s, trace = done.stats, done.trace
    ttft = clock.ttft_ms()
    return {
        "prompt_n": s.prompt_tokens_evaluated,
        "cache_n": max(0, s.prompt_tokens - s.prompt_tokens_evaluated),
        "prompt_ms": round(s.ttft_ms, 3),
        "prompt_per_second": round(s.prefill_tps, 3),
        "predicted_n": s.completion_tokens,
        "predicted_ms": round(trace.decode_ms, 3) if trace is not None else None,
        "predicted_per_second": round(s.decode_tps, 3),
        "queued_ms": round(trace.queue_ms + trace.paused_ms, 3) if trace is not None else None,
        "time_to_first_token_ms": round(ttft, 3) if ttft is not None else None,
        "total_ms": round(clock.total_ms(), 3),
    }
