"""What the timing view shows of a stored trace (app/gui/chat/timing_content.py) and the facts
its "Why is this slow?" sentences are drawn from (app/gui/slowness_facts.gather_facts)."""

from __future__ import annotations

from array import array
from pathlib import Path

from app.chat import trace_marks as marks
from app.gui.chat.timing_content import timing_content
from app.gui.slowness_facts import FactsRequest, gather_facts
from app.models.machine import GpuMemory, MachineMemory
from inference.protocol import CacheMiss, KeptState, MissCode, ModelInfo, RanMeanwhile, Trace
from inference.trace import pack_token_ms
from storage.database import Database
from storage.performance import PerformanceRepository
from storage.records import TraceRecord
from tests.support.tiny_gguf import build_tiny_model

GIB = 1 << 30


def engine_trace(**fields: object) -> Trace:
    base: dict = {
        "started_at_ms": 30.0,
        "load_ms": 20.0,
        "template_ms": 1.0,
        "tokenize_ms": 2.0,
        "prefill_ms": 400.0,
        "prefill_batches": ((512, 300.0), (88, 100.0)),
        "first_token_at_ms": 433.0,
        "decode_ms": 1000.0,
        "token_gaps": pack_token_ms(array("f", [10.0] * 100)),
        "end_at_ms": 1440.0,
        "tokens_reused": 50,
        "tokens_evaluated": 600,
        "ran_meanwhile": (RanMeanwhile(7, "completion", 10, 10.0),),
        "llama_prefill_ms": 380.0,
        "llama_prefill_tokens": 600,
        "llama_decode_ms": 1100.0,
        "llama_decode_tokens": 100,
    }
    return Trace(**{**base, **fields})


def record(trace: Trace, **extra: object) -> TraceRecord:
    return TraceRecord({**trace.phases(), **extra}, trace.token_ms)  # type: ignore[arg-type]


def test_the_timeline_starts_at_enter_and_lays_the_phases_end_to_end() -> None:
    content = timing_content(record(engine_trace(), gui_enter_ms=-5.0, gui_first_paint_ms=440.0))
    assert content is not None and content.origin == "from Enter pressed"
    bars = {bar.name: bar for bar in content.bars}
    assert (bars["Sent to the engine"].start_ms, bars["Sent to the engine"].ms) == (0.0, 5.0)
    assert (bars["Model load"].start_ms, bars["Model load"].ms) == (5.0, 20.0)
    assert (bars["Waiting in the queue"].start_ms, bars["Waiting in the queue"].ms) == (25.0, 10.0)
    assert "#7, a text completion" in bars["Waiting in the queue"].detail
    assert "in the background" in bars["Waiting in the queue"].detail
    assert bars["Building the prompt"].start_ms == 35.0
    assert bars["Tokenizing"].start_ms == 36.0
    assert bars["Prefill"].start_ms == 38.0
    assert "600 prompt tokens read in 2 batches, 50 reused" in bars["Prefill"].detail
    assert "1,500 tokens/s" in bars["Prefill"].detail  # app.chat.timing.prefill_speed
    assert bars["Decode"].start_ms == 438.0
    assert "100 tokens after the first; 100.0 tokens/s" in bars["Decode"].detail
    assert (bars["First token to screen"].start_ms, bars["First token to screen"].ms) == (
        438.0,
        7.0,
    )
    assert "Paused" not in bars
    assert content.token_ms == (10.0,) * 100
    assert content.heading == "Reply by the model"  # no model facts stored
    # No completion tokens given (no stats): no end-to-end speed.
    assert [f.text for f in content.figures] == [
        "first token on screen 445 ms after Enter",
        "1,445 ms in all",  # Enter (-5) to the engine's end (1,440): no last paint recorded
    ]
    assert content.figures[0].meaning.startswith("Time to first token: from pressing Enter")


def test_end_to_end_speed_is_shown_with_its_definition_from_two_tokens_on() -> None:
    marked = record(engine_trace(), gui_enter_ms=-60.0, gui_last_paint_ms=1940.0)
    content = timing_content(marked, completion_tokens=100)
    assert content is not None
    total, speed = content.figures[-2:]
    assert total.text == "2,000 ms in all"  # Enter -> last paint
    assert total.meaning.startswith("Total time: from pressing Enter")
    assert speed.text == "end-to-end 50.0 tok/s"  # app.chat.timing.end_to_end_speed: 100 / 2 s
    assert speed.meaning.startswith("End-to-end speed: the reply's tokens ÷ its total time")
    one = timing_content(marked, completion_tokens=1)  # too little to call a speed
    assert one is not None and not any("end-to-end" in f.text for f in one.figures)
    engine_only = timing_content(record(engine_trace()), completion_tokens=100)
    assert engine_only is not None
    first, total, speed = engine_only.figures
    assert first.text == "first token 433 ms after the engine had the request"
    assert first.meaning.startswith("Its engine part")
    assert total.text == "1,440 ms in all" and speed.text == "end-to-end 69.4 tok/s"


def test_without_gui_marks_the_timeline_starts_at_the_engine_s_receipt() -> None:
    content = timing_content(record(engine_trace(paused_ms=5.0), gui_enter_ms=3.0))
    assert content is not None and "Enter was not recorded" in content.origin  # a bad mark
    names = [bar.name for bar in content.bars]
    assert "Sent to the engine" not in names and "First token to screen" not in names
    assert names[-1] == "Paused"


def test_llama_cpp_s_counters_and_the_named_difference() -> None:
    content = timing_content(record(engine_trace()))
    assert content is not None
    prefill, decode = content.counters
    assert (prefill.hearth, prefill.llama, prefill.difference) == ("400 ms", "380 ms", "20.0 ms")
    assert decode.difference == "none: llama.cpp's counter is 100 ms larger"
    assert "sampling" in content.counters_note and "pipe" in content.counters_note


def test_why_the_cache_was_not_reused_is_said() -> None:
    miss = CacheMiss(MissCode.MESSAGE_EDITED, message_index=2, role="user")
    content = timing_content(record(engine_trace(cache_miss=miss)))
    assert content is not None and "Your message 3 differs" in content.notes[0]
    reused = timing_content(record(engine_trace()))
    assert reused is not None and "50 prompt tokens were taken from the cache" in reused.notes[0]


def test_drafting_is_one_line_among_the_notes() -> None:
    drafted = engine_trace(
        drafted=60, draft_accepted=41, draft_steps=18, draft_step_tokens=41, drafting="pays"
    )
    content = timing_content(record(drafted))
    assert content is not None
    assert "Drafting: 41 of 60 drafted tokens accepted, 2.3 tokens per step (pays)" in (
        content.notes
    )
    plain = timing_content(record(engine_trace()))
    assert plain is not None and not any("Drafting" in note for note in plain.notes)


def test_nothing_or_a_damaged_trace_is_no_content() -> None:
    assert timing_content(None) is None
    assert timing_content(TraceRecord({"queue_ms": 1.0})) is None  # not a trace
    assert timing_content(TraceRecord({**engine_trace().phases(), "ran_meanwhile": "[1]"})) is None


def info(path: Path, **fields: object) -> ModelInfo:
    base: dict = {
        "path": str(path), "name": "tiny", "architecture": "llama", "quantization": "F32",
        "n_ctx": 1024, "n_ctx_train": 2048, "n_gpu_layers": 2, "n_layers": 4,
        "gpu_offload_supported": True, "backend": "CUDA", "chat_format": "chatml",
        "chat_format_label": "ChatML", "chat_format_stops": (), "load_ms": 1.0,
        "llama_cpp_version": "0", "n_threads": 8,
    }  # fmt: skip
    return ModelInfo(**{**base, **fields})


def test_the_facts_come_from_the_trace_the_loaded_model_and_the_machine(
    tmp_path: Path,
) -> None:
    model = build_tiny_model(tmp_path / "tiny.gguf", n_layer=4)
    trace = engine_trace()
    phases = {
        **trace.phases(), marks.MODEL_PATH: str(model), marks.GPU_LAYERS_ACTUAL: 2,
        marks.N_LAYERS: 4, marks.SWAP_IN: 1 << 30,
    }  # fmt: skip
    machine = MachineMemory(8 * GIB, (GpuMemory("RTX 3060", 12 * GIB, 10 * GIB),))
    db, _ = Database.open(tmp_path / "hearth.db")
    try:
        performance = PerformanceRepository(db)
        request = FactsRequest(1, trace, phases, info(model), machine)
        facts = gather_facts(request, performance, machine)
        assert (facts.gpu_name, facts.gpu_layers, facts.n_layers) == ("RTX 3060", 2, 4)
        assert facts.vram_for_all_bytes is not None and facts.vram_for_all_bytes > 0
        assert facts.n_threads == 8  # not stored with the reply: the loaded model's, same file
        assert facts.swap_in_bytes == 1 << 30
        assert facts.depth_points == []  # no stored replies of this model
        other = info(tmp_path / "other.gguf", n_threads=3)
        elsewhere = gather_facts(
            FactsRequest(1, trace, phases, other, machine), performance, machine
        )
        assert elsewhere.n_threads is None and elsewhere.vram_for_all_bytes is None
        stored = gather_facts(
            FactsRequest(1, trace, {**phases, marks.N_THREADS: 4}, other, machine),
            performance,
            machine,
        )
        assert stored.n_threads == 4
        nothing = gather_facts(
            FactsRequest(1, trace, {}, None, MachineMemory(GIB)), performance, MachineMemory(GIB)
        )
        assert nothing.gpu_name is None and nothing.gpu_offload_supported is None
    finally:
        db.close()


def test_a_remote_reply_shows_the_servers_own_figures_beside_hearths() -> None:
    """Issue 14: both sides of the wire. The server's timings are stored with the reply's
    trace (numbers only: a server's odd values are left out) and read back as one note."""
    from app.chat.trace_record import trace_record
    from inference.protocol import ServerFigures

    server = ServerFigures(
        base_url="http://gpu-box:8080/v1",
        model="qwen",
        token_count="usage",
        deltas=101,
        timings={
            "prompt_n": 40,
            "cache_n": 560,
            "prompt_ms": 12.5,
            "predicted_n": 101,
            "predicted_per_second": 98.7,
            "predicted_ms": "soon",  # not a number: not stored
        },
    )
    stored = trace_record(engine_trace(), None, None, server)
    assert stored.phases[marks.SERVER_URL] == "http://gpu-box:8080/v1"
    assert stored.phases[marks.SERVER_PREDICTED_PER_SECOND] == 98.7
    assert marks.SERVER_PREDICTED_MS not in stored.phases
    content = timing_content(stored)
    assert content is not None
    [note] = [n for n in content.notes if n.startswith("The server")]
    assert "read 40 prompt tokens in 12" in note and "560 more from its cache" in note
    assert "decoded 101 tokens at 98.7" in note and "Hearth measured 100" in note
    silent = trace_record(
        engine_trace(), None, None, ServerFigures("http://x/v1", "m", "deltas", 3)
    )
    content = timing_content(silent)
    assert content is not None
    assert "The reply came from http://x/v1, which sent no figures of its own." in content.notes
    local = timing_content(record(engine_trace()))
    assert local is not None and not any("server" in n for n in local.notes)


def test_a_kept_state_restored_is_said_with_when_it_was_paid() -> None:
    restored = engine_trace(
        kept_state=KeptState.RESTORED, tokens_restored=2982, restore_ms=41.4, tokens_evaluated=45
    )
    content = timing_content(record(restored))
    assert content is not None and content.notes[0] == (
        "2,982 prompt tokens were loaded from this chat's kept state on disk in 41 ms instead "
        "of being read again; only the 45 new ones were read."
    )
    ahead = engine_trace(
        kept_state=KeptState.RESTORED_AHEAD, tokens_restored=2982, restore_ms=40.6,
        tokens_evaluated=45,
    )  # fmt: skip
    content = timing_content(record(ahead))
    assert (
        content is not None
        and "when the chat was opened (41 ms, before this message" in (content.notes[0])
    )


def test_tokens_read_while_the_message_was_typed_are_said_apart() -> None:
    typed = engine_trace(
        kept_state=KeptState.RESTORED_AHEAD, tokens_restored=3969, restore_ms=44.2,
        tokens_reused=4007, tokens_evaluated=7, tokens_typed_ahead=38, typed_ahead_ms=151.0,
    )  # fmt: skip
    content = timing_content(record(typed))
    assert content is not None
    assert content.notes[0].endswith("only the 45 new ones were read.")
    assert content.notes[1] == (
        "38 of them were read while the message was typed (151 ms, before it was sent), "
        "leaving 7 to read at Enter."
    )
