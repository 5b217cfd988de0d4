"""The Servers tab (issue 14): connections kept in the settings, their keys in the keyring only,
tests and errors in plain words, the plain-http warning once, the servers' models in the chat's
model choice. Real widgets, real loopback servers; nothing beyond 127.0.0.1 is contacted."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.config.connections import Connection
from app.config.paths import resolve_paths
from app.config.settings import load_settings
from app.gui.models.connections import ConnectionsPresenter
from app.gui.models.page_tasks import PageTasks
from app.gui.settings_store import SettingsStore
from inference.backends.remote_probe import ServerModel
from tests.support.model_hub import MemoryKeyring
from tests.support.openai_servers import ScriptedServer, free_port, json_answer, models_answer
from ui.chat.model_picker import ModelPicker
from ui.models.connections import ConnectionsPanel

WAIT_MS = 20_000


class Parts:
    def __init__(self, qtbot: QtBot, lister: object = None) -> None:
        self.paths = resolve_paths().ensure()
        self.store = SettingsStore(self.paths.settings_file)
        self.panel = ConnectionsPanel()
        self.picker = ModelPicker()
        qtbot.addWidget(self.panel)
        qtbot.addWidget(self.picker)
        self.tasks = PageTasks()
        options = {} if lister is None else {"lister": lister}
        self.presenter = ConnectionsPresenter(
            self.panel,
            self.store,
            self.picker,
            self.tasks,
            **options,  # type: ignore[arg-type]
        )

    def labels(self) -> list[str]:
        return [self.picker.itemText(i) for i in range(self.picker.count())]


@pytest.fixture
def parts(qtbot: QtBot) -> Iterator[Parts]:
    built = Parts(qtbot)
    yield built
    built.tasks.close(time.monotonic() + 5)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        scripted.route("GET", "/v1/models", models_answer("qwen", "llama"))
        yield scripted


def _result(parts: Parts) -> str:
    return parts.panel.result_label.text()


def _type(qtbot: QtBot, panel: ConnectionsPanel, name: str, url: str, key: str = "") -> None:
    panel.clear_form()
    qtbot.keyClicks(panel.name_edit, name)
    qtbot.keyClicks(panel.url_edit, url)
    if key:
        qtbot.keyClicks(panel.key_edit, key)


def test_an_added_server_lists_its_models_in_the_chat_and_its_key_only_in_the_keyring(
    qtbot: QtBot, parts: Parts, server: ScriptedServer, memory_keyring: MemoryKeyring
) -> None:
    _type(qtbot, parts.panel, "Box", server.url, "sk-secret")
    qtbot.mouseClick(parts.panel.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: parts.labels() == ["qwen · Box", "llama · Box"], timeout=WAIT_MS)
    assert load_settings(parts.paths.settings_file).connections == (Connection("Box", server.url),)
    assert "sk-secret" not in parts.paths.settings_file.read_text()
    assert memory_keyring.store[("Hearth", f"api-key {server.url}")] == "sk-secret"
    # The stored key goes with every request to that server.
    assert server.requests[-1][2].get("Authorization") == "Bearer sk-secret"
    assert "qwen, llama" in parts.panel.result_label.text()
    assert parts.panel.table.item(0, 2).text() == "stored"

    # Renamed: the chat's choice follows; removed: the key goes too.
    parts.panel.edit("Box", server.url)
    parts.panel.name_edit.setText("GPU box")
    qtbot.mouseClick(parts.panel.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: parts.labels() == ["qwen · GPU box", "llama · GPU box"], timeout=WAIT_MS
    )
    qtbot.mouseClick(parts.panel.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not memory_keyring.store, timeout=WAIT_MS)
    assert parts.labels() == [] and parts.store.settings.connections == ()


def test_test_says_what_is_wrong_in_plain_words(
    qtbot: QtBot, parts: Parts, server: ScriptedServer
) -> None:
    server.route(
        "GET", "/v1/models", lambda h: json_answer(h, 401, {"error": {"message": "bad key"}})
    )
    _type(qtbot, parts.panel, "Box", server.url, "sk-wrong")
    qtbot.mouseClick(parts.panel.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: "refused the API key" in parts.panel.result_label.text(), timeout=WAIT_MS
    )
    assert parts.store.settings.connections == ()  # a test keeps nothing

    _type(qtbot, parts.panel, "Nobody", f"http://127.0.0.1:{free_port()}")
    qtbot.mouseClick(parts.panel.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: "refused the connection" in parts.panel.result_label.text(), timeout=WAIT_MS
    )

    _type(qtbot, parts.panel, "Typo", "gpu-box:8080")
    qtbot.mouseClick(parts.panel.save_button, Qt.MouseButton.LeftButton)
    assert "is not a server address" in parts.panel.result_label.text()
    assert parts.store.settings.connections == ()


def test_plain_http_beyond_this_machine_is_warned_about_once(qtbot: QtBot) -> None:
    """No network here: the lister answers for the far server."""
    asked: list[str] = []

    def lister(url: str, _key: str | None) -> tuple[ServerModel, ...]:
        asked.append(url)
        return (ServerModel("m"),)

    built = Parts(qtbot, lister)
    try:
        _type(qtbot, built.panel, "Far", "http://10.1.2.3:8080")
        qtbot.mouseClick(built.panel.test_button, Qt.MouseButton.LeftButton)
        assert "unencrypted" in built.panel.warning_bar.label.text()
        assert not built.panel.warning_bar.isHidden()
        built.panel.warning_bar.dismiss()
        qtbot.mouseClick(built.panel.save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: built.labels() == ["m · Far"], timeout=WAIT_MS)
        assert built.panel.warning_bar.isHidden()  # said once
        _type(qtbot, built.panel, "Tunnel", "http://127.0.0.1:8080")
        qtbot.mouseClick(built.panel.save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(built.labels()) == 2, timeout=WAIT_MS)
        assert built.panel.warning_bar.isHidden()  # loopback: nothing crosses a network
    finally:
        built.tasks.close(time.monotonic() + 5)
