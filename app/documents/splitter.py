"""Split a document into chunks that fit a token budget, cutting along its structure.

Cut preference, strongest first: a section boundary (a heading or a page), a paragraph, a
sentence, a word, and as a last resort a character position (a "word" longer than the whole
budget, such as a base64 blob). Tokens are counted with the model's own tokenizer through a
callable; counts are cached per piece of text, and only pieces that might be cut are counted,
never per character.

What "no text lost or duplicated" means here, precisely: every chunk is a slice
`document.text[chunk.start:chunk.end]` with no leading or trailing whitespace, the slices are
in order and do not overlap, and what lies between two consecutive slices (and before the
first and after the last) is whitespace only. Joining the chunks with the whitespace at the
cut points gives back `document.text` exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from app.documents.model import Section, SourceRef
from app.languages.sentences import sentence_breaks

CountTokens = Callable[[str], int]
CountTokensMany = Callable[[Sequence[str]], list[int]]

# Bounds on one batch request, so a huge document never builds one giant message: at most
# this many texts, and this many characters (at most 4 bytes each in UTF-8: ≤ 1 MB). A single
# text over the bound still goes, alone.
BATCH_TEXTS = 256
BATCH_CHARS = 256 * 1024

# Strength of the cut *before* a unit.
SECTION, PARAGRAPH, SENTENCE, WORD, CHARACTER = 4, 3, 2, 1, 0

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_WORD = re.compile(r"\S+")

# A chunk is cut at its strongest boundary as long as it keeps at least this share of the
# budget; a smaller cut would make many tiny chunks (more requests, worse summaries).
MIN_FILL = 0.5


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    start: int  # offsets into the joined document text (Document.text)
    end: int
    tokens: int
    refs: tuple[SourceRef, ...]


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int
    strength: int
    section: int


class CachedCounter:
    """Counts tokens once per distinct text.

    Keyed by (length, hash) rather than by the text: keeping every paragraph and chunk as a
    key would hold another copy or two of a huge document."""

    def __init__(self, count: CountTokens, count_many: CountTokensMany | None = None) -> None:
        self._count = count
        self._count_many = count_many
        self._cache: dict[tuple[int, int], int] = {}

    def __call__(self, text: str) -> int:
        key = (len(text), hash(text))
        cached = self._cache.get(key)
        if cached is None:
            cached = self._count(text)
            self._cache[key] = cached
        return cached

    def prime(self, texts: Iterable[str]) -> None:
        """Count the texts not cached yet in batch requests within BATCH_TEXTS/BATCH_CHARS.
        Without a batch form this does nothing: each text is counted when first asked for.
        `texts` may be a generator, so only one batch of slices is held at a time."""
        if self._count_many is None:
            return
        batch: list[str] = []
        keys: list[tuple[int, int]] = []
        pending: set[tuple[int, int]] = set()  # keys of `batch`, for the duplicate check
        size = 0
        for text in texts:
            key = (len(text), hash(text))
            if key in self._cache or key in pending:
                continue
            if batch and (len(batch) >= BATCH_TEXTS or size + len(text) > BATCH_CHARS):
                self._count_batch(batch, keys)
                batch, keys, size = [], [], 0
                pending.clear()
            batch.append(text)
            keys.append(key)
            pending.add(key)
            size += len(text)
        if batch:
            self._count_batch(batch, keys)

    def _count_batch(self, batch: list[str], keys: list[tuple[int, int]]) -> None:
        assert self._count_many is not None
        counts = self._count_many(batch)
        if len(counts) != len(batch):
            raise ValueError(f"{len(counts)} token counts for {len(batch)} texts")
        self._cache.update(zip(keys, counts, strict=True))


def split_sections(sections: Sequence[Section], budget: int, count: CountTokens) -> list[Chunk]:
    """Chunks of `sections` (joined with blank lines, as Document.text) of at most `budget`
    tokens each by `count`."""
    if budget < 1:
        raise ValueError("the token budget must be at least 1")
    counter = count if isinstance(count, CachedCounter) else CachedCounter(count)
    full = "\n\n".join(s.text for s in sections)
    bounds: list[tuple[int, int]] = []
    offset = 0
    for section in sections:
        bounds.append((offset, offset + len(section.text)))
        offset += len(section.text) + 2
    # Every paragraph is counted anyway: ask for them in a few batches, not one by one.
    counter.prime(
        full[a:b]
        for start, end in bounds
        for a, b in _spans_between(full, start, end, _paragraph_breaks(full, start, end))
    )
    units: list[_Unit] = []
    for index, (start, end) in enumerate(bounds):
        units.extend(_section_units(full, start, end, index, budget, counter))
    # The chunks as packing will cut them if each first guess fits, which it nearly always
    # does: one batch for all of them; a guess that does not fit is counted again, singly.
    counter.prime(
        full[units[i].start : units[cut - 1].end] for i, cut in _planned_cuts(units, budget)
    )
    return _pack(full, units, sections, budget, counter)


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _spans_between(
    text: str, start: int, end: int, gaps: Iterable[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The stripped, non-empty spans of text[start:end] around the (start, end) `gaps`."""
    spans: list[tuple[int, int]] = []
    cursor = start
    for gap_start, gap_end in gaps:
        spans.append(_strip_span(text, cursor, gap_start))
        cursor = gap_end
    spans.append(_strip_span(text, cursor, end))
    return [(a, b) for a, b in spans if b > a]


def _paragraph_breaks(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    return (match.span() for match in _PARAGRAPH_BREAK.finditer(text, start, end))


def _section_units(
    full: str, start: int, end: int, section: int, budget: int, count: CachedCounter
) -> list[_Unit]:
    units: list[_Unit] = []
    for p_start, p_end in _spans_between(full, start, end, _paragraph_breaks(full, start, end)):
        strength = SECTION if not units else PARAGRAPH
        tokens = count(full[p_start:p_end])
        if tokens <= budget:
            units.append(_Unit(p_start, p_end, tokens, strength, section))
            continue
        sentences = _spans_between(full, p_start, p_end, sentence_breaks(full, p_start, p_end))
        count.prime(full[a:b] for a, b in sentences)
        for s_start, s_end in sentences:
            tokens = count(full[s_start:s_end])
            if tokens <= budget:
                units.append(_Unit(s_start, s_end, tokens, strength, section))
            else:
                units.extend(_word_units(full, s_start, s_end, strength, section, budget, count))
            strength = SENTENCE
    return units


def _longest_fitting(
    full: str, start: int, ends: Sequence[int], budget: int, count: CachedCounter
) -> int:
    """Index into `ends` of the longest span full[start:ends[i]] that fits, or -1.

    Binary search: about log2(len(ends)) counts, not one per word."""
    low, high, best = 0, len(ends) - 1, -1
    while low <= high:
        middle = (low + high) // 2
        if count(full[start : ends[middle]]) <= budget:
            best, low = middle, middle + 1
        else:
            high = middle - 1
    return best


def _word_units(
    full: str,
    start: int,
    end: int,
    strength: int,
    section: int,
    budget: int,
    count: CachedCounter,
) -> list[_Unit]:
    words = [(m.start(), m.end()) for m in _WORD.finditer(full, start, end)]
    units: list[_Unit] = []
    i = 0
    while i < len(words):
        piece_start = words[i][0]
        ends = [w_end for _w_start, w_end in words[i:]]
        best = _longest_fitting(full, piece_start, ends, budget, count)
        if best >= 0:
            piece_end = ends[best]
            units.append(
                _Unit(piece_start, piece_end, count(full[piece_start:piece_end]), strength, section)
            )
            i += best + 1
        else:
            # One "word" longer than the budget: cut it by characters.
            units.extend(
                _char_units(full, words[i][0], words[i][1], strength, section, budget, count)
            )
            i += 1
        strength = WORD
    return units


def _char_units(
    full: str,
    start: int,
    end: int,
    strength: int,
    section: int,
    budget: int,
    count: CachedCounter,
) -> list[_Unit]:
    units: list[_Unit] = []
    while start < end:
        best = _longest_fitting(full, start, range(start + 1, end + 1), budget, count)
        piece_end = start + 1 + max(best, 0)  # one character always goes, even if over
        units.append(_Unit(start, piece_end, count(full[start:piece_end]), strength, section))
        start, strength = piece_end, CHARACTER
    return units


def _first_cut(units: Sequence[_Unit], i: int, budget: int) -> int:
    """Where the chunk starting at unit i ends (exclusive) by the units' own counts."""
    # Grow greedily; +1 per join is room for the separator between two units.
    j, total, prefix = i, 0, [0]
    while j < len(units):
        extra = units[j].tokens + (1 if j > i else 0)
        if j > i and total + extra > budget:
            break
        total += extra
        prefix.append(total)
        j += 1
    cut = j
    if j < len(units):
        # Cut at the strongest boundary that keeps the chunk at least MIN_FILL full.
        candidates = [k for k in range(i + 1, j + 1) if prefix[k - i] >= MIN_FILL * budget]
        if candidates:
            cut = max(candidates, key=lambda k: (units[k].strength, k))
    return cut


def _planned_cuts(units: Sequence[_Unit], budget: int) -> Iterator[tuple[int, int]]:
    """(first unit, cut) of each chunk if every first cut's real count fits."""
    i = 0
    while i < len(units):
        cut = _first_cut(units, i, budget)
        yield i, cut
        i = cut


def _pack(
    full: str,
    units: list[_Unit],
    sections: Sequence[Section],
    budget: int,
    count: CachedCounter,
) -> list[Chunk]:
    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        cut = _first_cut(units, i, budget)
        # The tokenizer is not additive at the joins; check the real count of the slice.
        while True:
            start, end = units[i].start, units[cut - 1].end
            tokens = count(full[start:end])
            if tokens <= budget or cut == i + 1:
                break
            cut -= 1
        section_ids = sorted({u.section for u in units[i:cut]})
        refs = tuple(
            dict.fromkeys(
                SourceRef(sections[s].page, sections[s].heading_path) for s in section_ids
            )
        )
        chunks.append(Chunk(len(chunks), full[start:end], start, end, tokens, refs))
        i = cut
    return chunks
