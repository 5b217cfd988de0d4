"""A local model outside the models folder (chosen by path in the settings, or with --model)
stays in the chat's model list while a server's model is in use (issue 15): it was listed
only while it was loaded, so after picking a server's model there was no way back to it from
the list. The real window with its pages; a scripted server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.config.connections import Connection
from tests.support.models_page import wait_page_tasks
from tests.support.openai_servers import ScriptedServer, models_answer
from tests.support.remote_window import add_connection, pick_remote, unstarted_app
from ui.chat.model_picker import ModelPicker

LOAD_MS = 60_000


def listed(picker: ModelPicker, model: Path) -> int:
    """The picker's row for the local `model` (-1: not offered)."""
    return picker.findData(str(model.resolve()))


def test_a_model_chosen_by_path_stays_listed_while_a_servers_model_is_in_use(
    qtbot: QtBot, tiny_model: Path
) -> None:
    with ScriptedServer() as server, unstarted_app(qtbot, tiny_model) as parts:
        window, controller, _database = parts
        server.route("GET", "/v1/models", models_answer("big-model"))
        session, picker = controller.session, window.model_picker
        with qtbot.waitSignal(session.loaded, timeout=LOAD_MS):
            controller.start()
        wait_page_tasks(qtbot)
        assert listed(picker, tiny_model) >= 0

        add_connection(qtbot, window, "Box", server.url)
        pick_remote(qtbot, window, controller, "big-model · Box")
        wait_page_tasks(qtbot)  # the Models page lists the models again after every load
        assert picker.currentText() == "big-model · Box"
        index = listed(picker, tiny_model)
        assert index >= 0, [picker.itemText(i) for i in range(picker.count())]

        # Back to it from the list, as the user does.
        with qtbot.waitSignal(session.loaded, timeout=LOAD_MS) as loaded:
            picker.setCurrentIndex(index)
            picker.activated.emit(index)
        assert Path(loaded.args[0].path) == tiny_model and session.remote is None


def test_the_local_model_is_listed_when_a_remembered_servers_model_is_used_at_start(
    qtbot: QtBot, tiny_model: Path
) -> None:
    with ScriptedServer() as server:
        server.route("GET", "/v1/models", models_answer("big-model"))
        settings = {
            "connections": (Connection("Box", server.url),),
            "remote_connection": "Box",
            "remote_model": "big-model",
        }
        with unstarted_app(qtbot, tiny_model, **settings) as (window, controller, _db):
            with qtbot.waitSignal(controller.session.loaded, timeout=LOAD_MS):
                controller.start()
            wait_page_tasks(qtbot)
            picker = window.model_picker
            assert picker.currentText() == "big-model · Box"
            assert listed(picker, tiny_model) >= 0
