"""The real engine process with llama.cpp, on tiny random-weight models."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from inference.engine_process import EngineCrashedError, EngineProcess
from inference.protocol import (
    CancelRequest,
    ChatMessage,
    Delta,
    Done,
    Error,
    ErrorKind,
    GenerateRequest,
    ModelInfo,
    Sampling,
    Started,
    Tokenized,
    TokenizeRequest,
)
from tests.support.engine_helpers import chat, collect, delta_text, load


def test_load_reports_model_facts_and_chat_format(engine: EngineProcess, tiny_model: Path) -> None:
    info = load(engine, tiny_model, n_ctx=512)
    assert isinstance(info, ModelInfo)
    assert info.architecture == "llama"
    assert info.n_ctx == 512
    assert info.backend == "CPU"
    assert info.chat_format_label  # shown in the status bar
    assert info.chat_format == "model-template"


def test_reply_streams_as_deltas_and_ends_with_stats(
    engine: EngineProcess, tiny_model: Path
) -> None:
    load(engine, tiny_model, n_ctx=512)
    events, done = chat(engine, [ChatMessage("user", "hello there")], max_tokens=24)
    assert isinstance(done, Done)
    started = [e for e in events if isinstance(e, Started)]
    assert len(started) == 1 and started[0].prompt_tokens == done.stats.prompt_tokens
    assert delta_text(events) == done.text
    s = done.stats
    assert s.completion_tokens >= 1
    assert s.prompt_tokens_evaluated == s.prompt_tokens  # cold cache
    assert s.stop_reason in ("eos", "length")
    assert s.ttft_ms > 0 and s.total_ms >= s.ttft_ms
    assert s.n_ctx == 512
    assert done.perf is not None and done.perf.n_p_eval + done.perf.n_eval > 0


def test_greedy_generation_is_repeatable(engine: EngineProcess, tiny_model: Path) -> None:
    load(engine, tiny_model, n_ctx=512)
    first = chat(engine, [ChatMessage("user", "abc")], max_tokens=12)[1]
    load(engine, tiny_model, n_ctx=512)  # fresh context, no cache
    second = chat(engine, [ChatMessage("user", "abc")], max_tokens=12)[1]
    assert isinstance(first, Done) and isinstance(second, Done)
    assert first.text == second.text


def test_cancel_stops_a_long_reply(engine: EngineProcess, tiny_model: Path) -> None:
    load(engine, tiny_model, n_ctx=2048)
    request = GenerateRequest(
        engine.next_id(),
        (ChatMessage("user", "go on forever"),),
        max_tokens=1500,
        # A banned end-of-turn keeps it going; random weights alone rarely stop.
        sampling=Sampling(temperature=1.0, seed=3),
    )
    engine.send(request)
    deltas_after_cancel = 0
    cancelled = False
    while True:
        event = engine.recv(30)
        assert event is not None
        if isinstance(event, Delta):
            if cancelled:
                deltas_after_cancel += 1
            elif event.id == request.id:
                engine.send(CancelRequest(engine.next_id(), request.id))
                cancelled = True
        if isinstance(event, Done | Error):
            break
    assert isinstance(event, Done)
    if event.stats.stop_reason != "eos":  # the random model may end on its own first
        assert event.stats.stop_reason == "cancelled"
        assert event.stats.completion_tokens < 100
    # The engine is free again at once.
    assert isinstance(chat(engine, [ChatMessage("user", "next")], max_tokens=4)[1], Done)


def test_follow_up_turns_reuse_the_cache(engine: EngineProcess, tiny_model: Path) -> None:
    load(engine, tiny_model, n_ctx=2048)
    # The template text between the user's words and the reply (ChatML here).
    closing = TokenizeRequest(engine.next_id(), "<|im_end|>\n<|im_start|>assistant\n", True)
    engine.send(closing)
    closing_tokens = collect_tokens(engine, closing.id)
    history: list[ChatMessage] = []
    turns = []
    for turn in range(5):
        text = f"question {turn} about the weather"
        count = TokenizeRequest(engine.next_id(), text)
        engine.send(count)
        counted = collect_tokens(engine, count.id)
        history.append(ChatMessage("user", text))
        _, done = chat(engine, history, max_tokens=12)
        assert isinstance(done, Done)
        turns.append((done.stats.prompt_tokens, done.stats.prompt_tokens_evaluated, counted))
        history.append(ChatMessage("assistant", done.text))
    prompt_tokens, evaluated_tokens, message_tokens = turns[-1]
    assert prompt_tokens > 4 * evaluated_tokens, turns
    # Turn 5 pays only for the new message and the template tokens after it; the model's
    # earlier replies are never evaluated again, and the text opening the user's turn was
    # evaluated right after the previous reply.
    assert evaluated_tokens == message_tokens + closing_tokens, turns


def collect_tokens(engine: EngineProcess, request_id: int) -> int:
    while True:
        event = engine.recv(30)
        if isinstance(event, Tokenized) and event.id == request_id:
            return event.n_tokens


def test_prompt_longer_than_context_is_a_clear_error(
    engine: EngineProcess, tiny_model: Path
) -> None:
    load(engine, tiny_model, n_ctx=256)
    _, result = chat(engine, [ChatMessage("user", "word " * 600)])
    assert isinstance(result, Error)
    assert result.kind == ErrorKind.PROMPT_TOO_LONG
    assert "too long" in result.message
    _, ok = chat(engine, [ChatMessage("user", "short")], max_tokens=4)
    assert isinstance(ok, Done)


def test_generate_without_a_model_says_so(engine: EngineProcess) -> None:
    _, result = chat(engine, [ChatMessage("user", "hi")])
    assert isinstance(result, Error) and result.kind == ErrorKind.NOT_LOADED


@pytest.mark.parametrize(
    "variant",
    ["truncated", "random", "not_gguf", "bad_heads", "huge_counts", "vocab_only", "empty"],
)
def test_bad_model_files_fail_cleanly_and_the_engine_survives(
    engine: EngineProcess, tiny_model: Path, tmp_path: Path, variant: str
) -> None:
    from tests.support.tiny_gguf import build_corrupt_variants

    bad = build_corrupt_variants(tmp_path)[variant]
    result = load(engine, bad)
    assert isinstance(result, Error)
    assert result.kind == ErrorKind.MODEL_FILE
    assert len(result.message) > 20 and "Traceback" not in result.message
    assert engine.running
    assert isinstance(load(engine, tiny_model, n_ctx=256), ModelInfo)


def test_missing_model_file(engine: EngineProcess, tmp_path: Path) -> None:
    result = load(engine, tmp_path / "nope.gguf")
    assert isinstance(result, Error) and "nope.gguf" in result.message


def test_killed_engine_is_detected_and_a_new_one_starts(
    engine: EngineProcess, tiny_model: Path
) -> None:
    load(engine, tiny_model, n_ctx=256)
    assert engine.pid is not None
    os.kill(engine.pid, signal.SIGKILL)
    with pytest.raises(EngineCrashedError) as crash:
        collect(engine, -1, timeout=10)
    assert "SIGKILL" in str(crash.value)
    engine.start()
    assert isinstance(load(engine, tiny_model, n_ctx=256), ModelInfo)
    assert isinstance(chat(engine, [ChatMessage("user", "hi")], max_tokens=4)[1], Done)
