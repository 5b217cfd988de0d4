"""Names that mean one thing (issue 12): the timing figures Hearth shows, each defined once,
here, as a function over the engine's Trace (inference/trace.py defines its fields), and the
plain sentences that say why a prompt did not reuse the model's cache. Qt-free: the timing
view, the Performance page, the README's tooltips and `hearth chat --json` all read these.
"""

from __future__ import annotations

from typing import Any

from inference.protocol import CacheMiss, MissCode, Trace


def time_to_first_token_ms(pressed_s: float, first_painted_s: float) -> float:
    """Time to first token: from the moment Enter was pressed to the first token of the reply
    painted on screen, both on the GUI's monotonic clock (seconds in, ms out)."""
    return max(0.0, first_painted_s - pressed_s) * 1000.0


def engine_time_to_first_token_ms(trace: Trace) -> float | None:
    """The engine's part of time to first token: from the engine's receipt of the request to
    the first token out of the sampler (queue, model load, prompt building and prefill, time
    paused included). None when no token came."""
    return trace.first_token_at_ms if trace.first_token_at_ms >= 0 else None


def prefill_speed(trace: Trace) -> float:
    """Prefill speed, tokens/s: prompt tokens evaluated (not those reused from the cache,
    re-evaluations after a pause included) ÷ prefill time (inference/trace.py `prefill_ms`).
    0 when nothing was evaluated.

    Shown (stats line, timing view, Performance page) only from MIN_PREFILL_TOKENS evaluated
    tokens on: below that the time is mostly fixed per-request cost. That threshold's one
    definition is ui/chat/stats_format.py, not here: the stats line's formatting there may
    not import app (contract), while app.gui may import ui, so the timing view and the
    Performance page read it from there."""
    evaluated = trace.tokens_evaluated + trace.tokens_reevaluated
    return evaluated / (trace.prefill_ms / 1000.0) if evaluated and trace.prefill_ms > 0 else 0.0


def decode_speed(trace: Trace) -> float:
    """Decode speed, tokens/s: tokens after the first (an end-of-turn token included: it took
    a decode step too) ÷ time from the first to the last of them, pauses left out: the count
    of the per-token gaps ÷ their sum. 0 with fewer than two tokens."""
    gaps = trace.token_ms
    total = sum(gaps)
    return len(gaps) / (total / 1000.0) if gaps and total > 0 else 0.0


# End-to-end speed is left out below this many completion tokens: a one-token reply's
# "speed" is only its time to first token turned upside down.
MIN_END_TO_END_TOKENS = 2


def end_to_end_speed(completion_tokens: int, total_ms: float) -> float:
    """End-to-end speed, tokens/s: completion tokens ÷ total time. `total_ms` is the GUI's
    Enter → last token painted where it has it, else the engine's receipt → end
    (`Trace.end_at_ms`, plus the load the request caused)."""
    return completion_tokens / (total_ms / 1000.0) if completion_tokens and total_ms > 0 else 0.0


def llama_difference_ms(trace: Trace) -> dict[str, float]:
    """Hearth's wall clock minus llama.cpp's own counters, per phase: in prefill, batching and
    the first token's sampling; in decode, sampling, detokenizing, the stop-string check and
    writing each delta to the pipe."""
    return {
        "prefill_ms": max(0.0, trace.prefill_ms - trace.llama_prefill_ms),
        "decode_ms": max(0.0, trace.decode_ms - trace.llama_decode_ms),
    }


def draft_acceptance(trace: Trace) -> float:
    """Acceptance rate of speculative decoding (issue 13): drafted tokens the main model
    sampled too ÷ drafted tokens it verified. 0 when nothing was drafted."""
    return trace.draft_accepted / trace.drafted if trace.drafted else 0.0


def tokens_per_step(trace: Trace) -> float:
    """Tokens per verification step: tokens the reply kept from the llama_decode calls that
    carried drafted tokens ÷ those calls (1.0 would be plain decoding's). 0 without any."""
    return trace.draft_step_tokens / trace.draft_steps if trace.draft_steps else 0.0


def drafting_sentence(trace: Trace) -> str | None:
    """One line on the reply's drafting, or None when it neither drafted nor said why not:
    "Drafting: 41 of 60 drafted tokens accepted, 2.3 tokens per step" ("Drafting with the
    draft model: ..." when a draft model made the drafts, not prompt lookup)."""
    why = f" ({trace.drafting})" if trace.drafting else ""
    if trace.drafted:
        by = " with the draft model" if trace.drafter == "draft model" else ""
        return (
            f"Drafting{by}: {trace.draft_accepted:,} of {trace.drafted:,} drafted tokens accepted, "
            f"{tokens_per_step(trace):.1f} tokens per step{why}"
        )
    if trace.drafting and trace.drafting != "forced off":
        return f"Drafting: none{why}"
    return None


def _message(miss: CacheMiss) -> str:
    number = miss.message_index + 1
    if miss.role == "user":
        return f"your message {number}"
    if miss.role == "assistant":
        return f"the model's reply (message {number})"
    return f"message {number}"


def _other_request(miss: CacheMiss) -> str:
    if miss.other_id < 0:
        who = "Another request"
    elif miss.other_kind == "bench":
        who = f"A benchmark run (#{miss.other_id})"
    else:
        what = {"chat": "a chat request", "completion": "a text completion"}.get(
            miss.other_kind, f"a {miss.other_kind} request"
        )
        who = f"Another request ({what}, #{miss.other_id}: a document summary, a title...)"
    return (
        f"{who} used the model's cache in between, so the prompt was read again from token "
        f"{miss.at_token}."
    )


def cache_miss_sentence(miss: CacheMiss) -> str:
    """Why the prompt was read again instead of taken from the cache, in plain words."""
    code = miss.code
    if code == MissCode.FIRST_SINCE_LOAD:
        return (
            "The model had just been loaded: nothing was cached yet, so the whole prompt was read."
        )
    if code == MissCode.OTHER_MODEL:
        return (
            "Another model was loaded since the last reply: its cache went with it, so the "
            "whole prompt was read."
        )
    if code == MissCode.SYSTEM_CHANGED:
        return "The system prompt changed, so the conversation after it was read again."
    if code == MissCode.MESSAGE_EDITED:
        return (
            f"{_message(miss).capitalize()} differs from what the model read last (an edited "
            "message, or another conversation), so everything from there on was read again."
        )
    if code == MissCode.CONTEXT_SHIFTED:
        plural = "s were" if miss.dropped != 1 else " was"
        return (
            f"The conversation no longer fit the context: {miss.dropped} earlier message"
            f"{plural} left out, so what followed was read again."
        )
    if code == MissCode.OTHER_REQUEST:
        return _other_request(miss)
    if code == MissCode.REPLY_RETOKENIZED:
        return (
            "The model's previous reply ended early (stopped or cut short), so it was read "
            "back from its text, whose tokens differ, and read again from there."
        )
    return f"The prompt differs from the one read last from token {miss.at_token} on."


def timeline(trace: Trace, load_ms: float | None = None) -> dict[str, Any]:
    """The request's phases in ms, as `hearth chat --json` prints them. `load_ms`: the model
    load the caller caused before sending the request (the CLI loads, then asks); None takes
    the loads the request waited for in the engine's queue. The phases plus `other_ms` (what
    lies between them) make `total_ms`: receipt → end, plus a load the caller caused."""
    if load_ms is None:
        queue, load, total = trace.queue_ms, trace.load_ms, trace.end_at_ms
    else:
        queue, load, total = trace.started_at_ms, load_ms, load_ms + trace.end_at_ms
    miss = trace.cache_miss
    return {
        "queue_ms": queue,
        "load_ms": load,
        "template_ms": trace.template_ms,
        "tokenize_ms": trace.tokenize_ms,
        "prefill_ms": trace.prefill_ms,
        "decode_ms": trace.decode_ms,
        "paused_ms": trace.paused_ms,
        "other_ms": trace.unaccounted_ms,
        "total_ms": total,
        "first_token_ms": engine_time_to_first_token_ms(trace),
        "prefill_batches": len(trace.prefill_batches),
        "tokens_reused": trace.tokens_reused,
        "tokens_evaluated": trace.tokens_evaluated,
        "tokens_reevaluated": trace.tokens_reevaluated,
        # Issue 13: what became of the conversation's kept KV state (inference.trace.KeptState)
        # and how many prompt tokens it gave back from disk, in how many ms: part of prefill_ms,
        # except "restored_ahead" (loaded when the chat was opened, before this request came).
        "kept_state": trace.kept_state,
        "tokens_restored": trace.tokens_restored,
        "restore_ms": trace.restore_ms,
        # Prompt tokens read while the message was typed (WarmRequest.typing), part of
        # tokens_reused, and what reading them took before the request came.
        "tokens_typed_ahead": trace.tokens_typed_ahead,
        "typed_ahead_ms": trace.typed_ahead_ms,
        "prefill_tps": prefill_speed(trace),
        "decode_tps": decode_speed(trace),
        "llama_prefill_ms": trace.llama_prefill_ms,
        "llama_decode_ms": trace.llama_decode_ms,
        "drafting": {
            "mode": trace.drafting,
            "drafter": trace.drafter,
            "work": trace.work,
            "drafted": trace.drafted,
            "accepted": trace.draft_accepted,
            "steps": trace.draft_steps,
            "acceptance": draft_acceptance(trace),
            "tokens_per_step": tokens_per_step(trace),
        },
        "cache_miss": None
        if miss is None
        else {
            "code": miss.code,
            "sentence": cache_miss_sentence(miss),
            "at_token": miss.at_token,
            "message_index": miss.message_index,
        },
    }
