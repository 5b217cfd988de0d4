"""Hearth's OpenAI-compatible API server (issue 14), driven with the official `openai` client
over loopback: a real engine process with a tiny random-weight model behind it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from app.server.app import ServerConfig
from tests.support.api_server import ApiServer, api_server

GREEDY = {"temperature": 0, "seed": 7}
HI = [{"role": "user", "content": "hello there"}]


def test_chat_whole_and_streamed_agree_with_usage_timings_models_and_health(
    tiny_model: Path,
) -> None:
    with api_server(tiny_model) as server:
        client = server.client()

        models = client.models.list().data
        assert [m.id for m in models] == [tiny_model.stem]
        assert models[0].owned_by == "hearth"

        whole = client.chat.completions.create(
            model=tiny_model.stem, messages=HI, max_tokens=12, **GREEDY
        )
        choice = whole.choices[0]
        assert choice.message.role == "assistant" and choice.message.content
        assert choice.finish_reason == "length"
        assert whole.usage is not None and whole.usage.completion_tokens == 12
        assert whole.usage.total_tokens == whole.usage.prompt_tokens + 12
        timings = whole.model_extra["timings"]  # type: ignore[index]
        assert timings["predicted_n"] == 12
        assert timings["prompt_n"] + timings["cache_n"] == whole.usage.prompt_tokens
        assert 0 < timings["time_to_first_token_ms"] <= timings["total_ms"]
        assert timings["predicted_per_second"] > 0

        chunks = list(
            client.chat.completions.create(
                model="any name",
                messages=HI,
                max_tokens=12,
                stream=True,
                stream_options={"include_usage": True},
                **GREEDY,
            )
        )
        assert chunks[0].choices[0].delta.role == "assistant"
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == choice.message.content  # greedy: the same reply both ways
        finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
        assert finishes[-1] == "length" and set(finishes[:-1]) == {None}
        assert chunks[-1].choices == [] and chunks[-1].usage is not None
        assert chunks[-1].usage.completion_tokens == 12
        assert chunks[-2].model_extra["timings"]["predicted_n"] == 12  # type: ignore[index]

        completion = client.completions.create(
            model=tiny_model.stem, prompt="the cat", max_tokens=5, **GREEDY
        )
        assert completion.choices[0].text and completion.usage is not None
        assert completion.usage.completion_tokens == 5

        stop = whole.choices[0].message.content[3:6]  # type: ignore[index]
        stopped = client.chat.completions.create(
            model="x", messages=HI, max_tokens=12, stop=[stop], **GREEDY
        )
        assert stopped.choices[0].finish_reason == "stop"
        assert stop not in (stopped.choices[0].message.content or "")

        health = httpx2.get(f"{server.url}/health")
        assert health.status_code == 200 and health.json() == {"status": "ok"}

        lines = [s.line() for s in server.served.entries]
        assert any(line.startswith("POST /v1/chat/completions 200 · stream") for line in lines)
        assert all("first token" in line for line in lines if "/completions 200" in line)


def test_a_key_is_required_when_set_and_health_needs_none(tiny_model: Path) -> None:
    with api_server(tiny_model, ServerConfig(api_key="s3cret")) as server:
        with pytest.raises(openai.AuthenticationError) as wrong:
            server.client("wrong").models.list()
        assert wrong.value.status_code == 401
        body = wrong.value.body
        assert isinstance(body, dict) and body["code"] == "invalid_api_key"
        assert set(body) == {"message", "type", "param", "code"}
        unkeyed = httpx2.post(f"{server.url}/v1/chat/completions", json={"messages": HI})
        assert unkeyed.status_code == 401
        assert unkeyed.json()["error"]["type"] == "authentication_error"

        # Greedy: with the server's default sampling (T 0.8, no seed) the tiny model ends
        # within 3 tokens about once in 70 requests.
        reply = server.client().chat.completions.create(
            model="x", messages=HI, max_tokens=3, **GREEDY
        )
        assert reply.usage is not None and reply.usage.completion_tokens == 3
        assert httpx2.get(f"{server.url}/health").status_code == 200


ABSURD: list[tuple[dict[str, object], str, str]] = [
    ({"max_tokens": -5}, "max_tokens", "at least 1"),
    ({"max_tokens": 10**9}, "max_tokens", "more than the model's context of 512"),
    ({"temperature": 50}, "temperature", "from 0 to 2"),
    ({"top_p": 3}, "top_p", "from 0 to 1"),
    ({"messages": []}, "messages", "non-empty"),
    ({"n": 2}, "n", "one reply per request"),
    ({"messages": [{"role": "assistant", "content": "hi"}]}, "messages", "user's"),
    ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role", "one of"),
    ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "at most 4"),
    ({"messages": [{"role": "user", "content": "word " * 2000}]}, "messages", "too long"),
]


@pytest.fixture
def small_server(tiny_model: Path) -> Iterator[ApiServer]:
    with api_server(tiny_model, ServerConfig(max_body_bytes=64 * 1024), n_ctx=512) as server:
        yield server


def test_absurd_parameters_get_a_400_that_names_them(small_server: ApiServer) -> None:
    client = small_server.client()
    for change, param, words in ABSURD:
        body: dict[str, Any] = {"model": "x", "messages": HI, **change}
        with pytest.raises(openai.BadRequestError) as refused:
            client.chat.completions.create(**body)
        error = refused.value.body
        assert isinstance(error, dict), change
        assert error["param"] == param and words in error["message"], (change, error)
        assert error["type"] == "invalid_request_error"
    # Each refusal is one log line; the engine never saw the ones it did not need to.
    assert [s.status for s in small_server.served.entries] == [400] * len(ABSURD)


def test_a_body_over_the_limit_gets_413(small_server: ApiServer) -> None:
    with pytest.raises(openai.APIStatusError) as refused:
        small_server.client().chat.completions.create(
            model="x", messages=[{"role": "user", "content": "x" * 100_000}]
        )
    assert refused.value.status_code == 413
    assert refused.value.body["code"] == "request_too_large"  # type: ignore[index]
    not_json = httpx2.post(f"{small_server.url}/v1/chat/completions", content=b"{nope")
    assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["error"]["message"]
    missing = httpx2.get(f"{small_server.url}/v1/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found_error"


@pytest.mark.skipif(sys.platform == "win32", reason="freezes the engine with SIGSTOP")
def test_a_full_line_answers_429_and_a_client_that_leaves_cancels_its_generation(
    tiny_model: Path,
) -> None:
    with api_server(tiny_model, ServerConfig(max_waiting=0), n_ctx=2048) as server:
        client = server.client()
        # Greedy, this prompt runs to max_tokens on the tiny model (no end token): hundreds of
        # milliseconds of generation left when the first text arrives.
        stream = client.completions.create(
            model="x", prompt="hello there", max_tokens=2000, stream=True, **GREEDY
        )
        assert next(iter(stream)).choices[0].text  # the engine is generating
        with server.engine_frozen():
            # One generating and none may wait: the next request is refused at once.
            with pytest.raises(openai.RateLimitError) as busy:
                client.chat.completions.create(model="x", messages=HI, max_tokens=3)
            assert busy.value.response.headers["Retry-After"].isdigit()
            assert busy.value.body["code"] == "queue_full"  # type: ignore[index]
            stream.close()  # the client goes away mid-stream
            gone = server.served.wait_for(lambda s: s.status == 499)
            assert gone.stream
        record = server.wait_request_record(lambda r: r.kind == "completion")
        assert record.stop_reason == "cancelled"
        assert 0 < record.completion_tokens < 2000

        # The place is free again.
        reply = client.chat.completions.create(model="x", messages=HI, max_tokens=3)
        assert reply.choices[0].finish_reason == "length"
