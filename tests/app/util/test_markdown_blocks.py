"""Headings and code blocks as CommonMark reads them: the cases the hand-written scanners that
this replaced got wrong (~~~ fences, longer closing fences, fences in lists, `#` rules)."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.util import markdown_blocks
from app.util.markdown_blocks import CodeBlock, Heading, iter_lines, read_blocks, read_lines


def _headings(text: str) -> list[tuple[int, int, str]]:
    return [(h.start, h.level, h.text) for h in read_blocks(text).headings]


@pytest.mark.parametrize(
    ("line", "level", "text"),
    [
        ("# Title", 1, "Title"),
        ("###### Six", 6, "Six"),
        ("## Closed ##", 2, "Closed"),
        ("## Closed longer #######   ", 2, "Closed longer"),
        ("   ### Three spaces before", 3, "Three spaces before"),
        ("#\tTab after the hashes", 1, "Tab after the hashes"),
        # A closing sequence needs a space before it: these #s are the text's.
        ("# C#", 1, "C#"),
        ("# F# and C##", 1, "F# and C##"),
        ("# Keeps *inline* `markup`", 1, "Keeps *inline* `markup`"),
        ("#", 1, ""),
        ("### ###", 3, ""),
    ],
)
def test_atx_headings(line: str, level: int, text: str) -> None:
    (heading,) = read_blocks(line + "\n").headings
    assert (heading.start, heading.end, heading.level, heading.text) == (0, 1, level, text)
    assert not heading.setext and not heading.nested


@pytest.mark.parametrize(
    "line",
    [
        "#hashtag",  # no space after the hashes
        "#5 bolt",
        "####### seven",
        "    # four spaces make code",
        "\t# a tab is four columns: code",
        "\\# escaped",
    ],
)
def test_not_headings(line: str) -> None:
    assert read_blocks(line + "\n").headings == ()


def test_setext_headings_span_their_text_and_underline() -> None:
    text = "Intro\n\nTitle\n=====\n\nTwo line\nsubtitle\n---\n\nText\n"
    assert read_blocks(text).headings == (
        Heading(2, 4, 1, "Title", setext=True, nested=False),
        Heading(5, 8, 2, "Two line subtitle", setext=True, nested=False),
    )


def test_a_rule_after_a_blank_line_is_no_heading() -> None:
    assert read_blocks("Text\n\n---\n\nMore\n").headings == ()


def test_headings_in_quotes_and_lists_are_nested() -> None:
    text = "> # Quoted\n\n- # Listed\n\n# Top\n"
    assert [(h.start, h.text, h.nested) for h in read_blocks(text).headings] == [
        (0, "Quoted", True),
        (2, "Listed", True),
        (4, "Top", False),
    ]


def test_hashes_inside_code_are_no_headings() -> None:
    text = "```\n# one\n```\n~~~\n# two\n~~~\n\n    # three\n\n# Real\n"
    assert _headings(text) == [(9, 1, "Real")]


def test_fences_and_indented_code() -> None:
    text = "Text\n\n```python\ncode\n```\n\n    indented\n    more\n\n~~~~\n~~~\n~~~~~\nend\n"
    blocks = read_blocks(text)
    assert blocks.code_blocks == (
        CodeBlock(2, 5, "```", closed=True, nested=False),
        CodeBlock(6, 8, "", closed=True, nested=False),
        # A shorter fence does not close it; a longer one of the same character does.
        CodeBlock(9, 12, "~~~~", closed=True, nested=False),
    )
    assert blocks.code_lines() == {2, 3, 4, 6, 7, 9, 10, 11}
    assert blocks.open_fence is None


@pytest.mark.parametrize(
    ("text", "fence"),
    [
        ("```python\nrows.sort(\n", "```"),
        ("```python\nrows.sort(", "```"),
        ("```", "```"),
        ("````\n```\nstill code\n", "````"),  # shorter: no close
        ("~~~\n```\nstill code\n", "~~~"),  # other character: no close
        ("```\none\n```\n\n~~~\ntwo\n", "~~~"),  # the last one counts
        ("   ```\nindented fence\n", "```"),
        ("```\ncode\n```text\n", "```"),  # text after the marks: no close
    ],
)
def test_a_fence_left_open(text: str, fence: str) -> None:
    blocks = read_blocks(text)
    assert blocks.open_fence == fence
    assert blocks.code_blocks[-1].end == len(text.splitlines())


@pytest.mark.parametrize(
    "text",
    [
        "```\ncode\n```",  # closed on the last line, no line break after
        "```\ncode\n```\n",
        "```\n```\n",
        "```\ncode\n`````  \n",  # longer closing fence, spaces after
        "~~~\n```\n~~~\n",
        "``` a`b\nnot a fence: backticks in a backtick fence's info\n",
        "~~~ a`b\ncode\n~~~\n",
        "    ```\n    indented code, not a fence\n",
        "Text with ``` in it\n",
    ],
)
def test_no_fence_left_open(text: str) -> None:
    assert read_blocks(text).open_fence is None


def test_a_fence_left_open_in_a_list_or_quote_ends_with_it() -> None:
    # The next unindented (or unquoted) line ends the item and the code: nothing to close.
    for text in ("- Steps:\n\n  ```sh\n  make\n", "> ```\n> code\n"):
        (block,) = read_blocks(text).code_blocks
        assert block.nested and not block.closed
        assert read_blocks(text).open_fence is None


def test_fences_in_lists_and_quotes_are_code() -> None:
    text = "- item\n\n  ```\n  code\n  ```\n> ~~~\n> quoted code\n> ~~~\n"
    assert read_blocks(text).code_blocks == (
        CodeBlock(2, 5, "```", closed=True, nested=True),
        CodeBlock(5, 8, "~~~", closed=True, nested=True),
    )


def test_an_indented_paragraph_in_a_list_item_is_no_code() -> None:
    # Four spaces, but only two past the item's content column.
    assert read_blocks("- item\n\n    more of the item\n").code_blocks == ()


def test_indented_code_cannot_interrupt_a_paragraph() -> None:
    assert read_blocks("Text\n    still the paragraph\n").code_blocks == ()


def test_raw_html_is_read_as_text() -> None:
    # As Hearth renders it: a heading or fence under an HTML line stays one.
    blocks = read_blocks("<div>\n# Heading\n```\ncode\n```\n</div>\n")
    assert _headings("<div>\n# Heading\n") == [(1, 1, "Heading")]
    assert blocks.code_blocks == (CodeBlock(2, 5, "```", closed=True, nested=False),)


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_lines_are_numbered_at_any_line_break(eol: str) -> None:
    text = eol.join(["# One", "", "```", "# code", "```", "", "## Two", ""])
    assert _headings(text) == [(0, 1, "One"), (6, 2, "Two")]
    assert read_blocks(text).code_lines() == {2, 3, 4}


def test_nul_characters_keep_positions() -> None:
    # markdown-it turns NUL into U+FFFD: one character for one, so lengths hold.
    (heading,) = read_blocks("# a\0b #\n").headings
    assert heading.text == "a\ufffdb"


def test_empty_text() -> None:
    blocks = read_blocks("")
    assert blocks.headings == () and blocks.code_blocks == () and blocks.open_fence is None


LINES = [
    "",
    "  ",
    "Text",
    "# Heading",
    "## Closed ##",
    "===",
    "---",
    "```",
    "````",
    "```py",
    "~~~",
    "  ```",
    "    code",
    "\tcode",
    "- item",
    "  - nested",
    "  more",
    "1. first",
    "> quote",
    "> ```",
    ">",
    "<div>",
]
markdown_texts = st.lists(st.sampled_from(LINES), max_size=40).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(markdown_texts, st.sampled_from(["", "\n", "\r\n"]))
def test_reading_in_chunks_finds_what_one_parse_finds(text: str, end: str) -> None:
    # Chunks as small as they come: cut at every boundary the reader allows.
    text += end
    with patch.object(markdown_blocks, "_CHUNK_CHARS", 10**9):
        whole = read_blocks(text)
    with patch.object(markdown_blocks, "_CHUNK_CHARS", 1):
        assert read_blocks(text) == whole


def test_a_fence_open_across_many_chunks() -> None:
    body = "".join(f"line {n}\n\nnot a heading {n}\n# nor this\n\n" for n in range(2000))
    text = f"# Top\n\n```\n{body}```\n\n# After\n"
    with patch.object(markdown_blocks, "_CHUNK_CHARS", 64):
        blocks = read_blocks(text)
    count = len(list(iter_lines(text)))
    assert [(h.start, h.text) for h in blocks.headings] == [(0, "Top"), (count - 1, "After")]
    assert blocks.code_blocks == (CodeBlock(2, count - 2, "```", closed=True, nested=False),)
    with patch.object(markdown_blocks, "_CHUNK_CHARS", 64):
        assert read_blocks(text[: text.index("```\n\n# After")]).open_fence == "```"


def test_lines_cut_by_the_caller() -> None:
    lines = "# One\u2028## Two\n\n```\n# code".splitlines()
    blocks = read_lines(line + "\n" for line in lines)
    assert [(h.start, h.text) for h in blocks.headings] == [(0, "One"), (1, "Two")]
    assert blocks.open_fence == "```"
