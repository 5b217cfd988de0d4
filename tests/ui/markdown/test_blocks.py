from __future__ import annotations

import pytest

from ui.markdown.blocks import BlockSplitter

TEXT = "# Title\n\nPara one\nline two\n\n- a\n- b\n\n```py\nx = 1\n\n\ny = 2\n```\n\nEnd para"


@pytest.mark.parametrize("step", [1, 2, 7, len(TEXT)])
def test_blocks_split_at_blank_lines_outside_fences(step: int) -> None:
    splitter = BlockSplitter()
    blocks: list[str] = []
    for i in range(0, len(TEXT), step):
        blocks += splitter.feed(TEXT[i : i + step])
    assert blocks == [
        "# Title\n\n",
        "Para one\nline two\n\n",
        "- a\n- b\n\n",
        "```py\nx = 1\n\n\ny = 2\n```\n\n",
    ]
    assert splitter.pending == "End para"


def test_indented_continuation_stays_in_the_block() -> None:
    splitter = BlockSplitter()
    assert splitter.feed("- item\n\n  more of the item\n\nnext") == [
        "- item\n\n  more of the item\n\n"
    ]


def test_unclosed_fence_never_splits() -> None:
    splitter = BlockSplitter()
    assert splitter.feed("~~~~\ncode\n\n~~~\nstill code\n\nand more") == []
    assert splitter.pending.startswith("~~~~")


@pytest.mark.parametrize("step", [1, 3, 100])
def test_a_loose_list_stays_one_block(step: int) -> None:
    """ "1. a\n\n1. b" is one list numbered 1., 2.: rendered as two blocks it showed 1., 1.
    until the reply finished. A list of another kind, or a paragraph, still starts a block."""
    text = "1. a\n\n1. b\n\n- c\n\n- d\n\n* e\n\nend"
    splitter = BlockSplitter()
    blocks: list[str] = []
    for i in range(0, len(text), step):
        blocks += splitter.feed(text[i : i + step])
    assert blocks == ["1. a\n\n1. b\n\n", "- c\n\n- d\n\n", "* e\n\n"]
    assert splitter.pending == "end"
