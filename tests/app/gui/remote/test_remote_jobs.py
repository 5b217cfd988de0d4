"""Summaries and translations on a server's model (issue 14): their blocking jobs reach it
through EngineBridge over the session's client, as they reach the local engine."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from app.gui.backend_switch import BackendSwitch
from app.gui.engine_bridge import EngineBridge
from app.gui.remote_client import RemoteClient
from inference.client import EngineClient
from inference.protocol import ChatMessage, Done
from inference.sync_client import EngineError
from tests.support.openai_servers import (
    Handler,
    ScriptedServer,
    chat_chunk,
    die,
    models_answer,
    sse_end,
    sse_event,
    sse_head,
)

WAIT_MS = 20_000


def _answers(handler: Handler) -> None:
    sse_head(handler)
    for piece in ("A short ", "summary."):
        sse_event(handler, chat_chunk(piece))
    sse_event(handler, chat_chunk(None, "stop"))
    sse_event(handler, "[DONE]")
    sse_end(handler)


def _dies(handler: Handler) -> None:
    sse_head(handler)
    sse_event(handler, chat_chunk("Half"))
    die(handler)


@pytest.fixture
def switch(qtbot: QtBot) -> Iterator[tuple[BackendSwitch, ScriptedServer]]:
    with ScriptedServer() as server:
        server.route("GET", "/v1/models", models_answer("m1"))
        local = EngineClient()
        switch = BackendSwitch(local)
        switch.use_remote(RemoteClient(server.url, "m1", lambda: None))
        yield switch, server
        switch.shutdown()
        assert local.pid is None  # the local engine was never started


def _in_job(qtbot: QtBot, call: object) -> object:
    """Run `call()` on a worker thread as a job does, turning the event loop meanwhile."""
    result: list[object] = []

    def job() -> None:
        try:
            result.append(call())  # type: ignore[operator]
        except Exception as exc:
            result.append(exc)

    thread = threading.Thread(target=job, name="job")
    thread.start()
    qtbot.waitUntil(lambda: bool(result), timeout=WAIT_MS)
    thread.join()
    return result[0]


def test_a_job_gets_the_servers_reply_through_the_bridge(
    qtbot: QtBot, switch: tuple[BackendSwitch, ScriptedServer]
) -> None:
    client, server = switch
    server.route("POST", "/v1/chat/completions", _answers)
    bridge = EngineBridge(client)
    pieces: list[str] = []
    done = _in_job(
        qtbot,
        lambda: bridge.chat([ChatMessage("user", "Sum up")], max_tokens=8, on_delta=pieces.append),
    )
    assert isinstance(done, Done) and done.text == "A short summary." == "".join(pieces)
    assert done.stats.completion_tokens == 2 and done.stats.stop_reason == "stop"


def test_a_server_dying_mid_job_fails_it_as_a_crash(
    qtbot: QtBot, switch: tuple[BackendSwitch, ScriptedServer]
) -> None:
    client, server = switch
    server.route("POST", "/v1/chat/completions", _dies)
    bridge = EngineBridge(client)
    failure = _in_job(qtbot, lambda: bridge.chat([ChatMessage("user", "Sum up")], max_tokens=8))
    assert isinstance(failure, EngineError) and failure.kind == "crashed"
    assert "broke off" in str(failure)
