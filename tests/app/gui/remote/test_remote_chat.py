"""The chat on a model of a remote server (issue 14), end to end on 127.0.0.1: a connection
added on the Models page, its model picked in the chat, a message sent. The real remote is
llama-cpp-python's own server on the tiny model; a scripted server dies mid-reply."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from storage.records import MessageStatus
from tests.support.chat_window import bar_text, type_and_send
from tests.support.openai_servers import (
    Handler,
    ScriptedServer,
    chat_chunk,
    die,
    models_answer,
    sse_event,
    sse_head,
)
from tests.support.remote_window import add_connection, pick_remote, unstarted_app

REPLY_MS = 60_000


def test_a_reply_from_a_servers_model_streams_and_is_stored_with_its_stats(
    qtbot: QtBot, tiny_model: Path, llama_cpp_url: str
) -> None:
    with unstarted_app(qtbot, tiny_model, max_tokens=12) as (window, controller, _database):
        add_connection(qtbot, window, "Box", llama_cpp_url)
        pick_remote(qtbot, window, controller, f"{tiny_model} · Box")
        session = controller.session
        assert session.remote is not None and session.info is not None
        assert session.info.n_ctx_estimated  # llama-cpp-python's server does not say
        assert window.model_picker.currentText() == f"{tiny_model} · Box"
        # The context line counts with the server's tokenizer and says it is a guess.
        qtbot.keyClicks(window.message_input, "Hello")
        qtbot.waitUntil(lambda: "(estimate)" in window.context_budget.text(), timeout=REPLY_MS)
        window.message_input.clear()

        deltas: list[str] = []
        controller.client.deltaReceived.connect(lambda _id, text, _n: deltas.append(text))
        with qtbot.waitSignal(controller.replyFinished, timeout=REPLY_MS) as finished:
            type_and_send(qtbot, window, "Hello there")
        stored = controller.messages.get(finished.args[0])
        assert stored is not None and stored.status == MessageStatus.COMPLETE
        assert stored.content == "".join(deltas) and len(deltas) > 1  # it streamed
        assert stored.stats is not None and stored.stats.completion_tokens > 0
        assert stored.stats.ttft_ms > 0 and stored.stats.model == str(tiny_model)
        # Never a local engine process for the remote chat.
        assert session.local.pid is None and not session.local.running


def _dies_after_two_pieces(handler: Handler) -> None:
    sse_head(handler)
    sse_event(handler, chat_chunk("Half a "))
    sse_event(handler, chat_chunk("reply"))
    die(handler)


def test_a_server_that_dies_mid_reply_leaves_the_reply_interrupted_with_its_text(
    qtbot: QtBot, tiny_model: Path
) -> None:
    with ScriptedServer() as server, unstarted_app(qtbot, tiny_model, max_tokens=12) as parts:
        window, controller, _database = parts
        server.route("GET", "/v1/models", models_answer("big-model"))
        server.route("POST", "/v1/chat/completions", _dies_after_two_pieces)
        add_connection(qtbot, window, "Flaky", server.url)
        pick_remote(qtbot, window, controller, "big-model · Flaky")
        with qtbot.waitSignal(controller.client.requestFailed, timeout=REPLY_MS):
            type_and_send(qtbot, window, "Hello")
        conversation = controller.current_conversation
        assert conversation is not None
        reply = controller.messages.active_path(conversation)[-1]
        assert reply.status == MessageStatus.INTERRUPTED
        assert reply.content == "Half a reply"
        assert "broke off in the middle of the reply" in bar_text(window.error_bar)
        assert controller.session.local.pid is None
