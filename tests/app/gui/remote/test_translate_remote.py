"""The Translate page's own model choice offers the servers' models too (issue 14): listed once
a connection on the Models page answered, chosen in its own session (the chat's model is left
as it is), used for a translation, and left again for the chat's model. The real remote is
llama-cpp-python's own server on the tiny model, on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.gui.translation.controller import TranslationController
from tests.support.remote_window import add_connection, unstarted_app
from tests.support.translate_page import pick, record, translation_ends, type_and_translate
from ui.translation.model_choice import CHAT_MODEL
from ui.translation.panel import TranslationPanel

CONNECT_MS = 30_000


def _items(panel: TranslationPanel) -> list[str]:
    choice = panel.model_choice
    return [choice.itemText(i) for i in range(choice.count())]


def test_a_servers_model_translates_in_the_pages_own_session(
    qtbot: QtBot, tiny_model: Path, llama_cpp_url: str
) -> None:
    with unstarted_app(qtbot, tiny_model, max_tokens=8) as (window, controller, _database):
        [panel] = window.findChildren(TranslationPanel)
        label = f"{tiny_model} · Box"
        add_connection(qtbot, window, "Box", llama_cpp_url)
        qtbot.waitUntil(lambda: label in _items(panel), timeout=CONNECT_MS)

        choice = panel.model_choice
        index = choice.findText(label)
        choice.setCurrentIndex(index)
        choice.activated.emit(index)  # what picking it does
        qtbot.waitUntil(
            lambda: panel.model_label.text() == f"{label} (translation only)", timeout=CONNECT_MS
        )
        assert choice.currentText() == label
        # The chat's session is untouched: no server model, no local engine started.
        assert controller.session.remote is None and controller.session.local.pid is None

        translation = panel.findChild(TranslationController)
        assert translation is not None
        own = translation.own
        assert own is not None and own.session.remote is not None
        recorded = record(translation.translator, max_tokens=4)
        pick(panel, "en", "de")
        window.show_page(panel)
        with translation_ends(qtbot, panel):
            type_and_translate(qtbot, panel, "Good morning.")
        assert recorded.sent  # the request went out, to the server
        assert panel.translation_text()
        assert own.session.local.pid is None

        index = choice.findText(CHAT_MODEL)
        choice.setCurrentIndex(index)
        choice.activated.emit(index)
        assert translation.own is None and choice.currentText() == CHAT_MODEL
