from __future__ import annotations

from pathlib import Path

import pytest

from inference.protocol import ChatMessage, EngineSettings, ErrorKind, GenerateRequest, Sampling
from inference.sync_client import EngineError, SyncEngine


def test_chat_streams_and_returns_done(tiny_model: Path) -> None:
    deltas: list[str] = []
    progress: list[float] = []
    settings = EngineSettings(model_path=str(tiny_model), n_ctx=512)
    with SyncEngine.start(settings, on_progress=progress.append) as engine:
        assert engine.n_ctx == 512
        done = engine.chat(
            [ChatMessage("user", "hello")],
            max_tokens=8,
            sampling=Sampling(temperature=0.0),
            on_delta=deltas.append,
        )
        assert "".join(deltas) == done.text
        assert engine.count_tokens("hello world") == 2
        assert engine.complete("hello", max_tokens=4).stats.completion_tokens <= 4
    assert progress and progress[-1] == pytest.approx(1.0)


def test_errors_raise_engine_error_with_kind(tiny_model: Path, tmp_path: Path) -> None:
    with pytest.raises(EngineError) as missing:
        SyncEngine.start(EngineSettings(model_path=str(tmp_path / "none.gguf")))
    assert missing.value.kind == ErrorKind.MODEL_FILE
    with SyncEngine.start(EngineSettings(model_path=str(tiny_model), n_ctx=128)) as engine:
        with pytest.raises(EngineError) as long:
            engine.chat([ChatMessage("user", "word " * 300)])
        assert long.value.kind == ErrorKind.PROMPT_TOO_LONG
        # Still usable afterwards.
        assert engine.chat([ChatMessage("user", "hi")], max_tokens=2).text is not None


def test_a_request_cancelled_before_it_starts_is_still_answered(tiny_model: Path) -> None:
    from inference.protocol import CancelRequest, Error, TokenizeRequest

    with SyncEngine.start(EngineSettings(model_path=str(tiny_model), n_ctx=128)) as engine:
        process = engine._process
        request = TokenizeRequest(process.next_id(), "hello")
        # The cancel arrives first: the engine must still answer, or a caller would hang.
        process.send(CancelRequest(process.next_id(), request.id))
        process.send(request)
        while True:
            event = process.recv(10)
            assert event is not None
            if getattr(event, "id", None) == request.id:
                break
        assert isinstance(event, Error) and event.kind == ErrorKind.CANCELLED
        assert engine.count_tokens("hello") == 1


# Greedy "hello" on the tiny model runs 286 tokens to its end of turn: a cancel that is
# lost shows as that whole reply.
HELLO = [ChatMessage("user", "hello")]
GREEDY = Sampling(temperature=0.0, top_k=1, seed=1)


def test_a_cancel_while_a_request_is_being_prepared_is_not_lost(tiny_model: Path) -> None:
    with SyncEngine.start(EngineSettings(model_path=str(tiny_model), n_ctx=512)) as engine:
        process = engine._process
        next_id = process.next_id
        # The cancel lands while chat() builds its request, before it has an id: the moment
        # another thread's cancel used to find nothing to cancel.
        process.next_id = lambda: (engine.cancel(), next_id())[1]  # type: ignore[method-assign]
        with pytest.raises(EngineError) as cancelled:
            engine.chat(HELLO, max_tokens=400, sampling=GREEDY)
        assert cancelled.value.kind == "cancelled"
        process.next_id = next_id  # type: ignore[method-assign]
        # It holds for the job's later requests too, until the job's owner resets it.
        with pytest.raises(EngineError):
            engine.count_tokens("hello")
        engine.reset_cancel()
        assert [r for r in engine.request_log() if r.kind == "chat"] == []  # never sent
        assert engine.chat(HELLO, max_tokens=4, sampling=GREEDY).stats.completion_tokens == 4


def test_a_cancel_right_after_the_request_left_stops_it(tiny_model: Path) -> None:
    with SyncEngine.start(EngineSettings(model_path=str(tiny_model), n_ctx=512)) as engine:
        process = engine._process
        send = process.send

        def send_then_cancel(request: object) -> None:
            send(request)  # type: ignore[arg-type]
            if isinstance(request, GenerateRequest):
                engine.cancel()

        process.send = send_then_cancel  # type: ignore[method-assign]
        try:
            done = engine.chat(HELLO, max_tokens=400, sampling=GREEDY)
            assert done.stats.stop_reason == "cancelled" and done.stats.completion_tokens < 286
        except EngineError as error:  # the cancel overtook it: "cancelled before it started"
            assert error.kind == "cancelled"


def test_a_batched_count_equals_the_single_counts(tiny_model: Path) -> None:
    texts = ["hello world", "", "hello", "naïve café — ünïcode ✓", "word " * 50, "hello world"]
    with SyncEngine.start(EngineSettings(model_path=str(tiny_model), n_ctx=512)) as engine:
        single = [engine.count_tokens(t) for t in texts]
        assert engine.count_tokens_many(texts) == single
        assert single[0] == 2 and single[1] == 0 and single[4] > 10
        assert engine.count_tokens_many([]) == []
        # The single-text path still answers alongside.
        assert engine.count_tokens("hello world") == 2
