"""The engine records each request's timeline (issue 12): its phases add up to its end, and
when the prompt could not reuse the KV cache the trace says why. The real engine process on
the tiny model; no figure is compared with a clock, only the phases with one another.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.engine_process import EngineProcess
from inference.protocol import (
    ChatMessage,
    CompletionRequest,
    Delta,
    Done,
    Event,
    GenerateRequest,
    MissCode,
    Priority,
    Trace,
)
from tests.support.engine_helpers import GREEDY, chat, collect, load, run_until
from tests.support.tiny_gguf import build_tiny_model

N_BATCH = 16
LONG = 3000  # tokens of a background reply a chat turn pauses (see test_preemption.py)

# What the phases leave out is a few dozen Python statements (building the request, the
# Started event's write to the pipe, the final stats): about 0.2 ms on a 2-core machine.
# 2 ms leaves room for the OS to deschedule the engine once on a busy machine; a phase left
# out would show as more, since these prompts take several ms each to prefill and decode.
TOLERANCE_MS = 2.0

SYSTEM = ChatMessage("system", "You answer in one short sentence.")
QUESTION = ChatMessage("user", " ".join(["tell me about the time and the world"] * 12))


@pytest.fixture
def engine(tiny_model: Path) -> Iterator[EngineProcess]:
    process = EngineProcess()
    process.start()
    load(process, tiny_model, n_ctx=4096, n_batch=N_BATCH, n_threads=1, n_threads_batch=1)
    yield process
    process.stop()


def traced(done: object) -> Trace:
    assert isinstance(done, Done), done
    assert done.trace is not None
    return done.trace


def phases_sum(trace: Trace) -> float:
    return (
        trace.queue_ms
        + trace.load_ms
        + trace.template_ms
        + trace.tokenize_ms
        + trace.prefill_ms
        + trace.decode_ms
        + trace.paused_ms
    )


def assert_adds_up(trace: Trace) -> None:
    # The phases are disjoint intervals of the request's life: never more than its end.
    assert phases_sum(trace) <= trace.end_at_ms + 1e-6
    assert trace.end_at_ms - phases_sum(trace) <= TOLERANCE_MS, trace
    assert trace.unaccounted_ms == pytest.approx(trace.end_at_ms - phases_sum(trace))


def test_the_phases_of_a_chat_turn_add_up_to_its_end(engine: EngineProcess) -> None:
    _, done = chat(engine, [SYSTEM, QUESTION], max_tokens=64)
    trace = traced(done)
    stats = done.stats
    assert_adds_up(trace)
    for phase in ("template_ms", "tokenize_ms", "prefill_ms", "decode_ms"):
        assert getattr(trace, phase) > 0, phase
    assert trace.paused_ms == 0 and trace.queue_ms >= 0
    # Prefill in n_batch steps, every prompt token evaluated once (nothing was cached).
    assert trace.tokens_reused == 0
    assert trace.tokens_evaluated == stats.prompt_tokens == stats.prompt_tokens_evaluated
    assert sum(n for n, _ in trace.prefill_batches) == trace.tokens_evaluated
    assert len(trace.prefill_batches) == -(-trace.tokens_evaluated // N_BATCH)
    assert sum(ms for _, ms in trace.prefill_batches) <= trace.prefill_ms
    # The first token after the prompt was built and read; a gap before each later one.
    before_first = trace.started_at_ms + trace.template_ms + trace.tokenize_ms
    assert before_first + trace.prefill_ms <= trace.first_token_at_ms + 1e-6
    assert trace.first_token_at_ms <= trace.end_at_ms
    steps = stats.completion_tokens + (stats.stop_reason == "eos")
    assert len(trace.token_ms) == steps - 1
    assert 0 < sum(trace.token_ms) <= trace.decode_ms + 1e-3  # float32 rounding
    assert len(trace.token_gaps) == 4 * len(trace.token_ms)  # 4 bytes per token
    # llama.cpp's own counters travel with it, for the view to name the difference.
    assert trace.llama_decode_tokens > 0 and trace.llama_prefill_tokens > 0


def test_cache_misses_say_why(engine: EngineProcess, tiny_model: Path) -> None:
    _, first = chat(engine, [SYSTEM, QUESTION], max_tokens=8)
    miss = traced(first).cache_miss
    assert miss is not None and miss.code == MissCode.FIRST_SINCE_LOAD

    # A follow-up turn continues the cache: nothing missed, the history reused.
    assert isinstance(first, Done)
    history = [SYSTEM, QUESTION, ChatMessage("assistant", first.text)]
    _, follow = chat(engine, [*history, ChatMessage("user", "and then")], max_tokens=8)
    trace = traced(follow)
    assert trace.cache_miss is None
    assert trace.tokens_reused > traced(first).tokens_evaluated // 2
    assert trace.tokens_evaluated < trace.tokens_reused
    assert isinstance(follow, Done)
    history += [ChatMessage("user", "and then"), ChatMessage("assistant", follow.text)]

    # An earlier message edited: that message, by index and role.
    edited = [SYSTEM, ChatMessage("user", "a different question"), *history[2:]]
    _, done = chat(engine, [*edited, ChatMessage("user", "so?")], max_tokens=8)
    miss = traced(done).cache_miss
    assert miss is not None and miss.code == MissCode.MESSAGE_EDITED
    assert (miss.message_index, miss.role) == (1, "user")
    assert 0 < miss.at_token < traced(done).tokens_evaluated + miss.at_token

    # Another system prompt.
    other_system = [ChatMessage("system", "You are a pirate."), *edited[1:]]
    _, done = chat(engine, [*other_system, ChatMessage("user", "so?")], max_tokens=8)
    miss = traced(done).cache_miss
    assert miss is not None and miss.code == MissCode.SYSTEM_CHANGED
    assert (miss.message_index, miss.role) == (0, "system")

    # A document summary (a background request) evaluated in between.
    summary = GenerateRequest(
        engine.next_id(),
        (ChatMessage("user", "Summarize: the world and the time"),),
        max_tokens=4,
        sampling=GREEDY,
        priority=Priority.BACKGROUND,
    )
    engine.send(summary)
    collect(engine, summary.id)
    _, done = chat(engine, [*other_system, ChatMessage("user", "so?")], max_tokens=8)
    miss = traced(done).cache_miss
    assert miss is not None and miss.code == MissCode.OTHER_REQUEST
    assert (miss.other_id, miss.other_kind) == (summary.id, "chat")


def test_another_model_and_a_shifted_context_are_named(
    engine: EngineProcess, tmp_path: Path
) -> None:
    _, done = chat(engine, [QUESTION], max_tokens=4)
    other = build_tiny_model(tmp_path / "other.gguf", seed=3, chat_template=None)
    load(engine, other, n_ctx=256, n_batch=N_BATCH, n_threads=1, n_threads_batch=1)
    _, done = chat(engine, [QUESTION], max_tokens=4)
    miss = traced(done).cache_miss
    assert miss is not None and miss.code == MissCode.OTHER_MODEL

    # The conversation outgrows the 256-token context: the oldest turn is left out.
    turns = [QUESTION, ChatMessage("assistant", "time " * 20)] * 2
    request = GenerateRequest(
        engine.next_id(),
        (*turns, ChatMessage("user", "and now?")),
        max_tokens=8,
        sampling=GREEDY,
        overflow="drop_oldest",
    )
    engine.send(request)
    done = collect(engine, request.id)[-1]
    miss = traced(done).cache_miss
    assert miss is not None and miss.code == MissCode.CONTEXT_SHIFTED and miss.dropped > 0


def test_a_paused_background_reply_counts_its_pause_and_who_ran(engine: EngineProcess) -> None:
    job = CompletionRequest(
        engine.next_id(),
        "Once upon a time",
        max_tokens=LONG,
        sampling=GREEDY,
        priority=Priority.BACKGROUND,
        ignore_eos=True,
    )
    turn = GenerateRequest(
        engine.next_id(), (ChatMessage("user", "hello"),), max_tokens=8, sampling=GREEDY
    )
    engine.send(job)
    sent: list[int] = []

    def chat_once_running(event: Event) -> None:
        if isinstance(event, Delta) and event.id == job.id and not sent:
            engine.send(turn)
            sent.append(turn.id)

    events = run_until(engine, {job.id, turn.id}, chat_once_running)
    done = {e.id: e for e in events if isinstance(e, Done)}
    job_trace, turn_trace = traced(done[job.id]), traced(done[turn.id])

    assert job_trace.paused_ms > 0
    assert turn.id in [r.id for r in job_trace.ran_meanwhile]
    assert_adds_up(job_trace)
    assert len(job_trace.token_ms) == LONG - 1
    # The chat turn waited behind the job (until its next token), and read the prompt anew.
    assert [(r.id, r.kind, r.priority) for r in turn_trace.ran_meanwhile] == [
        (job.id, "completion", int(Priority.BACKGROUND))
    ]
    miss = turn_trace.cache_miss
    assert miss is not None and miss.code == MissCode.OTHER_REQUEST and miss.other_id == job.id
    assert_adds_up(turn_trace)


def test_recording_can_be_turned_off(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTH_TRACE", "0")  # read by the engine process it starts
    process = EngineProcess()
    process.start()
    try:
        load(process, tiny_model, n_threads=1, n_threads_batch=1)
        _, done = chat(process, [QUESTION], max_tokens=4)
        assert isinstance(done, Done) and done.trace is None
    finally:
        process.stop()


def test_llama_counters_of_a_follow_up_turn_count_only_its_own_prompt(
    engine: EngineProcess,
) -> None:
    """After a reply the engine warms the next turn's template tokens; llama.cpp bills a
    decode when it next synchronizes, so without a sync before the reset those tokens (and
    their time) showed up in the next request's prefill counter."""
    _, first = chat(engine, [SYSTEM, QUESTION], max_tokens=8)
    assert isinstance(first, Done)
    history = [SYSTEM, QUESTION, ChatMessage("assistant", first.text)]
    _, follow = chat(engine, [*history, ChatMessage("user", "and then")], max_tokens=8)
    trace = traced(follow)
    assert 0 < trace.llama_prefill_tokens <= trace.tokens_evaluated
