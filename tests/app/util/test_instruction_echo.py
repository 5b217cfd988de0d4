"""The echo detector on what the built-in Gemma 3 270M really wrote when given Hearth's chat
prompts (issue 10, item 13), and on ordinary output it must leave alone."""

from __future__ import annotations

from types import SimpleNamespace

from app.documents.options import SummaryOptions
from app.documents.prompts import final_prompt, map_prompt
from app.translation.prompt import instruction_texts
from app.util.instruction_echo import find_echo, follows_chat_prompts
from inference.protocol import ModelInfo

OPTIONS = SummaryOptions(length=40, style="bullets", language="en")
DOCUMENT = (
    "The village of Ashford got its first public well in 1852. Before that, families carried "
    "water from the river, a walk of two miles."
)

# Real outputs of the built-in model (greedy-ish sampling of the app, chat prompts).
GEMMA_SUMMARY = (
    "You summarize documents faithfully: only what the text says, no outside knowledge, no "
    "opinions. Always write in English.\n\nThe village of Ashford got its first public well "
    "in 1852. Before that, families carried water from the river, a walk of two miles."
)
GEMMA_TRANSLATION = (
    "You are a professional translator. Translate the user's text from English to French.\n"
    "Reply with the translation only: no explanations, no notes, no quotation marks around "
    "it.\nKeep markers such as ⟦1⟧ exactly as they are, where they belong in the sentence.\n"
    "Keep the"
)
# The report: the instructions, then the text between literal tags.
TAGGED = (
    "You summarize documents faithfully: only what the text says. <text>\nAshford got its "
    "well in 1852.\n</text>"
)


def summary_instructions() -> tuple[str, ...]:
    prompt = final_prompt("Well", DOCUMENT, OPTIONS, whole_document=True, chat=True)
    return prompt.instructions


def test_a_summary_that_starts_with_the_instructions_is_stripped_to_the_models_text() -> None:
    check = find_echo(GEMMA_SUMMARY, summary_instructions())
    assert check.found and not check.is_echo
    assert check.text == DOCUMENT
    assert 0.3 < check.share < 0.5


def test_literal_text_tags_count_as_echo() -> None:
    instructions = map_prompt("Well", DOCUMENT, 40, OPTIONS, chat=True).instructions
    check = find_echo(TAGGED, instructions)
    assert "<text>" not in check.text and "</text>" not in check.text
    assert check.text == "Ashford got its well in 1852."


def test_a_translation_that_is_the_instructions_is_an_echo() -> None:
    check = find_echo(GEMMA_TRANSLATION, instruction_texts("en", "fr"))
    assert check.is_echo and check.share > 0.9


def test_ordinary_output_is_left_alone() -> None:
    for output in (
        DOCUMENT,
        "- Ashford's first public well dates from 1852.\n- It was deepened in 1902.",
        "Le train part à neuf heures. Soyez sur le quai dix minutes en avance.",
        "The text says that a summary of the well is written in English.",  # no 4 in a row
    ):
        check = find_echo(output, (*summary_instructions(), *instruction_texts("en", "fr")))
        assert not check.found and check.text == output and check.share == 0.0


def test_chat_prompts_only_for_models_with_their_own_chat_template() -> None:
    def info(chat_format: str) -> ModelInfo:
        # Only the format decides; a stand-in keeps the test off ModelInfo's other fields.
        return SimpleNamespace(chat_format=chat_format)  # type: ignore[return-value]

    # The built-in model's GGUF has no template: it runs on Hearth's own Gemma format.
    assert not follows_chat_prompts(info("gemma"))
    assert follows_chat_prompts(info("model-template"))
    assert follows_chat_prompts(info("custom-template"))
    assert follows_chat_prompts(None)
