from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.translation.protect import MARKER, protect, restore
from app.translation.segmenter import segment_text

PROTECTED = [
    "`pip install hearth`",
    "https://example.org/a_b?x=1",
    "someone@example.com",
    "{name}",
    "%(count)s",
    "%d",
    "<b>",
    "</b>",
    "42 kg",
    "12.5%",
]
FRAGMENTS = [
    *PROTECTED,
    "Hello",
    "world",
    "Dr.",
    "e.g.",
    " ",
    "  ",
    ". ",
    "! ",
    "? ",
    "\n",
    "\r\n",
    "\n\n",
    "\t",
    "    ",
    "# ",
    "## ",
    " #",
    "- ",
    "* ",
    "1. ",
    "> ",
    "| ",
    " |",
    "|---|---|\n",
    "---",
    "[ ] ",
    "```",
    "`",
    "~~~",
    "⟦",
    "⟧",
    "⟦1⟧",
    "日本語。",
    "Straße",
    "**bold**",
    "[link](docs/a.md)",
    ",",
    "é",
    "長い文章が続いて、まだ終わらない",
    "abcdefghijklmnopqrstuvwxyz0123456789",
    "a,b;c:d",
]
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
# Units and URLs are recognised at word boundaries ("42 kgh" is no unit), so the text that
# must hide them separates fragments by spaces, as real text does.
spaced_texts = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map(" ".join)


def words(text: str) -> int:
    return len(text.split())


@settings(max_examples=400, deadline=None)
@given(texts, st.booleans(), st.sampled_from([None, 2, 3, 8]))
def test_untranslated_segments_join_back_to_the_source(
    text: str, markdown: bool, budget: int | None
) -> None:
    segmented = segment_text(
        text, markdown=markdown, budget=budget, count_tokens=words if budget else None
    )
    assert segmented.source() == text
    for segment in segmented.segments:
        # Segments never carry the layout around them (that stays literal).
        assert segment.text == segment.text.strip()
        assert restore(segment.text, segment.spans).problems == ()
        if budget is not None:
            assert words(segment.text) <= budget


@settings(max_examples=300, deadline=None)
@given(texts, st.booleans(), st.sampled_from([4, 9, 25]))
def test_text_without_spaces_is_cut_to_the_budget_and_joins_back(
    text: str, markdown: bool, budget: int
) -> None:
    # Counting characters, as a tokenizer roughly does for CJK: a run of text with no
    # spaces (or no sentence end) must still be cut to fit the context.
    segmented = segment_text(text, markdown=markdown, budget=budget, count_tokens=len)
    assert segmented.source() == text
    for segment in segmented.segments:
        assert segment.text == segment.text.strip()
        assert restore(segment.text, segment.spans).problems == ()
        # Only a lone character or marker may exceed it: cutting it would change the text.
        assert len(segment.text) <= budget or MARKER.fullmatch(segment.text), segment.text


def test_a_long_chinese_paragraph_without_full_stops_fits_the_budget() -> None:
    source = "这是一个很长的中文句子，" * 60
    segmented = segment_text(source, budget=40, count_tokens=len)
    assert len(segmented.segments) > 10
    assert all(len(s.text) <= 40 for s in segmented.segments)
    # Cut after the commas where it can, never inside a clause.
    assert all(s.text.endswith("，") for s in segmented.segments)
    assert segmented.source() == source


@settings(max_examples=300, deadline=None)
@given(spaced_texts, st.sampled_from(PROTECTED))
def test_protected_spans_never_reach_the_model(text: str, span: str) -> None:
    source = f"Start {span} middle. {text} end {span}."
    for markdown in (True, False):
        for segment in segment_text(source, markdown=markdown).segments:
            if markdown or not span.startswith("`"):  # plain text has no code spans
                assert span not in segment.text


def test_markdown_structure_stays_outside_the_model_text() -> None:
    source = (
        "# Getting started #\n"
        "\n"
        "Install it with `pip install hearth`. Then run it!\n"
        "Mail help@example.com or open https://example.org.\n"
        "\n"
        "- first item\n"
        "- [x] done item\n"
        "  2. nested number\n"
        "> quoted words\n"
        "\n"
        "| Name | Size |\n"
        "|:-----|-----:|\n"
        "| Disk | 5 GB |\n"
        "\n"
        "```python\n"
        "print('do not translate')\n"
        "```\n"
        "\n"
        "    indented code stays\n"
        "\n"
        "Hello {name}, you have %d new <b>messages</b>.\r\n"
    )
    segmented = segment_text(source)
    seen = [segment.text for segment in segmented.segments]
    assert seen == [
        "Getting started",
        # A line break after a finished sentence stays literal: the lines cannot merge.
        "Install it with ⟦1⟧. Then run it!",
        "Mail ⟦1⟧ or open ⟦2⟧.",
        "first item",
        "done item",
        "nested number",
        "quoted words",
        "Name",
        "Size",
        "Disk",
        "⟦1⟧",
        "Hello ⟦1⟧, you have ⟦2⟧ new ⟦3⟧messages⟦4⟧.",
    ]
    assert segmented.segments[10].needs_model is False
    assert segmented.segments[1].paragraph == segmented.segments[2].paragraph
    assert segmented.source() == source
    upper = segmented.join([s.restore(s.text.upper()).text for s in segmented.segments])
    assert upper.startswith("# GETTING STARTED #\n\nINSTALL IT WITH `pip install hearth`.")
    assert "| DISK | 5 GB |\n" in upper
    assert "print('do not translate')" in upper
    assert upper.endswith("HELLO {name}, YOU HAVE %d NEW <b>MESSAGES</b>.\r\n")


def test_a_line_break_inside_a_sentence_reaches_the_model_one_after_it_does_not() -> None:
    source = "Dear Ann,\nthank you for the\nlovely flowers.\nSee you soon!\nBob"
    segmented = segment_text(source)
    assert [s.text for s in segmented.segments] == [
        "Dear Ann,\nthank you for the\nlovely flowers.",
        "See you soon!",
        "Bob",
    ]
    assert {s.paragraph for s in segmented.segments} == {0}  # still one paragraph to cache
    assert segmented.source() == source


def test_budget_splits_long_paragraphs_along_sentences() -> None:
    source = "One two three. Four five six. Seven eight nine.\n\nTen."
    segmented = segment_text(source, budget=7, count_tokens=words)
    assert [s.text for s in segmented.segments] == [
        "One two three. Four five six.",
        "Seven eight nine.",
        "Ten.",
    ]
    assert [s.paragraph for s in segmented.segments] == [0, 0, 1]
    assert segmented.source() == source


def test_sentence_split_skips_abbreviations() -> None:
    source = "Dr. Smith met Mr. Jones, e.g. at noon. They left."
    segmented = segment_text(source, budget=8, count_tokens=words)
    assert [s.text for s in segmented.segments] == [
        "Dr. Smith met Mr. Jones, e.g. at noon.",
        "They left.",
    ]


def test_markers_are_numbered_per_segment() -> None:
    source = "See {a} now. See {b} now."
    segmented = segment_text(source, budget=3, count_tokens=words)
    assert [(s.text, s.spans) for s in segmented.segments] == [
        ("See ⟦1⟧ now.", ("{a}",)),
        ("See ⟦1⟧ now.", ("{b}",)),
    ]


def test_restore_reports_dropped_duplicated_and_invented_markers() -> None:
    protected = protect("Use {x} and `y`.")
    assert protected.text == "Use ⟦1⟧ and ⟦2⟧."
    result = restore("Nutze ⟦1⟧ ⟦1⟧ ⟦7⟧.", protected.spans)
    assert result.text == "Nutze {x} {x} . `y`"
    assert len(result.problems) == 3
    assert any("`y`" in p and "dropped" in p for p in result.problems)
    assert any("{x}" in p and "2 times" in p for p in result.problems)
    assert any("⟦7⟧" in p for p in result.problems)


def test_source_marker_brackets_cannot_forge_markers() -> None:
    segmented = segment_text("Literal ⟦1⟧ in the source {x}.")
    (segment,) = segmented.segments
    assert segment.spans == ("⟦", "⟧", "{x}")
    assert segmented.source() == "Literal ⟦1⟧ in the source {x}."


def test_plain_text_keeps_backticks_translatable() -> None:
    (segment,) = segment_text("Say `hi` to # people", markdown=False).segments
    assert segment.text == "Say `hi` to # people"


def test_code_in_lists_and_quotes_and_tilde_fences_stays_literal() -> None:
    # CommonMark's reading (markdown-it): fences of any length and character, in list items
    # and block quotes too; a ``` line does not close a ~~~ fence.
    source = (
        "- Run:\n"
        "\n"
        "  ```sh\n"
        "  make install\n"
        "  ```\n"
        "> ~~~\n"
        "> quoted code\n"
        "> ~~~\n"
        "\n"
        "~~~~\n"
        "```\n"
        "not text\n"
        "~~~~~\n"
        "After.\n"
    )
    segmented = segment_text(source)
    assert [s.text for s in segmented.segments] == ["Run:", "After."]
    assert segmented.source() == source


def test_headings_follow_commonmark() -> None:
    source = "# C#\n## Closed ##\n#hashtag line\n\t# tab: no heading\n### ###\n"
    segmented = segment_text(source)
    assert [s.text for s in segmented.segments] == [
        "C#",  # closing #s need a space before them
        "Closed",
        "#hashtag line\n\t# tab: no heading",  # paragraph text, one soft line break
    ]
    assert segmented.source() == source


def test_an_indented_paragraph_in_a_list_item_is_translated() -> None:
    # Four spaces in a list item are two past its content column: text, not code.
    source = "- item\n\n    more of the item\n"
    assert [s.text for s in segment_text(source).segments] == ["item", "more of the item"]
    assert [s.text for s in segment_text("Text\n\n    real code\n").segments] == ["Text"]
