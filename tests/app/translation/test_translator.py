from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from app.translation.glossary import Glossary, Term
from app.translation.translator import TranslationCancelled, Translator
from inference.protocol import ChatMessage, EngineSettings
from inference.state_files import is_fixed_part_key
from inference.sync_client import SyncEngine

SOURCE = (
    "# Welcome\n"
    "\n"
    "Hello {name}, open https://example.org now. Read the guide.\n"
    "\n"
    "- first item\n"
    "- second item\n"
    "\n"
    "```\n"
    "code stays\n"
    "```\n"
)


class RecordingEngine:
    """The real engine, with the user text of every chat request recorded."""

    def __init__(self, engine: SyncEngine) -> None:
        self.engine = engine
        self.sent: list[str] = []
        self.all_messages: list[Sequence[ChatMessage]] = []

    @property
    def n_ctx(self) -> int:
        return self.engine.n_ctx

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Any:
        self.sent.append(messages[-1].content)
        self.all_messages.append(messages)
        kwargs["max_tokens"] = 8  # gibberish anyway: keep the test fast
        return self.engine.chat(messages, **kwargs)

    def count_tokens(self, text: str) -> int:
        return self.engine.count_tokens(text)

    def cancel(self) -> None:
        self.engine.cancel()


@pytest.fixture
def engine(tiny_model: Path) -> Iterator[RecordingEngine]:
    with SyncEngine.start(EngineSettings(model_path=str(tiny_model), n_ctx=512)) as sync:
        yield RecordingEngine(sync)


def test_every_segment_is_sent_once_in_order_and_structure_is_kept(
    engine: RecordingEngine,
) -> None:
    translator = Translator(engine, model_name="tiny")
    expected = [s.text for s in translator.segment(SOURCE).segments if s.needs_model]
    progress: list[tuple[int, int]] = []
    streamed: list[str] = []
    result = translator.translate(
        SOURCE,
        source_lang="en",
        target_lang="fr",
        on_progress=lambda done, total, _left: progress.append((done, total)),
        on_delta=streamed.append,
    )
    assert engine.sent == expected
    assert expected[1] == "Hello ⟦1⟧, open ⟦2⟧ now. Read the guide."
    # The previous segment travels as context: a finished user/assistant turn.
    second = engine.all_messages[1]
    assert [m.role for m in second] == ["system", "user", "assistant", "user"]
    assert second[1].content == expected[0]
    assert "French" in second[0].content and "English" in second[0].content
    assert result.segments_sent == len(expected)
    assert progress[-1] == (len(expected), len(expected))
    text = result.text
    assert text.startswith("# ")
    assert "{name}" in text and "https://example.org" in text
    assert "\n\n- " in text and text.endswith("\n\n```\ncode stays\n```\n")
    assert streamed[0] == "# "


def test_cache_resends_only_changed_paragraphs(engine: RecordingEngine) -> None:
    translator = Translator(engine, model_name="tiny")
    first = translator.translate(SOURCE, source_lang="en", target_lang="de")
    engine.sent.clear()
    again = translator.translate(SOURCE, source_lang="en", target_lang="de")
    assert engine.sent == [] and again.text == first.text and again.segments_sent == 0
    edited = SOURCE.replace("second item", "changed item")
    translator.translate(edited, source_lang="en", target_lang="de")
    assert engine.sent == ["changed item"]
    engine.sent.clear()
    # Another glossary, language or model is another cache entry.
    glossary = Glossary((Term("item", "Punkt"),))
    translator.translate(edited, source_lang="en", target_lang="de", glossary=glossary)
    assert "first item" in engine.sent and "Welcome" in engine.sent
    assert '"item" → "Punkt"' in engine.all_messages[-1][0].content


def test_cancel_stops_after_the_running_segment(engine: RecordingEngine) -> None:
    translator = Translator(engine)
    with pytest.raises(TranslationCancelled) as caught:
        translator.translate(
            SOURCE,
            target_lang="fr",
            on_progress=lambda done, total, left: translator.cancel(),
        )
    assert len(engine.sent) == 1
    assert caught.value.partial.startswith("# ")


def test_back_translation_swaps_languages(engine: RecordingEngine) -> None:
    translator = Translator(engine)
    result = translator.back_translate("Bonjour le monde.", source_lang="en", target_lang="fr")
    assert engine.sent == ["Bonjour le monde."]
    assert "from French to English" in engine.all_messages[0][0].content
    assert result.segments_total == 1


def test_long_text_is_split_to_fit_the_context(engine: RecordingEngine) -> None:
    translator = Translator(engine)
    long_text = " ".join(f"Sentence number {i} is here." for i in range(150))
    segmented = translator.segment(long_text)
    assert len(segmented.segments) > 1
    budget = translator.token_budget()
    assert all(engine.count_tokens(s.text) <= budget for s in segmented.segments)
    assert segmented.source() == long_text


@pytest.mark.slow
def test_gemma_translates_two_paragraphs_to_french(gemma_model: Path) -> None:
    source = "The cat sleeps on the sofa.\n\nThe dog plays in the garden."
    with SyncEngine.start(EngineSettings(model_path=str(gemma_model), n_ctx=2048)) as sync:
        result = Translator(sync, model_name="gemma").translate(
            source, source_lang="en", target_lang="fr"
        )
    paragraphs = result.text.split("\n\n")
    assert len(paragraphs) == 2, result.text
    assert all(p.strip() for p in paragraphs)
    assert result.segments_sent == 2


def test_text_without_spaces_or_full_stops_is_split_to_fit_the_context(
    engine: RecordingEngine,
) -> None:
    # Chinese written with commas only, and a long unbroken token string: no sentence
    # end and no space to cut at, yet every request must fit the model's context.
    translator = Translator(engine)
    budget = translator.token_budget()
    for long_text in ("这是一个很长的中文句子，我们继续写下去，" * 80, "a1b2c3d4" * 300):
        segmented = translator.segment(long_text)
        assert len(segmented.segments) > 1
        assert all(engine.count_tokens(s.text) <= budget for s in segmented.segments)
        assert segmented.source() == long_text


class ScriptedEngine:
    """Answers each request with the next scripted reply (a pure test double)."""

    n_ctx = 4096

    def __init__(self, replies: list[str]) -> None:
        self.replies = replies

    def chat(self, messages: Sequence[ChatMessage], **_kwargs: Any) -> Any:
        return type("Reply", (), {"text": self.replies.pop(0)})()

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def cancel(self) -> None:
        pass


def test_lost_emphasis_and_line_breaks_are_flagged() -> None:
    source = "Press **Save** now, or *wait*.\n\nThe first line\ngoes on here.\n\nAll **fine** here."
    engine = ScriptedEngine(
        [
            "Drücken Sie jetzt Speichern oder *warten* Sie.",  # the bold was dropped
            "Die erste Zeile geht hier weiter.",  # the line break was dropped
            "Alles **gut** hier.",
        ]
    )
    result = Translator(engine).translate(source, source_lang="en", target_lang="de")
    assert result.flags == (
        'the bold/italic marks of "Press **Save** now, or *wait*." were changed by the model',
        'the line breaks of "The first line goes on here." were changed by the model',
    )
    assert result.text.endswith("\n\nAlles **gut** hier.")


class KeyRecorder:
    """Records the state key of each chat request; replies with the text unchanged."""

    n_ctx = 2048
    info = None

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.works: list[str] = []

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Any:
        self.keys.append(kwargs.get("state_key", ""))
        self.works.append(kwargs.get("work", ""))
        return SimpleNamespace(text="Bonjour " + messages[-1].content)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def cancel(self) -> None:
        pass


def test_segments_name_their_instructions_fixed_part_key() -> None:
    """Issue 13: every segment of a translation names one key for the system prompt (the
    instructions, the language pair, the whole glossary), so the engine keeps its KV state."""
    engine = KeyRecorder()
    translator = Translator(engine, prompts="chat")  # type: ignore[arg-type]
    translator.translate("One cat.\n\nTwo dogs.", target_lang="fr", source_lang="en")
    translator.translate("Three birds.", target_lang="de", source_lang="en")
    fr, fr_again, de = engine.keys
    assert fr == fr_again and is_fixed_part_key(fr)
    assert de != fr
    assert engine.works == ["translation"] * 3  # drafting is measured per kind (issue 13)
