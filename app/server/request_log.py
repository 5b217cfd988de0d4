"""One line per API request, with its timing: what `hearth serve` prints and what the window's
request log will show. Nothing here is stored as a chat."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

LOGGER = logging.getLogger("hearth.server")


@dataclass(frozen=True)
class ServedRequest:
    """One answered request. `status` 499 means the client went away before the answer
    (its generation was cancelled). Token counts and the engine's figures are None for a
    request that never reached the engine (refused, or an error); the times are defined in
    app/server/timings.py (`ttft_ms` is time_to_first_token_ms, `decode_tps` is
    predicted_per_second, `total_ms` the server's time from the checked body to the end)."""

    method: str
    path: str
    status: int
    stream: bool = False
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_ms: float | None = None
    decode_tps: float | None = None
    total_ms: float | None = None
    finish: str | None = None
    error: str | None = None

    def line(self) -> str:
        parts = [f"{self.method} {self.path} {self.status}"]
        if self.stream:
            parts.append("stream")
        if self.prompt_tokens is not None:
            parts.append(f"prompt {self.prompt_tokens} tok")
        if self.completion_tokens is not None:
            parts.append(f"reply {self.completion_tokens} tok")
        if self.ttft_ms is not None:
            parts.append(f"first token {self.ttft_ms:.0f} ms")
        if self.decode_tps:
            parts.append(f"{self.decode_tps:.1f} tok/s")
        if self.total_ms is not None:
            parts.append(f"total {self.total_ms:.0f} ms")
        if self.finish:
            parts.append(f"finish {self.finish}")
        if self.error:
            parts.append(f"error: {self.error}")
        return " · ".join(parts)


OnRequest = Callable[[ServedRequest], None]


def log_line(served: ServedRequest) -> None:
    """The default OnRequest: one INFO line on the `hearth.server` logger."""
    LOGGER.info("%s", served.line())
