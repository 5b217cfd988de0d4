"""A summary made of Hearth's own instructions is never presented as a summary, and a model
without a chat template of its own (a base model) gets prompts it can continue (issue 10,
item 13)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.documents.model import Document, Section
from app.documents.options import SummaryOptions
from app.documents.prompts import final_messages
from app.documents.summarizer import Summarizer
from app.documents.summary_types import ECHO_FAILURE, SummaryError
from inference.protocol import EngineSettings
from inference.sync_client import SyncEngine
from storage.database import Database
from storage.documents import DocumentRepository
from tests.support.recording_engine import RecordingEngine

OPTIONS = SummaryOptions(length=40, style="bullets", language="en")
WELL = (
    "The village of Ashford got its first public well in 1852. Before that, families "
    "carried water from the river, a walk of two miles."
)
# What the built-in model wrote for this prompt (its chat prompts): the instructions back.
ECHO = (
    "You summarize documents faithfully: only what the text says, no outside knowledge, no "
    "opinions. Always write in English.\n\nSummarize the document below: "
)


def document() -> Document:
    return Document("Well", "text", "/tmp/well.txt", "e" * 64, (Section(WELL),))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DocumentRepository]:
    db, _ = Database.open(tmp_path / "hearth.db")
    yield DocumentRepository(db)
    db.close()


@pytest.fixture(scope="module")
def base_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight GGUF with no chat template, as base models come."""
    from tests.support.tiny_gguf import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("base") / "tiny-base.gguf")


def test_an_answer_that_is_the_instructions_is_not_a_summary(
    tiny_model: Path, store: DocumentRepository
) -> None:
    with SyncEngine.start(EngineSettings(model_path=str(tiny_model), n_ctx=1024)) as engine:
        recorder = RecordingEngine(engine)
        recorder.reply_for = lambda _prompt: ECHO
        with pytest.raises(SummaryError) as failure:
            Summarizer(recorder, store).summarize(document(), OPTIONS)
    assert str(failure.value) == ECHO_FAILURE
    assert "repeated its instructions" in ECHO_FAILURE
    assert not store.finals_for("e" * 64)  # nothing stored as a finished summary


def test_the_echo_is_taken_out_of_a_summary_and_the_user_is_told(
    tiny_model: Path, store: DocumentRepository
) -> None:
    with SyncEngine.start(EngineSettings(model_path=str(tiny_model), n_ctx=1024)) as engine:
        recorder = RecordingEngine(engine)
        recorder.reply_for = lambda _prompt: f"{ECHO}\n- Ashford got a public well in 1852."
        result = Summarizer(recorder, store).summarize(document(), OPTIONS)
    assert result.text == "- Ashford got a public well in 1852."
    assert result.echoed == 1 and "repeated its instructions in 1 of 1" in result.echo_note
    assert recorder.works == ["summary"]  # drafting is measured per kind (issue 13)


def test_a_base_model_is_asked_to_continue_a_text_not_given_instructions(
    base_model: Path, store: DocumentRepository
) -> None:
    with SyncEngine.start(EngineSettings(model_path=str(base_model), n_ctx=1024)) as engine:
        assert engine.info is not None and engine.info.chat_format != "model-template"
        recorder = RecordingEngine(engine)
        Summarizer(recorder, store).summarize(document(), OPTIONS)
    (prompt,) = recorder.prompts
    assert recorder.works == ["summary"]  # a raw completion names its work too
    assert prompt.startswith(f"Well\n\n{WELL}") and prompt.endswith("Key points:\n- ")
    system = final_messages("", "", OPTIONS, whole_document=True)[0].content
    assert system not in prompt and "<text>" not in prompt
