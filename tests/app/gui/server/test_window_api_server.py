"""Hearth's API server run by the window (issue 14): switched on in the "API server" dialog,
served by the window's own engine through the same queue, logged in the dialog, stopped with
the window. A real window and engine (tiny model), the official `openai` client over
loopback."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import keyring
import openai
import pytest
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from storage.chats import ConversationRepository
from tests.support.app_parts import MakeApp
from tests.support.chat_window import type_and_send
from tests.support.window_api import (
    Call,
    MemoryKeyring,
    StreamReader,
    client,
    presenter_of,
    use_keyring,
)

GREEDY = {"temperature": 0, "seed": 7}
HI = [{"role": "user", "content": "hello there"}]


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    memory = MemoryKeyring()
    previous = use_keyring(memory)
    yield memory
    keyring.set_keyring(previous)


def test_switched_on_in_the_window_it_serves_the_windows_engine_and_logs_each_request(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, database = make_app(tiny_model, n_ctx=1024, max_tokens=4)
    chats_before = len(ConversationRepository(database).list_recent())
    presenter = presenter_of(window)
    dialog = presenter.dialog
    assert not window.api_status.isVisible()
    assert window.api_server_action.text().replace("&", "") == "API server…"

    window.api_server_action.trigger()
    assert dialog.isVisible()
    assert (dialog.host.text(), dialog.port.value()) == ("127.0.0.1", 8080)  # the defaults
    dialog.port.setValue(0)  # any free port: tests run side by side
    dialog.switch.click()

    base_url = presenter.base_url
    assert base_url is not None and base_url.startswith("http://127.0.0.1:")
    assert dialog.address.text() == base_url and dialog.switch.isChecked()
    assert not dialog.port.isEnabled()  # fields change only while it is off
    assert window.api_status.isVisible()
    assert window.api_status.text() == "API: " + base_url.removeprefix("http://")[: -len("/v1")]
    assert controller.session.store.settings.api_server_enabled
    qtbot.mouseClick(dialog.copy_button, _left())
    assert QGuiApplication.clipboard().text() == base_url

    api = client(base_url)
    models = Call(lambda: api.models.list().data).wait(qtbot)
    assert [m.id for m in models] == [tiny_model.stem]
    stream = StreamReader(
        lambda: api.chat.completions.create(
            model=tiny_model.stem,
            messages=HI,
            max_tokens=8,
            stream=True,
            stream_options={"include_usage": True},
            **GREEDY,
        )
    )
    chunks = stream.wait(qtbot)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 8

    # The window's one engine served it: no second engine process, nothing stored as a chat.
    assert len(multiprocessing.active_children()) == 1
    assert len(ConversationRepository(database).list_recent()) == chats_before
    # Replies and refusals are logged (a models list is not).
    qtbot.waitUntil(lambda: len(dialog.log_model.rows()) == 1)
    [chat_row] = dialog.log_model.rows()
    assert chat_row.endpoint == "/v1/chat/completions (stream)"
    assert chat_row.model == tiny_model.stem and chat_row.status == "200 OK"
    assert chat_row.completion_tokens == "8" and chat_row.prompt_tokens
    assert chat_row.first_token.endswith(" ms") and chat_row.speed.endswith(" tok/s")

    dialog.switch.click()  # off
    assert presenter.base_url is None and dialog.address.text() == "Off"
    assert not window.api_status.isVisible() and dialog.port.isEnabled()
    assert not controller.session.store.settings.api_server_enabled
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(base_url.removesuffix("/v1") + "/health")


@pytest.mark.skipif(sys.platform == "win32", reason="needs Unix's greedy tiny-model run")
def test_a_chat_turn_typed_in_the_window_goes_before_a_streaming_api_request(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    # Left on: the window starts its server at launch. Flash attention off: the greedy run
    # below reaches max_tokens on the tiny model without it (with it, llama.cpp's other
    # attention kernel rounds differently and the run meets an end token at 1,128).
    window, controller, _db = make_app(
        tiny_model,
        n_ctx=2048,
        max_tokens=4,
        api_server_enabled=True,
        api_server_port=0,
        flash_attn="off",
    )
    presenter = presenter_of(window)
    base_url = presenter.base_url
    assert base_url is not None and window.api_status.isVisible()
    window.api_server_action.trigger()
    assert presenter.dialog.fields() == ("127.0.0.1", 0, "")  # what it runs with
    assert presenter.dialog.address.text() == base_url
    finished: list[str] = []
    controller.replyFinished.connect(lambda _message_id: finished.append("window"))
    api = client(base_url)
    # Greedy, this prompt runs to max_tokens on the tiny model (no end token): seconds of
    # generation left when its first text arrives.
    stream = StreamReader(
        lambda: api.completions.create(
            model="x", prompt="hello there", max_tokens=2000, stream=True, **GREEDY
        ),
        on_end=lambda: finished.append("api"),
    )
    qtbot.waitUntil(stream.first.is_set, timeout=60_000)

    type_and_send(qtbot, window, "Hi")
    chunks = stream.wait(qtbot)

    # The person typing went first: their reply ended while the API request still streamed,
    # which waited (paused) for it.
    assert finished == ["window", "api"]
    last = chunks[-1]
    assert last.choices[0].finish_reason == "length"
    assert last.model_extra["timings"]["predicted_n"] == 2000
    assert last.model_extra["timings"]["queued_ms"] > 0


def test_closing_the_window_ends_open_streams_and_stops_the_server_and_the_engine(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, _db = make_app(
        tiny_model, n_ctx=2048, api_server_enabled=True, api_server_port=0
    )
    base_url = presenter_of(window).base_url
    assert base_url is not None
    api = client(base_url)
    stream = StreamReader(
        lambda: api.completions.create(
            model="x", prompt="hello there", max_tokens=2000, stream=True, **GREEDY
        )
    )
    qtbot.waitUntil(stream.first.is_set, timeout=60_000)

    controller.shutdown()  # what closing the window does (app/gui/main.py run_gui)

    stream.finish(qtbot)  # ended, not left hanging
    assert isinstance(stream.error, openai.APIError)
    assert "closing" in str(stream.error) or "switched off" in str(stream.error)
    assert not controller.session.client.running
    assert multiprocessing.active_children() == []
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(base_url.removesuffix("/v1") + "/health")


def test_a_model_switch_or_an_engine_crash_ends_an_open_stream_with_an_error(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path
) -> None:
    window, controller, _db = make_app(
        tiny_model, n_ctx=2048, api_server_enabled=True, api_server_port=0
    )
    presenter = presenter_of(window)
    assert presenter.base_url is not None
    api = client(presenter.base_url)

    def long_stream() -> StreamReader:
        return StreamReader(
            lambda: api.completions.create(
                model="x", prompt="hello there", max_tokens=2000, stream=True, **GREEDY
            )
        )

    switched = long_stream()
    qtbot.waitUntil(switched.first.is_set, timeout=60_000)
    with qtbot.waitSignal(controller.session.loaded, timeout=60_000):
        controller.session.switch(str(tiny_model))
    switched.finish(qtbot)
    assert isinstance(switched.error, openai.APIError)
    assert "switched to another model" in str(switched.error)

    crashed = long_stream()
    qtbot.waitUntil(crashed.first.is_set, timeout=60_000)
    pid = controller.session.client.pid
    assert pid is not None
    with qtbot.waitSignal(controller.session.crashed, timeout=30_000):
        os.kill(pid, signal.SIGKILL)
    crashed.finish(qtbot)
    assert isinstance(crashed.error, openai.APIError)
    # Until the window reloads, the server says why it cannot answer.
    with pytest.raises(openai.APIStatusError) as unavailable:
        Call(lambda: api.models.list()).wait(qtbot)
    assert unavailable.value.status_code == 503
    statuses = [row.status for row in presenter.dialog.log_model.rows()]
    assert statuses[0].startswith("503") and statuses.count("200 OK") == 0


def test_a_port_in_use_or_a_public_address_without_a_key_is_a_plain_message(
    qtbot: QtBot, make_app: MakeApp, tiny_model: Path, memory_keyring: MemoryKeyring
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # Left on, at launch: the window says why, and runs without its server.
        window, controller, _db = make_app(
            tiny_model, api_server_enabled=True, api_server_port=port
        )
        presenter = presenter_of(window)
        dialog = presenter.dialog
        assert presenter.base_url is None and not window.api_status.isVisible()
        assert f"cannot listen on 127.0.0.1:{port}" in window.error_bar.label.text()

        window.api_server_action.trigger()
        dialog.switch.click()
        assert not dialog.switch.isChecked() and presenter.base_url is None
        assert "in use" in dialog.message.label.text()
        assert not controller.session.store.settings.api_server_enabled

    dialog.host.setText("0.0.0.0")
    dialog.port.setValue(0)
    dialog.switch.click()
    assert not dialog.switch.isChecked() and presenter.base_url is None
    assert "give an API key" in dialog.message.label.text()

    # With a key it starts, keeps the key in the keyring (never in the settings file) and
    # asks every client for it. Loopback still: tests never listen beyond this machine.
    dialog.host.setText("127.0.0.1")
    dialog.key.setText("s3cret")
    dialog.switch.click()
    base_url = presenter.base_url
    assert base_url is not None and dialog.switch.isChecked()
    assert memory_keyring.get_password("Hearth", "api-server-key") == "s3cret"
    assert "s3cret" not in controller.session.store.path.read_text(encoding="utf-8")
    with pytest.raises(openai.AuthenticationError):
        Call(lambda: client(base_url, "wrong").models.list()).wait(qtbot)
    assert Call(lambda: client(base_url, "s3cret").models.list()).wait(qtbot).data
    qtbot.waitUntil(lambda: len(dialog.log_model.rows()) == 1)
    assert dialog.log_model.rows()[0].status == "401 Unauthorized"


def _left():  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
