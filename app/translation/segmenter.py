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

CountTokens = Callable[[str], int]

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_RULE = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,}|=+[ \t]*)$")
_QUOTE = re.compile(r"^[ \t]{0,3}>[ \t]?")
_BULLET = re.compile(r"^[ \t]*(?:[-*+•]|\d{1,9}[.)])(?:[ \t]+\[[ xX]\])?(?:[ \t]+|$)")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}(?:[ \t]+|$)")
_HEADING_CLOSE = re.compile(r"[ \t]+#+[ \t]*$")
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
    lines = [m.group(0) for m in _LINE.finditer(text)]
    pending: list[str] = []  # paragraph text being collected across soft line breaks
    pending_tail = ""  # trailing spaces + line break of the last collected line
    fence: str | None = None
    in_table = False
    previous_blank = True

    def flush() -> Iterator[str | _Paragraph]:
        nonlocal pending, pending_tail
        if pending:
            yield _Paragraph("".join(pending))
            yield pending_tail
        pending, pending_tail = [], ""

    for number, line in enumerate(lines):
        body = line.rstrip("\r\n")
        eol = line[len(body) :]
        blank = not body.strip()
        if markdown and fence is not None:
            yield from flush()
            yield line
            match = _FENCE.match(body)
            if match is not None and _closes(match, fence, body):
                fence = None
            continue
        if markdown and (match := _FENCE.match(body)):
            yield from flush()
            yield line
            fence = match.group(1)
            continue
        if blank:
            yield from flush()
            yield line
            in_table = False
            previous_blank = True
            continue
        code_line = body.startswith(("    ", "\t")) and not _BULLET.match(body)
        if markdown and code_line and (previous_blank or not pending):
            # Indented code block (only after a blank line, as CommonMark wants).
            yield from flush()
            yield line
            continue
        previous_blank = False
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
        prefix, rest, heading = _peel_prefix(body, markdown=markdown)
        lead = rest[: len(rest) - len(rest.lstrip())]
        content = rest.strip()
        tail = rest[len(lead) + len(content) :]
        if heading and (close := _HEADING_CLOSE.search(content)):
            tail = content[close.start() :] + tail
            content = content[: close.start()]
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
        if heading:
            yield _Paragraph(content)
            yield tail + eol
        else:
            pending, pending_tail = [content], tail + eol
    yield from flush()


def _closes(match: re.Match[str], fence: str, body: str) -> bool:
    """A closing fence uses the opening's character, at least as many, and nothing else."""
    marks = match.group(1)
    return marks[0] == fence[0] and len(marks) >= len(fence) and not body[match.end() :].strip()


def _peel_prefix(body: str, *, markdown: bool) -> tuple[str, str, bool]:
    """Split Markdown line markup (quotes, bullets, heading hashes) off the line's text."""
    prefix = ""
    rest = body
    while True:
        match = (_QUOTE.match(rest) if markdown else None) or _BULLET.match(rest)
        if match is None or not match.group(0):
            break
        prefix += match.group(0)
        rest = rest[match.end() :]
    if markdown and (match := _HEADING.match(rest)):
        return prefix + match.group(0), rest[match.end() :], True
    return prefix, rest, False


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
