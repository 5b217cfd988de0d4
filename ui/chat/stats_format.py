"""Short, readable texts for generation timings. Pure functions; any thread may call them."""

from __future__ import annotations

from storage.records import StatsRecord

SEP = " · "

# Prefill speed is defined as the prompt tokens the engine evaluated (those not reused from
# its KV cache) divided by the engine's time from the start of the request's evaluation to
# its first sampled token. Below this many evaluated tokens that time is mostly fixed
# per-request cost (one batch, sampler set-up), so the quotient says nothing about how fast
# the model reads a prompt ("prefill 12.5 tok/s" from 1 token): the prompt is shown as
# coming from the cache (or as too short to time) instead of as a speed.
MIN_PREFILL_TOKENS = 32


def format_rate(tokens_per_s: float) -> str:
    """``12.3 tok/s`` below 100, ``850 tok/s`` above (more digits would be noise)."""
    return f"{tokens_per_s:.1f} tok/s" if tokens_per_s < 100 else f"{tokens_per_s:.0f} tok/s"


def format_ms(ms: float) -> str:
    """``245 ms`` below ten seconds, ``12.4 s`` above."""
    return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


def stats_footer_text(stats: StatsRecord) -> str:
    """The grey line under an assistant message, e.g.
    ``12.3 tok/s · 245 ms to first token · 31 tokens · prompt 120 (evaluated 12) ·
    prefill 850 tok/s · stop: eos``."""
    parts = [
        format_rate(stats.decode_tps),
        f"{format_ms(stats.ttft_ms)} to first token",
        f"{stats.completion_tokens} tokens",
        *prompt_parts(stats, "(evaluated {n})"),
    ]
    if stats.stop_reason:
        parts.append(f"stop: {stats.stop_reason}")
    return SEP.join(parts)


def live_stats_text(
    tokens_per_s: float | None, ttft_ms: float | None, ctx_used: int, ctx_size: int
) -> str:
    """``14.2 tok/s · TTFT 310 ms · context 512 / 4096``; unknown values are left out."""
    parts: list[str] = []
    if tokens_per_s is not None:
        parts.append(format_rate(tokens_per_s))
    if ttft_ms is not None:
        parts.append(f"TTFT {format_ms(ttft_ms)}")
    parts.append(context_text(ctx_used, ctx_size))
    return SEP.join(parts)


def final_stats_text(stats: StatsRecord, ctx_used: int) -> str:
    """All final numbers of one reply, short enough for a status bar."""
    return SEP.join(
        [
            format_rate(stats.decode_tps),
            f"TTFT {format_ms(stats.ttft_ms)}",
            f"{stats.completion_tokens} tokens",
            *prompt_parts(stats, "({n} evaluated)"),
            f"total {format_ms(stats.total_ms)}",
            f"stop: {stats.stop_reason or '?'}",
            context_text(ctx_used, stats.n_ctx),
        ]
    )


def prompt_parts(stats: StatsRecord, evaluated: str) -> list[str]:
    """The prompt's size and prefill speed, e.g. ``prompt 120 (evaluated 96)`` and
    ``prefill 850 tok/s`` (`evaluated` words the count, ``{n}`` being replaced). Below
    MIN_PREFILL_TOKENS evaluated tokens there is no speed, only where the prompt came from:
    ``prompt 412 (409 from cache, 3 new)``, or ``prompt 9 tokens`` when nothing was cached."""
    total, new = stats.prompt_tokens, stats.prompt_tokens_evaluated
    if new >= MIN_PREFILL_TOKENS:
        return [
            f"prompt {total} {evaluated.format(n=new)}",
            f"prefill {format_rate(stats.prefill_tps)}",
        ]
    if new < total:
        return [f"prompt {total} ({total - new} from cache, {new} new)"]
    return [f"prompt {total} tokens"]


def final_stats_tooltip(stats: StatsRecord) -> str:
    """The longer form for a tooltip: which model and settings produced the numbers."""
    return (
        f"model {stats.model} · format {stats.chat_format} · context {stats.n_ctx} · "
        f"GPU layers {stats.n_gpu_layers}"
    )


def context_text(ctx_used: int, ctx_size: int) -> str:
    return f"context {ctx_used} / {ctx_size}" if ctx_size > 0 else f"context {ctx_used}"
