"""The Translate page does not say "Done." when the model repeated its instructions instead
of translating (issue 10, item 13)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from pytestqt.qtbot import QtBot

from inference.protocol import ChatMessage
from tests.support.translate_page import (
    RecordingEngine,
    pick,
    translation_ends,
    type_and_translate,
)


class EchoingEngine(RecordingEngine):
    """Answers every request with the translator's instructions, as the built-in base model
    did."""

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Any:
        done = super().chat(messages, **kwargs)
        return dataclasses.replace(done, text=messages[0].content)


def test_an_echoed_translation_is_not_called_done(
    qtbot: QtBot,
    translate_app: Any,
) -> None:
    _parts, controller = translate_app()
    panel = controller.panel
    pick(panel, "en", "fr")
    controller.translator.engine = EchoingEngine(controller.translator.engine, 4)
    with translation_ends(qtbot, panel):
        type_and_translate(qtbot, panel, "Good morning, my dear friends.")
    assert not panel.status_text().startswith("Done")
    assert panel.status_text() == "Not done: 1 of 1 passages were not translated."
    assert panel.translation_text() == "Good morning, my dear friends."  # not the instructions
    assert "repeated its instructions" in panel.flags_text()
