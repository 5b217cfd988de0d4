"""From storage's records to what the Performance page shows (Qt-free, any thread): each
reply's figures by app.chat.timing's definitions, the plots' points per model, the page's
filter in storage's terms, and the CSV the export writes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from app.chat import trace_marks
from app.chat.slowness import model_depth_sentence
from app.chat.trace_record import first_token
from storage.performance import PerformanceFilter
from storage.records import PerformanceRow, PhaseValue, SpeedPoints
from ui.chat.stats_format import MIN_PREFILL_TOKENS
from ui.performance.figures import COLUMNS, ReplyFigures, row_texts
from ui.performance.page import PageFilters
from ui.performance.series import Series

#: The trace phases the page reads: shown, sorted by, or needed for time to first token.
PHASE_KEYS = (
    trace_marks.QUANTIZATION,
    trace_marks.GPU_LAYERS_REQUESTED,
    trace_marks.GPU_LAYERS_ACTUAL,
    trace_marks.ENTER,
    trace_marks.FIRST_PAINT,
)


def _number(value: PhaseValue) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _whole(value: PhaseValue) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def figures(row: PerformanceRow) -> ReplyFigures:
    """One reply's row. Time to first token is Enter -> first paint when the GUI recorded
    both marks, else the stored engine figure (flagged). Prefill speed is left out below
    MIN_PREFILL_TOKENS evaluated tokens and decode speed below two tokens: too little data
    for the quotient to mean anything."""
    stats, phases = row.stats, row.phases
    first = first_token(phases)
    if first is not None and first.shown_ms is not None and first.shown_ms >= 0:
        ttft: float | None = first.shown_ms
        from_enter = True
    else:
        ttft, from_enter = (stats.ttft_ms if stats.ttft_ms > 0 else None), False
    quantization = phases.get(trace_marks.QUANTIZATION)
    requested = _whole(phases.get(trace_marks.GPU_LAYERS_REQUESTED))
    enough_prompt = stats.prompt_tokens_evaluated >= MIN_PREFILL_TOKENS
    return ReplyFigures(
        message_id=row.message_id,
        title=row.title,
        date=row.created_at,
        model=stats.model,
        quantization=quantization if isinstance(quantization, str) and quantization else None,
        gpu_layers_requested=stats.n_gpu_layers if requested is None else requested,
        gpu_layers_actual=_whole(phases.get(trace_marks.GPU_LAYERS_ACTUAL)),
        n_ctx=stats.n_ctx,
        depth_at_start=row.depth_at_start,
        evaluated=stats.prompt_tokens_evaluated,
        completion_tokens=stats.completion_tokens,
        ttft_ms=ttft,
        ttft_from_enter=from_enter,
        prefill_tps=stats.prefill_tps if enough_prompt and stats.prefill_tps > 0 else None,
        decode_tps=stats.decode_tps
        if stats.completion_tokens >= 2 and stats.decode_tps > 0
        else None,
        stop_reason=stats.stop_reason,
    )


def series(points: SpeedPoints) -> tuple[list[Series], list[Series]]:
    """The plots' points per model, models by name: decode speed against context depth at
    the start (the whole prompt), prefill speed against the prompt tokens evaluated; a
    reply is left out of a plot where its figure is (see `figures`)."""
    if not points.message_id:
        return [], []
    model = np.asarray(points.model, dtype=object)
    depth = np.asarray(points.prompt_tokens, dtype=np.float64)
    evaluated = np.asarray(points.prompt_tokens_evaluated, dtype=np.float64)
    prefill = np.asarray(points.prefill_tps, dtype=np.float64)
    decode = np.asarray(points.decode_tps, dtype=np.float64)
    timed_decode = decode > 0
    timed_prefill = (evaluated >= MIN_PREFILL_TOKENS) & (prefill > 0)
    decode_series, prefill_series = [], []
    for name in sorted(set(points.model)):
        mine = model == name
        if (keep := mine & timed_decode).any():
            decode_series.append(Series(name, depth[keep], decode[keep]))
        if (keep := mine & timed_prefill).any():
            prefill_series.append(Series(name, evaluated[keep], prefill[keep]))
    return decode_series, prefill_series


def depth_notes(points: SpeedPoints) -> list[str]:
    """The lines over the plots, models by name: one for each model whose decode speed falls
    with context depth across the replies listed (app.chat.slowness decides, with its
    minimum of data)."""
    per_model: dict[str, list[tuple[int, float]]] = {}
    for name, depth, tps in zip(points.model, points.prompt_tokens, points.decode_tps, strict=True):
        per_model.setdefault(name, []).append((depth, tps))
    lines = (model_depth_sentence(name, per_model[name]) for name in sorted(per_model))
    return [line for line in lines if line is not None]


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min).astimezone().astimezone(UTC)


def storage_filter(filters: PageFilters) -> PerformanceFilter:
    """The page's filter in storage's terms: local calendar days, both included."""
    return PerformanceFilter(
        model=filters.model,
        since=None if filters.since is None else _local_midnight(filters.since),
        until=None if filters.until is None else _local_midnight(filters.until + timedelta(1)),
        title_contains=filters.title,
    )


def csv_text(rows: list[ReplyFigures]) -> str:
    """The rows as the table shows them, headed by the columns' names."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([column.header for column in COLUMNS])
    writer.writerows(row_texts(row) for row in rows)
    return out.getvalue()
