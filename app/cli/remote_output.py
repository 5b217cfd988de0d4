"""What `hearth chat --backend URL` prints beyond a local reply's fields (issue 14): the
server's own figures beside Hearth's, and a reply that broke off, kept and marked."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from inference.protocol import Done, ModelInfo


def remote_fields(done: Done, info: ModelInfo) -> dict[str, Any]:
    """`server`: the server's side (protocol.ServerFigures: its usage and timings as sent,
    and whether completion_tokens counts usage or deltas); `n_ctx_estimated`: the context
    size is Hearth's guess, the server did not say."""
    return {
        "server": asdict(done.server) if done.server is not None else None,
        "n_ctx_estimated": info.n_ctx_estimated,
    }


def interrupted_reply(exc: Exception) -> dict[str, Any] | None:
    """The JSON of a reply that broke off mid-stream (a RemoteError's `partial`): the same
    fields as a whole reply, stop_reason "interrupted", plus the error; None otherwise."""
    partial: Done | None = getattr(exc, "partial", None)
    if partial is None:
        return None
    payload: dict[str, Any] = {"text": partial.text, **asdict(partial.stats)}
    payload.update(
        server=asdict(partial.server) if partial.server is not None else None,
        error=str(exc),
        error_kind=getattr(exc, "kind", "error"),
    )
    return payload


def remote_stats_line(done: Done) -> str:
    """The stderr line after a remote reply: Hearth's figures, then the server's own decode
    speed when it sent one (llama-server's timings.predicted_per_second)."""
    s = done.stats
    counted = f" ({done.server.token_count})" if done.server is not None else ""
    line = (
        f"[{s.completion_tokens} tokens{counted} · {s.decode_tps:.1f} tok/s · "
        f"first token {s.ttft_ms:.0f} ms · stop: {s.stop_reason}"
    )
    timings = done.server.timings if done.server is not None else None
    speed = (timings or {}).get("predicted_per_second")
    if isinstance(speed, int | float):
        line += f" · server: {speed:.1f} tok/s"
    return line + "]"
