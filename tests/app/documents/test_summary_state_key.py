"""The KV state key a summary request names (issue 13): its instructions alone, so every chunk
with the same options shares the engine's kept state of them, and other options do not."""

from __future__ import annotations

from app.documents.options import SummaryOptions
from app.documents.prompts import map_prompt, reduce_prompt
from app.documents.summarizer import state_key
from inference.state_files import is_fixed_part_key


def test_chunks_with_the_same_instructions_share_a_fixed_part_key() -> None:
    options = SummaryOptions()
    first = state_key(map_prompt("Report", "the dog ran", 120, options, chat=True))
    second = state_key(map_prompt("Other", "a bird sang", 120, options, chat=True))
    assert first == second
    assert is_fixed_part_key(first)


def test_other_instructions_are_another_key() -> None:
    options = SummaryOptions()
    base = state_key(map_prompt("Report", "text", 120, options, chat=True))
    assert state_key(map_prompt("Report", "text", 60, options, chat=True)) != base
    french = SummaryOptions(language="fr")
    assert state_key(map_prompt("Report", "text", 120, french, chat=True)) != base
    assert state_key(reduce_prompt("Report", "text", 120, options, chat=True)) != base


def test_a_base_models_prompt_keeps_nothing() -> None:
    """Its text to continue starts with the document: nothing is fixed."""
    assert state_key(map_prompt("Report", "text", 120, SummaryOptions(), chat=False)) == ""
