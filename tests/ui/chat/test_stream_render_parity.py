"""A reply must not jump when it finishes: for every prefix of it that is complete, what the
transcript shows while streaming equals a one-shot render of the finished message.

The text is streamed in random chunk sizes through the real ChatView and compared, block by
block (text, line breaks, heading level, list marker, table cell), with the same text
rendered at once by ``finish_reply``. A final plain paragraph ("END") closes every sample, so
everything before it is a complete prefix and the unfinished tail is plain text in both.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtGui import QTextBlock, QTextCursor, QTextDocument
from pytestqt.qtbot import QtBot

from storage.records import Role
from tests.support.factories import make_message
from ui.chat.view import ChatView

Shape = list[tuple[str, int, str, bool]]

SAMPLES = {
    "soft breaks": "Roses are red\nViolets are blue\nSugar is sweet",
    "soft breaks, two paragraphs": "first line\nsecond line\n\nthird line\nfourth line",
    "address": "Hearth Ltd.\n12 Market Street\nSpringfield",
    "crlf": "line one\r\nline two\r\n\r\nnext paragraph\r\nand its second line",
    "blank lines": "a\n\n\n\nb\n\n\nc",
    "crlf loose list": "1. a\r\n\r\n\r\n1. b\r\n\r\n- c",
    "list": "- one\n- two\n- three",
    "list with soft break": "- one\n  still one\n- two",
    "nested list": "- a\n  - a.1\n  - a.2\n- b",
    "loose list": "- a\n\n- b\n\n- c",
    "ordered list": "1. first\n2. second\n3. third",
    "loose ordered list": "1. first\n\n2. second\n\n3. third",
    "code fence": "```python\ndef f():\n\n\n    return 1\n```",
    "tilde fence": "~~~\nplain\n  indented\n~~~",
    "table": "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |",
    "headings": "# One\n\n## Two\ntext under two\n\n### Three",
    "setext heading": "Title\n=====\n\nbody",
    "quote": "> quoted\n> more\n\nafter",
    "rule": "above\n\n---\n\nbelow",
    "emphasis": "Some **bold**, *italic* and `code`\nacross lines.",
    "indented code": "    code line\n    more code\n\ntext",
    "mixed": (
        "# Plan\n\nSteps:\n1. read\n2. write\n\n```sh\nls -l\n```\n\n"
        "| k | v |\n|---|---|\n| x | 1 |\n\nDone.\nReally."
    ),
}


def make_view(qtbot: QtBot) -> ChatView:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    return view


def _shape(doc: QTextDocument, start: int, end: int) -> Shape:
    """What the eye sees of doc[start:end], block by block: text (line breaks included),
    heading level, list marker, whether it sits in a table cell. Empty spacer blocks that
    Qt leaves between inserted pieces are not shown as lines, so they do not count."""
    shape: Shape = []
    block: QTextBlock = doc.findBlock(start)
    while block.isValid() and block.position() < end:
        cursor = QTextCursor(block)
        text_list = block.textList()
        marker = text_list.itemText(block) if text_list is not None else ""
        text = block.text().replace("\u2028", "\n")
        in_table = cursor.currentTable() is not None
        if text or marker or in_table:
            shape.append((text, block.blockFormat().headingLevel(), marker, in_table))
        block = block.next()
    return shape


def _reply_shape(view: ChatView, message_id: int) -> Shape:
    frame = view._frames[message_id]  # the message's own frame: header, body, footer
    shape = _shape(view.document(), frame.firstPosition(), frame.lastPosition())
    return [part for part in shape if part[0] not in ("Assistant", "Copy · Regenerate")]


def streamed_and_final(view: ChatView, text: str, cuts: list[int]) -> tuple[Shape, Shape]:
    text += "\n\nEND"
    view.set_messages([])
    view.begin_reply(1)
    last = 0
    for cut in [*sorted(set(cuts)), len(text)]:
        view.append_delta(text[last:cut])
        last = cut
    streamed = _reply_shape(view, 1)
    view.finish_reply(make_message(1, Role.ASSISTANT, text))
    return streamed, _reply_shape(view, 1)


def _random_cuts(text: str, seed: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.randrange(len(text)) for _ in range(rng.randrange(len(text) // 2 + 1))]


@pytest.mark.parametrize("name", list(SAMPLES))
def test_streamed_equals_final_for_hand_written_samples(qtbot: QtBot, name: str) -> None:
    view = make_view(qtbot)
    text = SAMPLES[name]
    for seed in range(5):
        streamed, final = streamed_and_final(view, text, _random_cuts(text, seed))
        assert streamed == final, (name, seed)


def test_a_single_newline_is_a_line_break_while_streaming_and_after(qtbot: QtBot) -> None:
    """The chosen reading of a single newline: a line break, as chat apps show it (a model's
    poem, address or step list keeps its lines), both in the unfinished tail and rendered."""
    view = make_view(qtbot)
    view.begin_reply(1)
    view.append_delta("Roses are red\nViolets are blue")
    streamed = view.message_text(1)
    assert streamed.endswith("Roses are red\nViolets are blue")
    view.finish_reply(make_message(1, Role.ASSISTANT, "Roses are red\nViolets are blue"))
    assert view.message_text(1).startswith(streamed)


_LINES = st.sampled_from(
    [
        "plain words",
        "more text here",
        "**bold** and *it*",
        "`code` inline",
        "- item",
        "- other item",
        "  - nested item",
        "1. first",
        "2. second",
        "# Heading",
        "## Sub",
        "> quote",
        "| a | b |\n|---|---|\n| 1 | 2 |",
        "```\ncode\n\nmore\n```",
        "---",
        "1) paren item",
        "* star item",
        "+ plus item",
        "  indented continuation",
        "    indented code",
        "Title\n===",
        "two trailing spaces  ",
        "a [link](https://example.org) and <b>tags</b>",
        "",
        "",
        "",
    ]
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(_LINES, min_size=1, max_size=12),
    newline=st.sampled_from(["\n", "\r\n"]),
    seed=st.integers(0, 2**16),
)
def test_streamed_equals_final_for_generated_markdown(
    qtbot: QtBot, lines: list[str], newline: str, seed: int
) -> None:
    text = "\n".join(lines).replace("\n", newline)
    if not text.strip():
        return
    view = make_view(qtbot)
    streamed, final = streamed_and_final(view, text, _random_cuts(text, seed))
    assert streamed == final, repr(text)
