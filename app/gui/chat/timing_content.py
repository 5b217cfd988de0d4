"""What the timing view (ui/chat/timing_view.py) shows of one stored trace, as plain values:
the phases on one timeline from Enter pressed, the time between tokens, llama.cpp's counters
beside Hearth's clock. Every figure comes from app.chat.timing (its one definition); the
clock marks and model facts the GUI stores are named in app.chat.trace_marks. Pure
functions; any thread may call them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from app.chat import trace_marks as marks
from app.chat.timing import (
    MIN_END_TO_END_TOKENS,
    cache_miss_sentence,
    decode_speed,
    drafting_sentence,
    end_to_end_speed,
    llama_difference_ms,
    prefill_speed,
)
from app.chat.trace_record import first_token
from app.gui.slowness_facts import read_trace
from inference.protocol import KeptState, RanMeanwhile, Trace
from storage.records import PhaseValue, TraceRecord
from ui.chat.stats_format import (
    END_TO_END_MEANING,
    ENGINE_TTFT_MEANING,
    MIN_PREFILL_TOKENS,
    TOTAL_MEANING,
    TTFT_MEANING,
    format_rate,
)
from ui.chat.timing_view import CounterRow, HeadingFigure, PhaseBar, TimingContent

_KINDS = {
    "chat": "a chat reply",
    "completion": "a text completion (a summary, a title, a translation…)",
    "load": "loading a model",
    "tokenize": "counting tokens",
    "request_log": "writing the request log",
}
DIFFERENCE_NOTE = (
    "Hearth's clock runs around llama.cpp's own: the difference in prefill is batching and "
    "sampling the first token; in decode it is sampling, turning tokens into text, the "
    "stop-string check and sending each piece through the pipe to the window."
)


def _number(phases: Mapping[str, PhaseValue], name: str) -> float | None:
    value = phases.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _ms(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 100 else f"{value:,.1f} ms"


def _meanwhile(items: tuple[RanMeanwhile, ...]) -> str:
    if not items:
        return "nothing else was running"
    shown = [
        f"#{r.id}, {_KINDS.get(r.kind, r.kind)}"
        + (" in the background" if r.priority > 0 else "")
        + f" ({_ms(r.ms)})"
        for r in items[:3]
    ]
    more = f" and {len(items) - 3} more" if len(items) > 3 else ""
    return "behind " + "; ".join(shown) + more


def _prefill_detail(trace: Trace) -> str:
    evaluated = trace.tokens_evaluated + trace.tokens_reevaluated
    batches = len(trace.prefill_batches)
    text = f"{evaluated:,} prompt tokens read in {batches} batch{'es' if batches != 1 else ''}"
    if trace.tokens_reused:
        text += f", {trace.tokens_reused:,} reused from the cache"
    if evaluated >= MIN_PREFILL_TOKENS:
        text += f"; {prefill_speed(trace):,.0f} tokens/s"
    return text + " (the first token's sampling included)"


def _phase_bars(trace: Trace, offset: float, enter: float | None) -> list[PhaseBar]:
    bars: list[PhaseBar] = []
    if enter is not None:
        bars.append(
            PhaseBar("Sent to the engine", 0.0, -enter, "from the window to the engine process")
        )
    if trace.load_ms > 0:
        bars.append(PhaseBar("Model load", offset, trace.load_ms, "a load this request waited for"))
    bars.append(
        PhaseBar(
            "Waiting in the queue", offset + trace.load_ms, trace.queue_ms,
            _meanwhile(trace.ran_meanwhile),
        )
    )  # fmt: skip
    at = offset + trace.started_at_ms
    bars.append(PhaseBar("Building the prompt", at, trace.template_ms, "the chat template"))
    at += trace.template_ms
    bars.append(PhaseBar("Tokenizing", at, trace.tokenize_ms, "the prompt's text into tokens"))
    at += trace.tokenize_ms
    bars.append(PhaseBar("Prefill", at, trace.prefill_ms, _prefill_detail(trace)))
    if trace.first_token_at_ms >= 0:
        start = offset + trace.first_token_at_ms
        gaps = len(trace.token_ms)
        speed = f"; {decode_speed(trace):,.1f} tokens/s" if gaps else ""
        bars.append(
            PhaseBar("Decode", start, trace.decode_ms, f"{gaps:,} tokens after the first{speed}")
        )
    if trace.paused_ms > 0:
        bars.append(
            PhaseBar(
                "Paused", offset + trace.end_at_ms - trace.paused_ms, trace.paused_ms,
                "other work went first; " + _meanwhile(trace.ran_meanwhile)
                + " (shown at the end: the pauses fell in between)",
            )
        )  # fmt: skip
    return bars


def _paint_bars(trace: Trace, phases: Mapping[str, PhaseValue], offset: float) -> list[PhaseBar]:
    first_paint = _number(phases, marks.FIRST_PAINT)
    if first_paint is None or trace.first_token_at_ms < 0:
        return []
    start = offset + trace.first_token_at_ms
    return [
        PhaseBar(
            "First token to screen", start, max(0.0, first_paint - trace.first_token_at_ms),
            "from the sampler through the pipe and the window to the first paint",
        )
    ]  # fmt: skip


def _marks(
    trace: Trace, phases: Mapping[str, PhaseValue], offset: float
) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    if trace.first_token_at_ms >= 0:
        out.append(("first token", offset + trace.first_token_at_ms))
    last_paint = _number(phases, marks.LAST_PAINT)
    if last_paint is not None:
        out.append(("last painted", offset + last_paint))
    else:
        out.append(("end", offset + trace.end_at_ms))
    return out


def _difference(hearth: float, llama: float, difference: float) -> str:
    # llama_difference_ms stops at 0; a larger llama.cpp counter is said, not hidden as 0.
    if llama > hearth:
        return f"none: llama.cpp's counter is {_ms(llama - hearth)} larger"
    return _ms(difference)


def _counters(trace: Trace) -> tuple[CounterRow, ...]:
    difference = llama_difference_ms(trace)
    rows = []
    t = trace
    for name, hearth, llama, tokens, key in (
        ("Prefill", t.prefill_ms, t.llama_prefill_ms, t.llama_prefill_tokens, "prefill_ms"),
        ("Decode", t.decode_ms, t.llama_decode_ms, t.llama_decode_tokens, "decode_ms"),
    ):
        rows.append(
            CounterRow(
                f"{name} ({tokens:,} tokens by llama.cpp's count)", _ms(hearth), _ms(llama),
                _difference(hearth, llama, difference[key]),
            )
        )  # fmt: skip
    return tuple(rows)


def _heading(phases: Mapping[str, PhaseValue]) -> str:
    path = phases.get(marks.MODEL_PATH)
    quant = phases.get(marks.QUANTIZATION)
    model = Path(path).name if isinstance(path, str) and path else "the model"
    if isinstance(quant, str) and quant and quant not in model:
        model += f" ({quant})"
    return f"Reply by {model}"


def _figures(
    trace: Trace,
    phases: Mapping[str, PhaseValue],
    enter: float | None,
    completion_tokens: int | None,
) -> tuple[HeadingFigure, ...]:
    """First token, total time and end-to-end speed, each with its definition. End-to-end
    speed needs the reply's completion tokens (its stats) and MIN_END_TO_END_TOKENS."""
    first = first_token(phases)
    figures = []
    if first is not None and first.shown_ms is not None:
        text = f"first token on screen {_ms(first.shown_ms)} after Enter"
        figures.append(HeadingFigure(text, TTFT_MEANING))
    elif first is not None and first.engine_ms is not None:
        text = f"first token {_ms(first.engine_ms)} after the engine had the request"
        figures.append(HeadingFigure(text, ENGINE_TTFT_MEANING))
    last = _number(phases, marks.LAST_PAINT)
    # The total end_to_end_speed's definition names: Enter → last painted where recorded.
    total = (last if last is not None else trace.end_at_ms) - (enter or 0.0)
    figures.append(HeadingFigure(f"{_ms(total)} in all", TOTAL_MEANING))
    if completion_tokens is not None and completion_tokens >= MIN_END_TO_END_TOKENS:
        speed = end_to_end_speed(completion_tokens, total)
        if speed > 0:
            text = f"end-to-end {format_rate(speed)}"
            figures.append(HeadingFigure(text, END_TO_END_MEANING))
    return tuple(figures)


def _notes(trace: Trace, phases: Mapping[str, PhaseValue]) -> tuple[str, ...]:
    return _cache_notes(trace) + _drafting_notes(trace) + _server_notes(trace, phases)


def _cache_notes(trace: Trace) -> tuple[str, ...]:
    return _kept_notes(trace) + _typed_notes(trace)


def _typed_notes(trace: Trace) -> tuple[str, ...]:
    if not trace.tokens_typed_ahead:
        return ()
    return (
        f"{trace.tokens_typed_ahead:,} of them were read while the message was typed "
        f"({trace.typed_ahead_ms:,.0f} ms, before it was sent), leaving "
        f"{trace.tokens_evaluated:,} to read at Enter.",
    )


def _kept_notes(trace: Trace) -> tuple[str, ...]:
    if trace.cache_miss is not None:
        return ("Why the prompt was read: " + cache_miss_sentence(trace.cache_miss),)
    typed = trace.tokens_typed_ahead  # new tokens too, read before Enter (_typed_notes)
    new = f"only the {trace.tokens_evaluated + typed:,} new ones were read."
    if trace.kept_state == KeptState.RESTORED:
        return (
            f"{trace.tokens_restored:,} prompt tokens were loaded from this chat's kept state "
            f"on disk in {trace.restore_ms:,.0f} ms instead of being read again; {new}",
        )
    if trace.kept_state == KeptState.RESTORED_AHEAD:
        return (
            f"{trace.tokens_restored:,} prompt tokens were loaded from this chat's kept state "
            f"when the chat was opened ({trace.restore_ms:,.0f} ms, before this message was "
            f"sent); {new}",
        )
    if trace.tokens_reused > typed:
        return (f"{trace.tokens_reused - typed:,} prompt tokens were taken from the cache; {new}",)
    if typed:
        return (f"The prompt's {trace.tokens_evaluated + typed:,} tokens were all new.",)
    return ()


def _server_notes(trace: Trace, phases: Mapping[str, PhaseValue]) -> tuple[str, ...]:
    """A remote server's side of the wire (issue 14), beside what Hearth measured here."""
    url = phases.get(marks.SERVER_URL)
    if not isinstance(url, str) or not url:
        return ()
    parts: list[str] = []
    prompt_n, prompt_ms = (
        _number(phases, marks.SERVER_PROMPT_N),
        _number(phases, marks.SERVER_PROMPT_MS),
    )
    if prompt_n is not None and prompt_ms is not None:
        cached = _number(phases, marks.SERVER_CACHE_N)
        from_cache = f", {cached:,.0f} more from its cache" if cached else ""
        parts.append(f"read {prompt_n:,.0f} prompt tokens in {_ms(prompt_ms)}{from_cache}")
    rate = _number(phases, marks.SERVER_PREDICTED_PER_SECOND)
    predicted = _number(phases, marks.SERVER_PREDICTED_N)
    if rate is not None and rate > 0:
        made = f"decoded {predicted:,.0f} tokens" if predicted is not None else "decoded"
        parts.append(f"{made} at {format_rate(rate)}")
    if not parts:
        return (f"The reply came from {url}, which sent no figures of its own.",)
    here = decode_speed(trace)
    mine = f"; Hearth measured {format_rate(here)} here" if here > 0 else ""
    return (f"The server ({url}) says it " + " and ".join(parts) + mine + ".",)


def _drafting_notes(trace: Trace) -> tuple[str, ...]:
    line = drafting_sentence(trace)
    return (line,) if line else ()


def timing_content(
    record: TraceRecord | None, completion_tokens: int | None = None
) -> TimingContent | None:
    """What the view shows of a stored trace; None when none was recorded or it is damaged
    (the view says "no timing recorded"). The timeline's 0 is Enter pressed when the GUI
    recorded it, else the engine's receipt of the request. `completion_tokens`: the reply's
    stored stats' count (None: no stats; no end-to-end speed then)."""
    trace = read_trace(record)
    if record is None or trace is None:
        return None
    phases = record.phases
    enter = _number(phases, marks.ENTER)
    if enter is not None and enter > 0:
        enter = None  # Enter after the engine had the request: a mark that cannot be right
    offset = -enter if enter is not None else 0.0
    origin = (
        "from Enter pressed"
        if enter is not None
        else "from the engine's receipt of the request (Enter was not recorded)"
    )
    bars = _phase_bars(trace, offset, enter) + _paint_bars(trace, phases, offset)
    return TimingContent(
        heading=_heading(phases),
        figures=_figures(trace, phases, enter, completion_tokens),
        origin=origin,
        bars=tuple(bars),
        marks=tuple(_marks(trace, phases, offset)),
        token_ms=trace.token_ms,
        counters=_counters(trace),
        counters_note=DIFFERENCE_NOTE,
        notes=_notes(trace, phases),
    )
