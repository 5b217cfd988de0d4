"""`hearth chat/summarize/connect --backend URL`: the command line on a remote OpenAI-compatible
server (issue 14). The real remote is llama-cpp-python's own server on the tiny model; a
scripted loopback server plays the misbehaving one. Both on 127.0.0.1."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from app.entry import main
from tests.support.model_hub import MemoryKeyring
from tests.support.openai_servers import (
    Handler,
    ScriptedServer,
    chat_chunk,
    die,
    json_answer,
    llama_cpp_server,
    models_answer,
    sse_end,
    sse_event,
    sse_head,
)


@pytest.fixture(scope="module")
def llama_cpp_url(tiny_model: Path) -> Iterator[str]:
    with llama_cpp_server(tiny_model) as url:
        yield url


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(previous)


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        server.route("GET", "/v1/models", models_answer("m1"))
        yield server


def _hearth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_chat_json_on_a_remote_has_a_local_replys_fields_and_the_servers(
    llama_cpp_url: str, hearth_home: Path, tiny_model: Path
) -> None:
    result = _hearth("chat", "--backend", llama_cpp_url, "Hello", "--max-tokens", "6", "--json")
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    local_fields = {
        "text", "model", "chat_format", "n_ctx", "prompt_tokens", "completion_tokens",
        "ttft_ms", "prefill_tps", "decode_tps", "total_ms", "stop_reason", "backend",
        "model_path", "quantization", "chat_format_label", "chat_format_stops", "timeline",
    }  # fmt: skip
    assert local_fields <= reply.keys()
    assert reply["model"] == str(tiny_model) and 0 < reply["completion_tokens"] <= 6
    assert reply["model_path"] == f"{llama_cpp_url}/v1"
    assert reply["server"]["token_count"] == "deltas" and reply["n_ctx_estimated"] is True
    # Choosing a remote model never loads a local one, nor assembles the built-in model.
    assert not list(hearth_home.rglob("*.gguf"))


def test_chat_on_a_remote_streams_and_prints_its_figures(llama_cpp_url: str) -> None:
    result = _hearth("chat", "--backend", llama_cpp_url, "Hello", "--max-tokens", "4")
    assert result.returncode == 0, result.stderr
    assert "tokens (deltas) · " in result.stderr and "stop: " in result.stderr


@pytest.mark.slow  # ~4 s: the summary's reply is a few hundred tokens
def test_summarize_on_a_remote(llama_cpp_url: str, tmp_path: Path) -> None:
    document = tmp_path / "notes.txt"
    document.write_text("The people of the world give good things.\n", encoding="utf-8")
    result = _hearth("summarize", str(document), "--backend", llama_cpp_url, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["timing"]["requests"] >= 1


def test_a_reply_that_breaks_off_is_printed_whole_so_far_and_marked(
    scripted: ScriptedServer,
) -> None:
    def answer(handler: Handler) -> None:
        sse_head(handler)
        sse_event(handler, chat_chunk("half "))
        die(handler)

    scripted.route("POST", "/v1/chat/completions", answer)
    result = _hearth("chat", "--backend", scripted.url, "Hi", "--json")
    assert result.returncode == 1
    reply = json.loads(result.stdout)
    assert (reply["text"], reply["stop_reason"], reply["error_kind"]) == (
        "half ",
        "interrupted",
        "crashed",
    )
    assert result.stderr.strip().startswith("hearth: error: The connection to 127.0.0.1:")


def test_a_key_from_the_environment_or_the_keyring(
    scripted: ScriptedServer,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def answer(handler: Handler) -> None:
        if handler.headers.get("Authorization") != "Bearer sk-good":
            json_answer(handler, 401, {"error": {"message": "bad key"}})
            return
        sse_head(handler)
        sse_event(handler, chat_chunk("ok", "stop"))
        sse_event(handler, "[DONE]")
        sse_end(handler)

    scripted.route("POST", "/v1/chat/completions", answer)
    assert main(["chat", "--backend", scripted.url, "Hi"]) == 1
    assert "needs an API key (HTTP 401)" in capsys.readouterr().err

    monkeypatch.setenv("REMOTE_KEY", "sk-good")
    assert main(["chat", "--backend", scripted.url, "--api-key-env", "REMOTE_KEY", "Hi"]) == 0
    assert capsys.readouterr().out.startswith("ok")
    monkeypatch.delenv("REMOTE_KEY")
    assert main(["chat", "--backend", scripted.url, "--api-key-env", "REMOTE_KEY", "Hi"]) == 1
    assert "REMOTE_KEY is not set" in capsys.readouterr().err

    # Stored once (typed on stdin, never an argument), used by every later command.
    monkeypatch.setattr(sys, "stdin", io.StringIO("sk-good\n"))
    assert main(["connect", scripted.url + "/v1/", "--save-key"]) == 0
    assert "m1" in capsys.readouterr().out
    assert list(memory_keyring.store.values()) == ["sk-good"]
    assert main(["chat", "--backend", scripted.url, "Hi"]) == 0
    assert main(["connect", scripted.url, "--forget-key"]) == 0
    assert memory_keyring.store == {}


def test_connect_lists_the_models_and_names_an_unreachable_server(
    scripted: ScriptedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["connect", scripted.url, "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [m["id"] for m in listing["models"]] == ["m1"] and listing["api_key"] == "none"
    assert main(["connect", "gpu-box:8080"]) == 2
    assert "is not a server address" in capsys.readouterr().err
