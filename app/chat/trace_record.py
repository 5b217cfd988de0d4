"""A reply's trace as stored (issue 12): the engine's phases, the desktop app's own marks put
on the engine's origin, and the facts about the model; and, read back, the two times to first
token the chat shows. Qt-free; app/gui/chat/reply_turn.py builds one when Done arrives.

The GUI's marks are time.perf_counter seconds in the GUI process; the engine's trace carries
its origin (the receipt) as perf_counter seconds in the engine process (Trace.origin_s). Both
read the same system-wide monotonic clock (app/chat/trace_marks.py), so a GUI mark in ms on
the trace's origin is (mark_s - origin_s) * 1000: negative before the receipt (Enter).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.chat import trace_marks
from app.chat.timing import engine_time_to_first_token_ms, time_to_first_token_ms
from inference.protocol import ModelInfo, ServerFigures, Trace
from storage.records import PhaseValue, TraceRecord


@dataclass(frozen=True)
class GuiMarks:
    """The desktop app's marks for one reply, perf_counter seconds: `enter_s` when the user
    asked for it (Enter, Regenerate), `first_paint_s`/`last_paint_s` when the first/last text
    of it reached the chat view (None: never shown, e.g. another chat was on screen)."""

    enter_s: float
    first_paint_s: float | None = None
    last_paint_s: float | None = None


@dataclass(frozen=True)
class ModelFacts:
    """What the Performance page filters by, taken when the reply was made."""

    model_path: str
    quantization: str
    n_gpu_layers_requested: int
    n_gpu_layers_actual: int
    n_layers: int
    backend: str


def model_facts(info: ModelInfo, n_gpu_layers_requested: int) -> ModelFacts:
    return ModelFacts(
        model_path=info.path,
        quantization=info.quantization or "",
        n_gpu_layers_requested=n_gpu_layers_requested,
        n_gpu_layers_actual=info.n_gpu_layers,
        n_layers=info.n_layers,
        backend=info.backend,
    )


def trace_record(
    trace: Trace,
    marks: GuiMarks | None,
    facts: ModelFacts | None,
    server: ServerFigures | None = None,
) -> TraceRecord:
    """The record storage keeps for one reply. Marks are left out when the trace has no
    origin to put them on (origin_s 0.0: a trace not straight from the engine). `server`: a
    remote server's own figures for it (issue 14), kept beside Hearth's."""
    phases: dict[str, PhaseValue] = dict(trace.phases())
    phases.update(server_phases(server))
    if marks is not None and trace.origin_s > 0:

        def on_origin(seconds: float) -> float:
            return (seconds - trace.origin_s) * 1000.0

        phases[trace_marks.ENTER] = on_origin(marks.enter_s)
        if marks.first_paint_s is not None:
            phases[trace_marks.FIRST_PAINT] = on_origin(marks.first_paint_s)
        if marks.last_paint_s is not None:
            phases[trace_marks.LAST_PAINT] = on_origin(marks.last_paint_s)
    if facts is not None:
        phases.update(
            {
                trace_marks.MODEL_PATH: facts.model_path,
                trace_marks.QUANTIZATION: facts.quantization,
                trace_marks.GPU_LAYERS_REQUESTED: facts.n_gpu_layers_requested,
                trace_marks.GPU_LAYERS_ACTUAL: facts.n_gpu_layers_actual,
                trace_marks.N_LAYERS: facts.n_layers,
                trace_marks.BACKEND: facts.backend,
            }
        )
    return TraceRecord(phases=phases, token_ms=trace.token_ms)


@dataclass(frozen=True)
class FirstToken:
    """The two times to first token of one reply, ms (app.chat.timing defines both):
    `shown_ms` Enter → first token painted (None: not measured, e.g. the reply was made in
    another chat or by the CLI); `engine_ms` the engine's part, receipt → first token."""

    shown_ms: float | None
    engine_ms: float | None


def first_token(phases: Mapping[str, PhaseValue]) -> FirstToken | None:
    """The times to first token a stored trace holds; None when it holds neither (a damaged
    or foreign record)."""
    enter, painted = (
        _number(phases.get(trace_marks.ENTER)),
        _number(phases.get(trace_marks.FIRST_PAINT)),
    )
    shown = None
    if enter is not None and painted is not None:
        shown = time_to_first_token_ms(enter / 1000.0, painted / 1000.0)
    first = _number(phases.get("first_token_at_ms"))
    engine = None
    if first is not None:
        engine = engine_time_to_first_token_ms(Trace(0.0, first_token_at_ms=first))
    if shown is None and engine is None:
        return None
    return FirstToken(shown, engine)


def live_first_token(trace: Trace | None, marks: GuiMarks) -> FirstToken:
    """The same figures for a reply that just ended, before it is stored."""
    shown = (
        time_to_first_token_ms(marks.enter_s, marks.first_paint_s)
        if marks.first_paint_s is not None
        else None
    )
    return FirstToken(shown, engine_time_to_first_token_ms(trace) if trace else None)


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def server_phases(server: ServerFigures | None) -> dict[str, PhaseValue]:
    """A remote server's figures as stored phases: its address always, each of llama-server's
    `timings` values only when it sent a number for it (other servers send none)."""
    if server is None:
        return {}
    phases: dict[str, PhaseValue] = {trace_marks.SERVER_URL: server.base_url}
    timings = server.timings or {}
    for name, key in trace_marks.SERVER_TIMINGS.items():
        value = timings.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            phases[name] = float(value)
    return phases
