"""The one sentence splitter documents and translation share."""

from __future__ import annotations

import pytest

from app.languages.sentences import sentence_breaks


def sentences(text: str, start: int = 0, end: int | None = None) -> list[str]:
    """The sentences of text[start:end] with the whitespace between them dropped."""
    pieces, cursor = [], start
    for sentence_end, next_start in sentence_breaks(text, start, end):
        pieces.append(text[cursor:sentence_end])
        cursor = next_start
    pieces.append(text[cursor:end])
    return pieces


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four… Five", ["One.", "Two!", "Three?", "Four…", "Five"]),
        ("Wait!! Really?! Yes", ["Wait!!", "Really?!", "Yes"]),
        # closing quotes and brackets stay with their sentence
        ('He said "Go." Then left.', ['He said "Go."', "Then left."]),
        ("(See above.) Next one", ["(See above.)", "Next one"]),
        ("«C'est fini.» Oui", ["«C'est fini.»", "Oui"]),
        ("She wrote ‘done.’ It was", ["She wrote ‘done.’", "It was"]),
    ],
)
def test_western_sentences_end_at_punctuation_before_whitespace(
    text: str, expected: list[str]
) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Pi is 3.14 and e is 2.72 exactly",  # decimals
        "Ask Dr. Smith and Mr. Jones",  # abbreviations
        "Many fruits, e.g. Apples, etc. Pears",
        "See fig. 3 and cf. Table 2",
        "Written by J. R. R. Tolkien",  # initials
        "It went on... and on",  # lower case after an ellipsis
        "The file ends here. ",  # nothing follows the last break
        "See www.example.com today",
    ],
)
def test_no_break_where_a_sentence_goes_on(text: str) -> None:
    assert list(sentence_breaks(text)) == []


def test_cjk_full_stops_need_no_space() -> None:
    assert sentences("今天很好。明天下雨！真的吗？是的") == [
        "今天很好。",
        "明天下雨！",
        "真的吗？",
        "是的",
    ]
    assert sentences("「行こう。」と言った。そして") == ["「行こう。」", "と言った。", "そして"]
    assert sentences("我说（好。）然后") == ["我说（好。）", "然后"]


def test_the_gap_between_sentences_is_the_whitespace() -> None:
    text = "First one.  \n Second one."
    ((sentence_end, next_start),) = sentence_breaks(text)
    assert text[:sentence_end] == "First one."
    assert text[sentence_end:next_start] == "  \n "


def test_only_breaks_inside_the_bounds_are_found() -> None:
    text = "Skip. This one. And this. Not this."
    start, end = text.index("This"), text.index(" Not")
    assert sentences(text, start, end) == ["This one.", "And this."]
    # the word before a full stop is read from inside the bounds only
    assert sentences("xDr. Who", 1) == ["Dr. Who"]
