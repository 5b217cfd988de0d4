"""Split plain or Markdown text into translatable segments without losing its layout.

The text becomes a sequence of parts: literal strings that the model never sees (line
breaks, blank lines, indentation, Markdown markup such as `# `, `- `, `> `, table pipes,
code blocks) and `Segment`s (sentences of one paragraph, packed up to a token budget, with
protected spans swapped for markers). `SegmentedText.join` puts translated segments back
between the literals, so joining the untranslated segments gives the source byte for byte.

A paragraph never shares a segment with another paragraph: the translator caches by
paragraph, so an edit re-translates only the paragraphs that changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from app.languages.sentences import sentence_breaks
from app.translation.protect import MARKER, Restored, protect, renumber, restore
from app.util.markdown_blocks import Heading, MarkdownBlocks, iter_lines, read_lines

CountTokens = Callable[[str], int]

_RULE = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,}|=+[ \t]*)$")
_QUOTE = re.compile(r"^[ \t]{0,3}>[ \t]?")
_BULLET = re.compile(r"^[ \t]*(?:[-*+•]|\d{1,9}[.)])(?:[ \t]+\[[ xX]\])?(?:[ \t]+|$)")
_TABLE_DELIMITER = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Segment:
    """One request's worth of text: whole sentences of one paragraph."""

    index: int
    paragraph: int
    text: str  # what the model sees: markers ⟦n⟧ in place of protected spans
    spans: tuple[str, ...] = ()

    @property
    def needs_model(self) -> bool:
        """False for segments that are only markers, digits and punctuation."""
        return bool(_LETTER.search(MARKER.sub("", self.text)))

    @property
    def source(self) -> str:
        return restore(self.text, self.spans).text

    def restore(self, translated: str) -> Restored:
        return restore(translated, self.spans)


@dataclass(frozen=True)
class SegmentedText:
    parts: tuple[str | Segment, ...]
    segments: tuple[Segment, ...] = field(init=False)

    def __post_init__(self) -> None:
        segments = tuple(part for part in self.parts if isinstance(part, Segment))
        object.__setattr__(self, "segments", segments)

    def join(self, texts: Sequence[str]) -> str:
        """Literals with texts[i] (final text, markers already restored) for segment i."""
        if len(texts) != len(self.segments):
            raise ValueError(f"expected {len(self.segments)} texts, got {len(texts)}")
        out = [part if isinstance(part, str) else texts[part.index] for part in self.parts]
        return "".join(out)

    def source(self) -> str:
        return self.join([segment.source for segment in self.segments])

    def paragraphs(self) -> dict[int, list[Segment]]:
        grouped: dict[int, list[Segment]] = {}
        for segment in self.segments:
            grouped.setdefault(segment.paragraph, []).append(segment)
        return grouped


def segment_text(
    text: str,
    *,
    markdown: bool = True,
    budget: int | None = None,
    count_tokens: CountTokens | None = None,
) -> SegmentedText:
    """Split `text`; with a budget, no segment is longer than `budget` tokens (sentences
    longer than that are cut at spaces)."""
    if budget is not None and count_tokens is None:
        raise ValueError("a token budget needs a count_tokens function")
    builder = _Builder(markdown, budget, count_tokens)
    for item in _layout(text, markdown=markdown):
        if isinstance(item, _Paragraph):
            builder.paragraph(item.text)
        else:
            builder.literal(item)
    return SegmentedText(tuple(builder.parts))


# ---- layout: literal markup versus paragraph text ------------------------------------------


@dataclass(frozen=True)
class _Paragraph:
    text: str


def _layout(text: str, *, markdown: bool) -> Iterator[str | _Paragraph]:
    lines = list(iter_lines(text))  # numbered as the Markdown parser numbers them
    # Code blocks and ATX headings as CommonMark reads them: one parse for the whole text.
    # Setext headings need nothing of their own: the text lines are a paragraph as any other
    # and the underline is a rule line.
    blocks = read_lines(lines) if markdown else MarkdownBlocks(headings=(), code_blocks=())
    code = blocks.code_lines()
    headings = {h.start: h for h in blocks.headings if not h.setext}
    pending: list[str] = []  # paragraph text being collected across soft line breaks
    pending_tail = ""  # trailing spaces + line break of the last collected line
    in_table = False

    def flush() -> Iterator[str | _Paragraph]:
        nonlocal pending, pending_tail
        if pending:
            yield _Paragraph("".join(pending))
            yield pending_tail
        pending, pending_tail = [], ""

    for number, line in enumerate(lines):
        body = line.rstrip("\r\n")
        eol = line[len(body) :]
        if number in code:  # fence lines included; never reaches the model
            yield from flush()
            yield line
            continue
        if not body.strip():
            yield from flush()
            yield line
            in_table = False
            continue
        next_body = lines[number + 1].rstrip("\r\n") if number + 1 < len(lines) else ""
        if markdown and not in_table and "|" in body and _TABLE_DELIMITER.match(next_body):
            in_table = "-" in next_body
        if markdown and in_table and "|" in body:
            yield from flush()
            if _TABLE_DELIMITER.match(body):
                yield line
            else:
                yield from _table_row(body)
                yield eol
            continue
        in_table = False
        if markdown and _RULE.match(body):
            yield from flush()
            yield line
            continue
        heading = headings.get(number)
        split = _heading_split(body, heading) if heading is not None else None
        if split is not None:
            # A heading is a paragraph of its own: markup before, closing #s after.
            yield from flush()
            before, content, after = split
            yield before
            if content:
                yield _Paragraph(content)
            yield after + eol
            continue
        prefix, rest = _peel_prefix(body, markdown=markdown)
        lead = rest[: len(rest) - len(rest.lstrip())]
        content = rest.strip()
        tail = rest[len(lead) + len(content) :]
        if pending and not prefix:
            # A soft line break: the sentence may go on, so the model sees the break.
            pending.append(pending_tail + lead + content)
            pending_tail = tail + eol
            continue
        yield from flush()
        yield prefix + lead
        if not content:
            yield tail + eol
            continue
        pending, pending_tail = [content], tail + eol
    yield from flush()


def _heading_split(body: str, heading: Heading) -> tuple[str, str, str] | None:
    """An ATX heading line as (markup before the text, the text, closing #s and spaces).

    The parser gives the text without its position. Container markup (`>`, list markers,
    spaces) holds no `#`, so the line's first `#` opens the heading; the text starts after
    the level's `#`s and the spaces, and is as long as the parser's text (markdown-it keeps
    lengths: it only turns NUL into U+FFFD)."""
    hashes = body.find("#")
    if hashes < 0 or body[hashes : hashes + heading.level] != "#" * heading.level:
        return None  # not the line the parser saw; read it as plain text
    after = body[hashes + heading.level :]
    start = len(body) - len(after.lstrip()) if heading.text else len(body)
    end = start + len(heading.text)
    return body[:start], body[start:end], body[end:]


def _peel_prefix(body: str, *, markdown: bool) -> tuple[str, str]:
    """Split line markup (quotes, bullets, task boxes) off the line's text. Bullets count in
    plain text too, and `•` and `[x]` go beyond CommonMark: these stay patterns."""
    prefix = ""
    rest = body
    while True:
        match = (_QUOTE.match(rest) if markdown else None) or _BULLET.match(rest)
        if match is None or not match.group(0):
            break
        prefix += match.group(0)
        rest = rest[match.end() :]
    return prefix, rest


def _table_row(body: str) -> Iterator[str | _Paragraph]:
    cells = _CELL_SPLIT.split(body)
    for position, cell in enumerate(cells):
        if position:
            yield "|"
        content = cell.strip()
        if not content:
            yield cell
            continue
        start = cell.index(content)
        yield cell[:start]
        yield _Paragraph(content)
        yield cell[start + len(content) :]


# ---- paragraphs into segments ---------------------------------------------------------------


class _Builder:
    def __init__(self, markdown: bool, budget: int | None, count: CountTokens | None) -> None:
        self.markdown = markdown
        self.budget = budget
        self.count = count
        self.parts: list[str | Segment] = []
        self.n_segments = 0
        self.n_paragraphs = 0

    def literal(self, text: str) -> None:
        if not text:
            return
        if self.parts and isinstance(self.parts[-1], str):
            self.parts[-1] += text
        else:
            self.parts.append(text)

    def paragraph(self, text: str) -> None:
        protected = protect(text, markdown=self.markdown)
        pieces = self._pack(_sentences(protected.text))
        for position, (piece, separator) in enumerate(pieces):
            local = renumber(piece, protected.spans)
            segment = Segment(self.n_segments, self.n_paragraphs, local.text, local.spans)
            self.parts.append(segment)
            self.n_segments += 1
            if position < len(pieces) - 1:
                self.literal(separator)
        self.n_paragraphs += 1

    def _pack(self, sentences: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Greedily join sentences (with their separators) up to the budget. A line break
        after a finished sentence (an address, a verse, a two-line subtitle) always ends a
        segment: it stays literal, so the model cannot merge or move the lines."""
        packed: list[tuple[str, str]] = []
        start = 0
        for number, (_sentence, separator) in enumerate(sentences):
            if "\n" in separator or "\r" in separator or number == len(sentences) - 1:
                packed += self._pack_lines(sentences[start : number + 1])
                start = number + 1
        return packed

    def _pack_lines(self, sentences: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """`_pack` for sentences with no hard line break between them; the last one's
        separator is kept after the last piece."""
        *sentences, (last, tail) = sentences
        sentences.append((last, ""))
        packed = self._pack_within(sentences)
        packed[-1] = (packed[-1][0], tail)
        return packed

    def _pack_within(self, sentences: list[tuple[str, str]]) -> list[tuple[str, str]]:
        whole = "".join(s + sep for s, sep in sentences)  # the last separator is ""
        if self.budget is None or self.count is None or self.count(whole) <= self.budget:
            return [(whole, "")]
        packed: list[tuple[str, str]] = []
        group, group_sep = "", ""
        for sentence, separator in sentences:
            for chunk, chunk_sep in self._cut(sentence, separator):
                # Counted whole: tokens of joined texts do not add up exactly.
                if group and self.count(group + group_sep + chunk) <= self.budget:
                    group += group_sep + chunk
                else:
                    if group:
                        packed.append((group, group_sep))
                    group = chunk
                group_sep = chunk_sep
        packed.append((group, ""))
        return packed

    def _cut(self, sentence: str, separator: str) -> list[tuple[str, str]]:
        """Cut a sentence longer than the budget into pieces within it: at spaces, else at
        commas and the like (CJK text has no spaces), else between characters."""
        chunks: list[tuple[str, str]] = []
        for piece in self._fit(sentence):
            stripped = piece.rstrip()
            chunks.append((stripped, piece[len(stripped) :]))
        chunks[-1] = (chunks[-1][0], separator)
        return chunks

    def _fit(self, text: str) -> list[str]:
        """`text` in pieces (joined, they give it back), each within the budget unless it
        is a single character or marker. Halving keeps the count calls few."""
        assert self.budget is not None and self.count is not None
        if self.count(text) <= self.budget:
            return [text]
        atoms = _atoms(text)
        if len(atoms) == 1:
            return [text]
        middle = len(atoms) // 2
        return self._fit("".join(atoms[:middle])) + self._fit("".join(atoms[middle:]))


_WORDS = re.compile(r"\s*\S+\s*")
_CLAUSES = re.compile(r"[^,;:，、；：]+[,;:，、；：]*\s*|[,;:，、；：]+\s*")
_CHARACTERS = re.compile(r"⟦\d+⟧\s*|.\s*", re.DOTALL)


def _atoms(text: str) -> list[str]:
    """The coarsest units `text` can be cut into: words, else clauses, else characters
    (a marker ⟦n⟧ is one character here: cutting it would forge or lose a span)."""
    for pattern in (_WORDS, _CLAUSES, _CHARACTERS):
        atoms = pattern.findall(text)
        if len(atoms) > 1:
            return atoms
    return [text]


def _sentences(text: str) -> list[tuple[str, str]]:
    """(sentence, whitespace after it) pairs; joined they give `text` back."""
    pieces: list[tuple[str, str]] = []
    start = 0
    for sentence_end, next_start in sentence_breaks(text):
        pieces.append((text[start:sentence_end], text[sentence_end:next_start]))
        start = next_start
    pieces.append((text[start:], ""))
    return pieces


def concat(pieces: Sequence[str | SegmentedText]) -> SegmentedText:
    """One document from literals and separately segmented texts (subtitle cues, DOCX
    paragraphs), renumbered so it translates in one pass with context across pieces."""
    parts: list[str | Segment] = []
    n_segments = 0
    n_paragraphs = 0
    for piece in pieces:
        if isinstance(piece, str):
            parts.append(piece)
            continue
        numbers: dict[int, int] = {}
        for part in piece.parts:
            if isinstance(part, str):
                parts.append(part)
                continue
            paragraph = numbers.setdefault(part.paragraph, n_paragraphs + len(numbers))
            parts.append(Segment(n_segments, paragraph, part.text, part.spans))
            n_segments += 1
        n_paragraphs += len(numbers)
    return SegmentedText(tuple(parts))
