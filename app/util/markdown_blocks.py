"""Markdown block structure (headings, code blocks) as markdown-it-py's CommonMark parser reads it.

Three places need to know where a Markdown text's headings and code blocks are: the translation
segmenter (code and heading markup stay literal), the document reader (sections start at
headings) and the chat export (a reply cut off inside a code block is closed). Each used to scan
lines with its own regexes, and they disagreed with CommonMark and with each other: a ``` line
closing a ~~~ fence, fences and headings inside lists or block quotes, a tab before `#`, an
indented paragraph in a list item taken for code. The parser Hearth renders with decides here.

Lines are numbered from 0 as markdown-it numbers them, the way `iter_lines` cuts a text: at
\\r\\n, \\r or \\n, a last line without a line break counted, a final line break opening no new
line. A caller that cuts lines otherwise (str.splitlines) passes its own to `read_lines`.

Raw HTML is read as text, as Hearth's own renderer does (`html` off in ui/markdown/render.py):
a heading or a fence right under a `<div>` line stays a heading or a fence. Only markdown-it's
block pass runs; the inline pass (emphasis, links) is switched off.

A long document is parsed a chunk at a time, so that time stays linear and memory bounded by
the chunk (markdown-it's tokens for a whole 1 MB text take about 70 MB): chunks end only where
no block can go on, before an unindented line that follows a blank line (that line ends every
paragraph, list item, block quote and indented code block), unless a fence is open there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_CHUNK_CHARS = 1 << 16  # a chunk is cut at the first boundary past this size
_BLANK = " \t\r\n"  # a line of these alone is blank for CommonMark


@dataclass(frozen=True)
class Heading:
    """A heading: an ATX line (`## Text ##`) or setext lines (text over `===` or `---`)."""

    start: int  # its first line
    end: int  # the line after its last (setext headings span their text and the underline)
    level: int  # 1 to 6
    # The raw Markdown of its text (inline markup kept) without the `#`s, the closing `#`s and
    # the spaces around them; a setext heading's lines joined by single spaces.
    text: str
    setext: bool
    nested: bool  # inside a block quote or a list item


@dataclass(frozen=True)
class CodeBlock:
    """A fenced or indented code block; fence lines are part of it."""

    start: int
    end: int  # the line after its last; a fence never closed runs to the end of its container
    fence: str  # the opening fence (```` ``` ````, `~~~~`...); "" for indented code
    closed: bool  # False for a fence that its container (or the text) ended inside
    nested: bool  # inside a block quote or a list item

    @property
    def runs_to_the_end(self) -> bool:
        """A top-level fence never closed: all that follows it is code."""
        return bool(self.fence) and not self.closed and not self.nested


@dataclass(frozen=True)
class MarkdownBlocks:
    """The headings and code blocks of one text, in the order they stand in it."""

    headings: tuple[Heading, ...]
    code_blocks: tuple[CodeBlock, ...]

    def code_lines(self) -> frozenset[int]:
        """The numbers of every line inside a code block, fence lines included."""
        return frozenset(
            number for block in self.code_blocks for number in range(block.start, block.end)
        )

    @property
    def open_fence(self) -> str | None:
        """The opening fence of a top-level fence the text ends inside, else None: what follows
        the text would be read as code until a line closes it. (A fence left open in a list
        item or a block quote ends with it at the next line that is not indented or quoted.)"""
        last = self.code_blocks[-1] if self.code_blocks else None
        return last.fence if last is not None and last.runs_to_the_end else None


def iter_lines(text: str) -> Iterator[str]:
    """The lines of `text` with their line breaks, as markdown-it numbers them."""
    return (match.group(0) for match in _LINE.finditer(text))


def read_blocks(text: str) -> MarkdownBlocks:
    """The headings and code blocks of `text`."""
    return read_lines(iter_lines(text))


def read_lines(lines: Iterable[str]) -> MarkdownBlocks:
    """The headings and code blocks of a text given as lines, each with its line break (the
    last one may have none); line numbers count these lines."""
    found = _Found()
    chunk: list[str] = []
    size = 0
    limit = _CHUNK_CHARS
    previous_blank = False
    for line in lines:
        if size >= limit and previous_blank and line[:1] not in _BLANK:
            kept = found.read(chunk, last=False)
            chunk = chunk[kept:]
            size = sum(map(len, chunk))
            # A fence still open is read again with the next chunk: twice as much before the
            # next try keeps a long fence's rereading linear.
            limit = max(_CHUNK_CHARS, 2 * size)
        chunk.append(line)
        size += len(line)
        previous_blank = not line.strip(_BLANK)
    found.read(chunk, last=True)
    return MarkdownBlocks(tuple(found.headings), tuple(found.code_blocks))


class _Found:
    """Headings and code blocks gathered chunk by chunk, numbered in the whole text."""

    def __init__(self) -> None:
        self.headings: list[Heading] = []
        self.code_blocks: list[CodeBlock] = []
        self.first = 0  # the number of the next chunk's first line

    def read(self, chunk: list[str], *, last: bool) -> int:
        """Parse `chunk` and return how many of its lines are done with: all of them, unless a
        top-level fence is open at its end (not the text's end), which the next chunk
        continues; that fence is dropped here, and read again from its first line."""
        tokens = _parser().parse("".join(chunk))
        for position, token in enumerate(tokens):
            if token.map is None:
                continue
            start, end = self.first + token.map[0], self.first + token.map[1]
            nested = token.level > 0
            if token.type == "heading_open":
                self.headings.append(_heading(token, tokens[position + 1], start, end))
            elif token.type == "fence":
                closed = _fence_content_lines(token.content) == end - start - 2
                self.code_blocks.append(CodeBlock(start, end, token.markup, closed, nested))
            elif token.type == "code_block":
                self.code_blocks.append(CodeBlock(start, end, "", True, nested))
        done = len(chunk)
        if not last and self.code_blocks and self.code_blocks[-1].runs_to_the_end:
            done = self.code_blocks.pop().start - self.first
        self.first += done
        return done


def _heading(opening: Token, inline: Token, start: int, end: int) -> Heading:
    setext = not opening.markup.startswith("#")
    text = inline.content
    if setext:
        text = " ".join(line.strip() for line in text.split("\n"))
    return Heading(start, end, int(opening.tag[1:]), text, setext, opening.level > 0)


def _fence_content_lines(content: str) -> int:
    """How many lines a fence's content holds: each ends in \\n but the text's last one.
    A closed fence's map holds two more lines (the fences), an open one's only one more."""
    return content.count("\n") + (1 if content and not content.endswith("\n") else 0)


@cache
def _parser() -> MarkdownIt:
    # Block rules only: inline tokens keep their source text (`content`) unparsed. Parsing
    # builds a fresh state per call, so one parser serves every thread.
    return MarkdownIt("commonmark", {"html": False}).disable("inline")
