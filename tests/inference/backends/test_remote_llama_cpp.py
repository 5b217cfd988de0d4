"""RemoteEngine against a real OpenAI-compatible server: llama-cpp-python's own
(`python -m llama_cpp.server`) on the tiny model, on 127.0.0.1 (issue 14)."""

from __future__ import annotations

from inference.backends.remote import RemoteEngine
from inference.protocol import ChatMessage, Sampling

HI = [ChatMessage("user", "Hello there")]
GREEDY = Sampling(temperature=0.0, seed=1)


def test_models_and_what_the_server_does_not_say(llama_cpp_url: str, tiny_model: object) -> None:
    with RemoteEngine(llama_cpp_url) as engine:
        assert [m.id for m in engine.models()] == [str(tiny_model)]
        info = engine.connect()
    assert info.name == str(tiny_model) and engine.model == str(tiny_model)
    assert info.n_ctx_estimated  # llama-cpp-python's server has no /props
    assert info.backend == f"remote ({llama_cpp_url.removeprefix('http://')})"


def test_a_streamed_chat_reply_with_its_figures(llama_cpp_url: str) -> None:
    pieces: list[str] = []
    with RemoteEngine(llama_cpp_url) as engine:
        done = engine.chat(HI, max_tokens=12, sampling=GREEDY, on_delta=pieces.append)
    assert done.text == "".join(pieces)
    stats = done.stats
    assert stats.completion_tokens > 0 and stats.stop_reason in ("length", "stop")
    assert stats.ttft_ms > 0 and stats.total_ms >= stats.ttft_ms
    assert done.server is not None and done.server.token_count == "deltas"
    assert done.server.finish_reason in ("length", "stop")
    assert done.trace is not None and done.trace.first_token_at_ms == stats.ttft_ms
    if stats.completion_tokens > 1:
        assert stats.decode_tps > 0 and len(done.trace.token_ms) == done.server.deltas - 1


def test_a_raw_completion(llama_cpp_url: str) -> None:
    with RemoteEngine(llama_cpp_url) as engine:
        done = engine.complete("the people", max_tokens=6, sampling=GREEDY)
    assert done.stats.completion_tokens == 6 and done.stats.stop_reason == "length"


def test_token_counts_from_the_servers_tokenizer(llama_cpp_url: str) -> None:
    with RemoteEngine(llama_cpp_url) as engine:
        counts = engine.count_tokens_many(["", "the people"])
        assert engine.token_counts_estimated is False
    assert counts[0] == 0 and counts[1] >= 2  # llama-cpp-python's BOS taken off


def test_cancel_mid_stream_then_the_server_answers_again(llama_cpp_url: str) -> None:
    with RemoteEngine(llama_cpp_url) as engine:
        seen: list[str] = []

        def stop_after_three(text: str) -> None:
            seen.append(text)
            if len(seen) == 3:
                engine.cancel()

        long = engine.complete(
            "the",
            max_tokens=400,
            sampling=Sampling(temperature=1.0, seed=3),
            on_delta=stop_after_three,
        )
        assert long.stats.stop_reason == "cancelled"
        assert long.text.startswith("".join(seen[:3])) and long.stats.completion_tokens < 400
        engine.reset_cancel()
        again = engine.complete("the", max_tokens=4, sampling=GREEDY)
    assert again.stats.stop_reason == "length"
