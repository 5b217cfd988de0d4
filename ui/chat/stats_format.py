"""Short, readable texts for generation timings. Pure functions; any thread may call them."""

from __future__ import annotations

from storage.records import StatsRecord

SEP = " · "

# The names the chat's figures go by (issue 12), the README's "What the numbers mean" says
# the same. Time to first token is only ever Enter → first token painted.
TTFT_MEANING = (
    "Time to first token: from pressing Enter (or Regenerate) to the reply's first text "
    "painted in the chat."
)
ENGINE_TTFT_MEANING = (
    "Its engine part: from the engine receiving the request to its first token (waiting, "
    "model load, building and reading the prompt)."
)
PREFILL_TTFT_MEANING = (
    "Prefill to first token: the engine reading the prompt and sampling the first token "
    "(time paused for a chat excluded); replies from before timings were recorded have "
    "only this."
)
TOTAL_MEANING = (
    "Total time: from pressing Enter to the reply's last text painted in the chat (without "
    "those marks, older replies: from the engine receiving the request to its end)."
)
END_TO_END_MEANING = (
    "End-to-end speed: the reply's tokens ÷ its total time, the wait for the first token "
    "included: what the reply felt like. Decode speed counts only the time between tokens."
)
# (Enter → first paint, engine's part) in ms; either None when not measured.
FirstTokenTimes = tuple[float | None, float | None]

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


def first_token_text(stats: StatsRecord, times: FirstTokenTimes | None = None) -> str:
    """``312 ms to first token (engine 280 ms)`` when the app measured it (Enter → first
    paint), ``engine 280 ms to first token`` when only the engine did (the reply was made
    in another chat); older replies stored only the engine's prefill to first token, shown
    as ``engine 245 ms to first token`` too (the tooltip and README say the difference)."""
    shown, engine = times if times is not None else (None, None)
    if shown is not None:
        tail = f" (engine {format_ms(engine)})" if engine is not None else ""
        return f"{format_ms(shown)} to first token{tail}"
    if engine is not None:
        return f"engine {format_ms(engine)} to first token"
    return f"engine {format_ms(stats.ttft_ms)} to first token"


def stats_footer_text(stats: StatsRecord, times: FirstTokenTimes | None = None) -> str:
    """The grey line under an assistant message, e.g.
    ``12.3 tok/s · 312 ms to first token (engine 280 ms) · 31 tokens · prompt 120
    (evaluated 12) · prefill 850 tok/s · stop: eos`` (`times`: first_token_text)."""
    parts = [
        format_rate(stats.decode_tps),
        first_token_text(stats, times),
        f"{stats.completion_tokens} tokens",
        *prompt_parts(stats, "(evaluated {n})"),
    ]
    if stats.stop_reason:
        parts.append(f"stop: {stats.stop_reason}")
    return SEP.join(parts)


def live_stats_text(
    tokens_per_s: float | None, ttft_ms: float | None, ctx_used: int, ctx_size: int
) -> str:
    """``14.2 tok/s · TTFT 310 ms · context 512 / 4096``; unknown values are left out.
    `ttft_ms`: Enter → first token painted."""
    parts: list[str] = []
    if tokens_per_s is not None:
        parts.append(format_rate(tokens_per_s))
    if ttft_ms is not None:
        parts.append(f"TTFT {format_ms(ttft_ms)}")
    parts.append(context_text(ctx_used, ctx_size))
    return SEP.join(parts)


def final_stats_text(
    stats: StatsRecord, ctx_used: int, times: FirstTokenTimes | None = None
) -> str:
    """All final numbers of one reply, short enough for a status bar."""
    shown = times[0] if times is not None else None
    first = (
        f"TTFT {format_ms(shown)}"
        if shown is not None
        else f"first token (engine) {format_ms(stats.ttft_ms)}"
    )
    return SEP.join(
        [
            format_rate(stats.decode_tps),
            first,
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
    ``prompt 412 (409 from cache, 3 new)``, or ``prompt 9 tokens`` when nothing was cached;
    nothing when the prompt was not counted (0: a remote server that sent no usage)."""
    total, new = stats.prompt_tokens, stats.prompt_tokens_evaluated
    if total <= 0:
        return []  # not counted (a remote server that sent no usage): nothing to say
    if new >= MIN_PREFILL_TOKENS:
        return [
            f"prompt {total} {evaluated.format(n=new)}",
            f"prefill {format_rate(stats.prefill_tps)}",
        ]
    if new < total:
        return [f"prompt {total} ({total - new} from cache, {new} new)"]
    return [f"prompt {total} tokens"]


def final_stats_tooltip(stats: StatsRecord, times: FirstTokenTimes | None = None) -> str:
    """The longer form for a tooltip: what the first-token figures mean, and which model
    and settings produced the numbers."""
    shown, engine = times if times is not None else (None, None)
    lines = []
    if shown is not None:
        lines.append(f"{TTFT_MEANING} {format_ms(shown)}.")
    if engine is not None:
        lines.append(f"{ENGINE_TTFT_MEANING} {format_ms(engine)}.")
    lines.append(f"{PREFILL_TTFT_MEANING} {format_ms(stats.ttft_ms)}.")
    lines.append(
        f"model {stats.model} · format {stats.chat_format} · context {stats.n_ctx} · "
        f"GPU layers {stats.n_gpu_layers}"
    )
    return "\n".join(lines)


def context_text(ctx_used: int, ctx_size: int) -> str:
    return f"context {ctx_used} / {ctx_size}" if ctx_size > 0 else f"context {ctx_used}"
