"""A translation that is Hearth's instructions again is never reported as done (issue 10,
item 13: the built-in model's "translation" was the translator instruction, with "Done. 1
paragraph translated.")."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from app.translation.glossary import Glossary
from app.translation.prompt import instruction_texts, system_prompt
from app.translation.translator import Translator
from app.util.instruction_echo import find_echo
from inference.protocol import ChatMessage, Done, EngineSettings
from inference.sync_client import SyncEngine

TEXT = "The train leaves at nine.\n\nPlease be on the platform ten minutes early with your ticket."


class EchoingEngine:
    """The real tiny engine, answering the first `echoes` requests with the system prompt,
    as the built-in base model did."""

    def __init__(self, engine: SyncEngine, echoes: int) -> None:
        self.engine = engine
        self.echoes = echoes
        self.requests = 0

    @property
    def n_ctx(self) -> int:
        return self.engine.n_ctx

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Done:
        self.requests += 1
        kwargs["max_tokens"] = 4
        done = self.engine.chat(messages, **kwargs)
        if self.requests <= self.echoes:
            done = dataclasses.replace(done, text=messages[0].content)
        return done

    def count_tokens(self, text: str) -> int:
        return self.engine.count_tokens(text)

    def cancel(self) -> None:
        self.engine.cancel()


def test_an_echoed_passage_is_kept_as_in_the_source_flagged_and_sent_again(
    tiny_model: Path,
) -> None:
    with SyncEngine.start(EngineSettings(model_path=str(tiny_model), n_ctx=512)) as sync:
        engine = EchoingEngine(sync, echoes=1)
        translator = Translator(engine)
        result = translator.translate(TEXT, target_lang="fr", source_lang="en")
        assert result.echoed == 1 and result.segments_sent == 2
        assert result.text.startswith("The train leaves at nine.\n\n")
        assert "professional translator" not in result.text
        assert result.warning == (
            "The model repeated its instructions instead of translating 1 of 2 passages (they "
            "are left as in the source). A chat (instruction-tuned) model works better."
        )
        assert result.flags[0] == result.warning
        assert result.not_done_status == "Not done: 1 of 2 passages were not translated."
        # Not cached as a translation: asked again, the passage goes to the model again.
        again = translator.translate(TEXT, target_lang="fr", source_lang="en")
        assert again.segments_sent == 1 and not again.warning


@pytest.mark.slow
def test_the_built_in_model_on_chat_prompts_echoes_and_is_not_called_done(
    gemma_model: Path,
) -> None:
    text = "The train leaves at nine. Please be on the platform ten minutes early."
    settings = EngineSettings(model_path=str(gemma_model), n_ctx=1024)
    with SyncEngine.start(settings) as engine:
        chat = Translator(engine, prompts="chat").translate(
            text, target_lang="fr", source_lang="en"
        )
        auto = Translator(engine).translate(text, target_lang="fr", source_lang="en")
    # The chat prompt's answer was the instructions: flagged, the source kept.
    assert chat.echoed == 1 and chat.text == text and chat.warning
    # The built-in model gets a text to continue instead: no instruction comes back.
    instructions = (*instruction_texts("en", "fr"), system_prompt("en", "fr", Glossary()))
    assert not find_echo(auto.text, instructions).found
    assert auto.echoed == 0
