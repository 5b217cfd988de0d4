"""A server's model chosen in the chat (issue 14): remembered for the next start, which
connects to it again instead of loading a local model; a server that is down then gets a plain
message and the chat falls back to the local model. Choosing a server's model unloads the local
model from the engine process, which stays up; choosing the local model loads it again. All on
127.0.0.1: a scripted server, and a port nobody listens on."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.config.connections import Connection
from app.config.settings import load_settings
from inference.protocol import ErrorKind
from tests.support.chat_window import bar_text
from tests.support.openai_servers import ScriptedServer, free_port, models_answer
from tests.support.remote_window import add_connection, pick_remote, unstarted_app

LOAD_MS = 60_000


def _remembered(connection: Connection, model: str) -> dict[str, object]:
    return {
        "connections": (connection,),
        "remote_connection": connection.name,
        "remote_model": model,
    }


def test_a_remembered_servers_model_is_connected_at_start_and_no_local_model_loads(
    qtbot: QtBot, tiny_model: Path
) -> None:
    with ScriptedServer() as server:
        server.route("GET", "/v1/models", models_answer("big-model"))
        settings = _remembered(Connection("Box", server.url), "big-model")
        with unstarted_app(qtbot, tiny_model, **settings) as (window, controller, _db):
            session = controller.session
            with qtbot.waitSignal(session.loaded, timeout=LOAD_MS) as loaded:
                controller.start()
            assert session.remote is not None and session.remote.label == "big-model · Box"
            assert loaded.args[0].name == "big-model"
            assert window.model_picker.currentText() == "big-model · Box"
            assert session.local.pid is None  # no local engine process was started


def test_a_server_down_at_start_says_so_and_the_chat_uses_the_local_model(
    qtbot: QtBot, tiny_model: Path
) -> None:
    down = Connection("Gone", f"http://127.0.0.1:{free_port()}")
    with unstarted_app(qtbot, tiny_model, **_remembered(down, "big-model")) as parts:
        window, controller, _database = parts
        session = controller.session
        with qtbot.waitSignal(session.loaded, timeout=LOAD_MS) as loaded:
            controller.start()
        assert Path(loaded.args[0].path) == tiny_model
        assert session.remote is None
        message = bar_text(window.error_bar)
        assert "127.0.0.1" in message and "uses the local model meanwhile" in message
        # The choice stays: the server may be up at the next start.
        kept = load_settings(session.paths.settings_file)
        assert (kept.remote_connection, kept.remote_model) == ("Gone", "big-model")


def test_a_remembered_choice_whose_connection_is_gone_loads_the_local_model(
    qtbot: QtBot, tiny_model: Path
) -> None:
    settings = {"remote_connection": "Removed", "remote_model": "big-model"}
    with unstarted_app(qtbot, tiny_model, **settings) as (_window, controller, _db):
        with qtbot.waitSignal(controller.session.loaded, timeout=LOAD_MS) as loaded:
            controller.start()
        assert Path(loaded.args[0].path) == tiny_model
        kept = load_settings(controller.session.paths.settings_file)
        assert (kept.remote_connection, kept.remote_model) == ("", "")


def test_choosing_a_servers_model_unloads_the_local_one_and_choosing_it_back_reloads_it(
    qtbot: QtBot, tiny_model: Path
) -> None:
    with ScriptedServer() as server, unstarted_app(qtbot, tiny_model) as parts:
        window, controller, _database = parts
        server.route("GET", "/v1/models", models_answer("big-model"))
        session = controller.session
        with qtbot.waitSignal(session.loaded, timeout=LOAD_MS):
            controller.start()
        pid = session.local.pid
        assert pid is not None

        add_connection(qtbot, window, "Box", server.url)
        with qtbot.waitSignal(session.local.modelUnloaded, timeout=LOAD_MS):
            pick_remote(qtbot, window, controller, "big-model · Box")
        kept = load_settings(session.paths.settings_file)
        assert (kept.remote_connection, kept.remote_model) == ("Box", "big-model")
        assert kept.model_path == str(tiny_model)  # the local model to go back to
        # The engine process stays up with no model in it.
        assert session.local.pid == pid
        with qtbot.waitSignal(session.local.requestFailed, timeout=LOAD_MS) as failed:
            session.local.count_tokens("hello")
        assert failed.args[1] == ErrorKind.NOT_LOADED

        # What picking it in the list does (test_local_choice_listed.py picks it in the list).
        with qtbot.waitSignal(session.loaded, timeout=LOAD_MS) as loaded:
            window.model_picker.modelChosen.emit(str(tiny_model))
        assert Path(loaded.args[0].path) == tiny_model and session.remote is None
        assert session.local.pid == pid  # loaded again in the same process
        kept = load_settings(session.paths.settings_file)
        assert (kept.remote_connection, kept.remote_model) == ("", "")
