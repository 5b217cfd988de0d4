"""A reply's trace as the chat stores it (app/chat/trace_record.py), the times to first token
read back from it, and the prefill progress line (app/chat/prefill_progress.py)."""

from __future__ import annotations

from array import array

import pytest

from app.chat import trace_marks
from app.chat.prefill_progress import (
    MIN_ESTIMATE_S,
    MIN_ESTIMATE_TOKENS,
    PrefillEstimate,
    progress_text,
)
from app.chat.trace_record import (
    FirstToken,
    GuiMarks,
    ModelFacts,
    first_token,
    live_first_token,
    trace_record,
)
from inference.protocol import Trace
from inference.trace import pack_token_ms

FACTS = ModelFacts("/m/model.gguf", "Q4_K_M", -1, 19, 18, "CUDA")


def engine_trace(origin_s: float = 100.0) -> Trace:
    return Trace(
        started_at_ms=1.0,
        prefill_ms=40.0,
        first_token_at_ms=45.0,
        decode_ms=30.0,
        token_gaps=pack_token_ms(array("f", [10.0, 10.0, 10.0])),
        end_at_ms=80.0,
        tokens_evaluated=64,
        origin_s=origin_s,
    )


def test_gui_marks_go_on_the_engines_origin_beside_its_phases_and_the_model_facts() -> None:
    marks = GuiMarks(enter_s=99.99, first_paint_s=100.05, last_paint_s=100.09)
    record = trace_record(engine_trace(), marks, FACTS)
    p = record.phases
    assert p["prefill_ms"] == 40.0 and p["first_token_at_ms"] == 45.0
    assert p[trace_marks.ENTER] == pytest.approx(-10.0)
    assert p[trace_marks.FIRST_PAINT] == pytest.approx(50.0)
    assert p[trace_marks.LAST_PAINT] == pytest.approx(90.0)
    assert p[trace_marks.QUANTIZATION] == "Q4_K_M"
    assert p[trace_marks.GPU_LAYERS_REQUESTED] == -1 and p[trace_marks.GPU_LAYERS_ACTUAL] == 19
    assert p[trace_marks.N_LAYERS] == 18 and p[trace_marks.BACKEND] == "CUDA"
    assert p[trace_marks.MODEL_PATH] == "/m/model.gguf"
    assert record.token_ms == (10.0, 10.0, 10.0)
    # Read back: Enter -> first paint, and the engine's part.
    assert first_token(p) == FirstToken(pytest.approx(60.0), 45.0)
    assert Trace.from_phases(p, record.token_ms).prefill_ms == 40.0  # extra names are ignored


def test_marks_without_an_origin_or_a_paint_are_left_out() -> None:
    no_origin = trace_record(engine_trace(origin_s=0.0), GuiMarks(1.0, 2.0, 3.0), None)
    assert trace_marks.ENTER not in no_origin.phases
    assert trace_marks.MODEL_PATH not in no_origin.phases
    unseen = trace_record(engine_trace(), GuiMarks(99.9), FACTS)  # shown in no chat
    assert trace_marks.FIRST_PAINT not in unseen.phases
    assert first_token(unseen.phases) == FirstToken(None, 45.0)
    assert live_first_token(None, GuiMarks(1.0)) == FirstToken(None, None)
    assert live_first_token(engine_trace(), GuiMarks(1.0, 1.25)) == FirstToken(250.0, 45.0)


def test_a_trace_with_neither_time_or_damaged_values_gives_none() -> None:
    assert first_token({}) is None
    assert first_token({trace_marks.ENTER: "x", "first_token_at_ms": True}) is None
    assert first_token({"first_token_at_ms": -1.0}) is None  # no token came


def test_the_estimate_waits_for_enough_measured_tokens_and_time() -> None:
    estimate = PrefillEstimate()
    estimate.report(10.0, 512, 8000)  # the first report: where measuring starts
    assert estimate.seconds_left is None and estimate.reading
    estimate.report(10.0 + MIN_ESTIMATE_S, 512 + MIN_ESTIMATE_TOKENS - 1, 8000)
    assert estimate.seconds_left is None  # too few tokens yet
    estimate.report(11.0, 1512, 8000)  # 1,000 tokens in 1 s
    assert estimate.seconds_left == pytest.approx(6.488)
    estimate.report(12.0, 8000, 8000)
    assert not estimate.reading


def test_the_progress_line() -> None:
    assert progress_text(3200, 8000) == "reading the prompt: 3,200 of 8,000 tokens"
    assert (
        progress_text(3200, 8000, 3.2)
        == "reading the prompt: 3,200 of 8,000 tokens, about 4 s left"
    )
    assert progress_text(7990, 8000, 0.01).endswith("about 1 s left")
