"""RemoteEngine against a misbehaving loopback server (tests/support/openai_servers.py): every
failure is one RemoteError (an EngineError) in plain words naming the server, and a failure
mid-reply keeps the text that came (issue 14)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx2
import pytest

from inference.backends.remote import RemoteEngine
from inference.backends.remote_errors import RemoteError, RemoteErrorKind, connect_error
from inference.protocol import ChatMessage
from inference.sync_client import EngineError
from tests.support.openai_servers import (
    Handler,
    ScriptedServer,
    chat_chunk,
    die,
    free_port,
    json_answer,
    models_answer,
    sse_end,
    sse_event,
    sse_head,
    sse_raw,
)

HI = [ChatMessage("user", "Hi")]


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        scripted.route("GET", "/v1/models", models_answer("m1", "m2"))
        yield scripted


def _engine(server: ScriptedServer, **options: object) -> RemoteEngine:
    return RemoteEngine(server.url, "m1", **options)  # type: ignore[arg-type]


def _fail(engine: RemoteEngine) -> RemoteError:
    with engine, pytest.raises(RemoteError) as caught:
        engine.chat(HI, max_tokens=8)
    assert isinstance(caught.value, EngineError)
    return caught.value


def _stream(*steps: object) -> object:
    """A chat stream route: dict chunks, raw strings, or callables (die, a stall...)."""

    def answer(handler: Handler) -> None:
        sse_head(handler)
        for step in steps:
            if callable(step):
                step(handler)
                return
            sse_event(handler, step)
        sse_end(handler)

    return answer


def test_a_whole_reply_counts_by_usage_and_keeps_the_servers_figures(
    server: ScriptedServer,
) -> None:
    usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    timings = {"prompt_n": 5, "cache_n": 2, "predicted_n": 3, "predicted_per_second": 50.0}
    final = {"object": "chat.completion.chunk", "choices": [], "usage": usage, "timings": timings}
    route = _stream(
        chat_chunk("Hel"),
        chat_chunk("lo"),
        chat_chunk("!"),
        chat_chunk(None, "stop"),
        final,
        "[DONE]",
    )
    server.route("POST", "/v1/chat/completions", route)  # type: ignore[arg-type]
    pieces: list[str] = []
    with _engine(server) as engine:
        done = engine.chat(HI, max_tokens=8, stop=["\n\n"], on_delta=pieces.append)
    assert done.text == "".join(pieces) == "Hello!"
    assert done.stats.stop_reason == "stop"
    assert (done.stats.completion_tokens, done.stats.prompt_tokens) == (3, 7)
    assert done.stats.prompt_tokens_evaluated == 5
    assert done.stats.ttft_ms > 0 and done.stats.decode_tps > 0
    assert done.server is not None
    assert (done.server.token_count, done.server.deltas) == ("usage", 3)
    assert done.server.timings == timings and done.server.usage == usage
    assert done.trace is not None and done.trace.tokens_reused == 2
    assert len(done.trace.token_ms) == 2  # the gaps between three deltas
    method, path, _headers, body = server.requests[-1]
    assert (method, path, body["model"], body["max_tokens"]) == (
        "POST",
        "/v1/chat/completions",
        "m1",
        8,
    )
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["stop"] == ["\n\n"] and body["messages"] == [{"role": "user", "content": "Hi"}]


def test_without_usage_the_tokens_are_counted_by_deltas(server: ScriptedServer) -> None:
    route = _stream(chat_chunk("a"), chat_chunk(""), chat_chunk("b"), chat_chunk(None, "length"))
    server.route("POST", "/v1/chat/completions", route)  # type: ignore[arg-type]
    with _engine(server) as engine:
        done = engine.chat(HI)
    assert done.text == "ab" and done.stats.completion_tokens == 3
    assert done.server is not None and done.server.token_count == "deltas"
    assert done.stats.stop_reason == "length"


def test_malformed_events_keep_the_text_so_far(server: ScriptedServer) -> None:
    route = _stream(chat_chunk("kept "), "{not json")
    server.route("POST", "/v1/chat/completions", route)  # type: ignore[arg-type]
    error = _fail(_engine(server))
    assert error.kind == RemoteErrorKind.MALFORMED
    assert server.url.removeprefix("http://") in str(error) and "cannot read" in str(error)
    assert error.partial is not None and error.partial.text == "kept "
    assert error.partial.stats.stop_reason == "interrupted"


def test_a_reply_that_is_not_an_event_stream_is_malformed(server: ScriptedServer) -> None:
    def answer(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", "5")
        handler.end_headers()
        handler.wfile.write(b"<p>hi")

    server.route("POST", "/v1/chat/completions", answer)
    assert _fail(_engine(server)).kind == RemoteErrorKind.MALFORMED


def test_a_stalled_stream_says_how_long_it_waited(server: ScriptedServer) -> None:
    route = _stream(chat_chunk("so far"), lambda handler: server.release.wait(30))
    server.route("POST", "/v1/chat/completions", route)  # type: ignore[arg-type]
    error = _fail(_engine(server, read_timeout_s=0.3))
    assert error.kind == RemoteErrorKind.STALLED
    assert "sent nothing for 0.3 s" in str(error)
    assert error.partial is not None and error.partial.text == "so far"


def test_a_server_dying_mid_reply_is_a_crash_with_the_partial_reply(
    server: ScriptedServer,
) -> None:
    route = _stream(chat_chunk("half a "), chat_chunk("reply"), die)
    server.route("POST", "/v1/chat/completions", route)  # type: ignore[arg-type]
    error = _fail(_engine(server))
    assert error.kind == "crashed"  # as a local engine death
    assert "broke off in the middle of the reply" in str(error)
    assert error.partial is not None and error.partial.text == "half a reply"
    assert error.partial.stats.stop_reason == "interrupted"


def test_a_stream_ending_without_its_end_is_interrupted(server: ScriptedServer) -> None:
    server.route("POST", "/v1/chat/completions", _stream(chat_chunk("cut")))  # type: ignore[arg-type]
    error = _fail(_engine(server))
    assert error.kind == "crashed" and error.partial is not None and error.partial.text == "cut"


def test_an_error_object_mid_stream_is_the_servers_error(server: ScriptedServer) -> None:
    route = _stream(chat_chunk("x"), {"error": {"message": "slot crashed", "code": 500}})
    server.route("POST", "/v1/chat/completions", route)  # type: ignore[arg-type]
    error = _fail(_engine(server))
    assert error.kind == RemoteErrorKind.SERVER_ERROR and "slot crashed" in str(error)
    assert error.partial is not None and error.partial.text == "x"


@pytest.mark.parametrize(
    ("status", "retry_after", "words"),
    [
        (429, "30", "try again in 30 seconds"),
        (503, "120", "try again in 2 minutes"),
        (429, None, "try again in a moment"),
    ],
)
def test_busy_servers_say_when_to_try_again(
    server: ScriptedServer, status: int, retry_after: str | None, words: str
) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    server.route(
        "POST",
        "/v1/chat/completions",
        lambda h: json_answer(h, status, {"error": {"message": "busy"}}, headers),
    )
    error = _fail(_engine(server))
    assert error.kind == RemoteErrorKind.BUSY and error.status == status
    assert words in str(error)
    assert error.retry_after_s == (float(retry_after) if retry_after else None)


def test_a_missing_or_wrong_key_is_named(server: ScriptedServer) -> None:
    server.route("POST", "/v1/chat/completions", lambda h: json_answer(h, 401, {"error": "no key"}))
    assert "needs an API key" in str(_fail(_engine(server)))
    error = _fail(_engine(server, api_key="sk-wrong"))
    assert error.kind == RemoteErrorKind.AUTH and "refused the API key" in str(error)
    assert server.requests[-1][2]["Authorization"] == "Bearer sk-wrong"


def test_an_unknown_model_lists_what_the_server_has(server: ScriptedServer) -> None:
    server.route(
        "POST",
        "/v1/chat/completions",
        lambda h: json_answer(h, 404, {"error": {"message": "model not found"}}),
    )
    error = _fail(_engine(server))
    assert error.kind == RemoteErrorKind.MODEL_NOT_FOUND
    assert "has no model 'm1'; it has: m1, m2." in str(error)
    with RemoteEngine(server.url, "m9") as engine, pytest.raises(RemoteError) as caught:
        engine.connect()
    assert "it has: m1, m2" in str(caught.value)


def test_a_prompt_over_the_context_is_prompt_too_long(server: ScriptedServer) -> None:
    message = "the request exceeds the available context size"
    body = {"error": {"message": message, "type": "exceed_context_size_error"}}
    server.route("POST", "/v1/chat/completions", lambda h: json_answer(h, 400, body))
    error = _fail(_engine(server))
    assert error.kind == "prompt_too_long" and message in str(error)


def test_a_server_that_answers_in_one_piece_is_read_too(server: ScriptedServer) -> None:
    reply = {
        "choices": [{"message": {"content": "whole"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2},
    }
    server.route("POST", "/v1/chat/completions", lambda h: json_answer(h, 200, reply))
    with _engine(server) as engine:
        done = engine.chat(HI)
    assert (done.text, done.stats.completion_tokens, done.stats.stop_reason) == ("whole", 2, "stop")


def test_cancel_closes_the_stream_and_keeps_the_text(server: ScriptedServer) -> None:
    route = _stream(chat_chunk("before "), lambda handler: server.release.wait(30))
    server.route("POST", "/v1/chat/completions", route)  # type: ignore[arg-type]
    with _engine(server, read_timeout_s=30) as engine:
        # Cancelled from the delta callback: the reading thread then blocks in a read that
        # only closing the stream can end (the server sends nothing more for 30 s).
        done = engine.chat(HI, on_delta=lambda _text: engine.cancel())
        assert (done.text, done.stats.stop_reason) == ("before ", "cancelled")
        with pytest.raises(EngineError) as refused:
            engine.chat(HI)
        assert refused.value.kind == "cancelled"
        engine.reset_cancel()
        server.route("POST", "/v1/chat/completions", _stream(chat_chunk("ok", "stop")))  # type: ignore[arg-type]
        assert engine.chat(HI).text == "ok"


def test_cancel_before_the_answer_begins(server: ScriptedServer) -> None:
    arrived = threading.Event()

    def slow(handler: Handler) -> None:
        arrived.set()
        server.release.wait(30)

    server.route("POST", "/v1/chat/completions", slow)
    with _engine(server, read_timeout_s=30) as engine:
        canceller = threading.Thread(target=lambda: (arrived.wait(10), engine.cancel()))
        canceller.start()
        done = engine.chat(HI)
        canceller.join()
    assert (done.text, done.stats.stop_reason) == ("", "cancelled")


def test_connection_refused_names_the_server() -> None:
    port = free_port()
    with RemoteEngine(f"http://127.0.0.1:{port}", "m") as engine, pytest.raises(RemoteError) as e:
        engine.chat(HI)
    assert e.value.kind == RemoteErrorKind.CONNECTION_REFUSED
    assert f"127.0.0.1:{port} refused the connection" in str(e.value)


def test_tls_to_a_plain_server_is_a_tls_error(server: ScriptedServer) -> None:
    url = server.url.replace("http://", "https://")
    with RemoteEngine(url, "m1") as engine, pytest.raises(RemoteError) as caught:
        engine.models()
    assert caught.value.kind == RemoteErrorKind.TLS
    assert "secure connection" in str(caught.value)


def test_a_failed_name_lookup_is_said_plainly() -> None:
    cause = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    exc = httpx2.ConnectError("lookup failed")
    exc.__cause__ = cause
    error = connect_error(exc, "gpu-box.example:8080", 5.0)
    assert error.kind == RemoteErrorKind.NAME_NOT_FOUND
    assert str(error) == (
        "The name gpu-box.example could not be looked up: check the address and the network."
    )


def test_nothing_is_contacted_until_a_request(server: ScriptedServer) -> None:
    engine = RemoteEngine(server.url, "m1", api_key="k")
    assert engine.info is None and server.requests == []
    engine.close()


def test_context_size_and_token_counts_come_from_the_server(server: ScriptedServer) -> None:
    server.route(
        "GET",
        "/props",
        lambda h: json_answer(h, 200, {"default_generation_settings": {"n_ctx": 8192}}),
    )
    server.route("POST", "/tokenize", lambda h: json_answer(h, 200, {"tokens": [1, 2, 3, 4]}))
    with _engine(server) as engine:
        assert engine.n_ctx == 8192 and engine.info is not None
        assert not engine.info.n_ctx_estimated
        assert engine.count_tokens_many(["a b c d", "e"]) == [4, 4]
        assert engine.token_counts_estimated is False
    body = server.requests[-1][3]
    assert body["content"] == "e" and body["add_special"] is False


def test_without_props_or_tokenizer_both_are_estimates(server: ScriptedServer) -> None:
    with _engine(server) as engine:
        assert engine.connect().n_ctx_estimated and engine.n_ctx == 4096
        assert engine.count_tokens("x" * 30) == 10
        assert engine.token_counts_estimated is True


def test_the_only_model_is_chosen_when_none_is_named() -> None:
    with ScriptedServer() as server:
        server.route("GET", "/v1/models", models_answer("only"))
        server.route("POST", "/v1/chat/completions", _stream(chat_chunk("y", "stop")))  # type: ignore[arg-type]
        with RemoteEngine(server.url + "/v1/") as engine:
            assert engine.chat(HI).text == "y"
            assert engine.model == "only" and server.requests[-1][3]["model"] == "only"


def test_raw_stream_bytes_split_anywhere_still_parse(server: ScriptedServer) -> None:
    def answer(handler: Handler) -> None:
        sse_head(handler)
        text = 'data: {"choices":[{"text":"ab","finish_reason":null}]}\r\n\r\ndata: [DONE]\n\n'
        for i in range(0, len(text), 7):
            sse_raw(handler, text[i : i + 7])
        sse_end(handler)

    server.route("POST", "/v1/completions", answer)
    with _engine(server) as engine:
        done = engine.complete("x")
    assert done.text == "ab" and done.stats.stop_reason == ""
