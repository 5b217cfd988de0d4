"""Tie each point of a final summary to the few passages that support it.

A point cites the pieces of the document (a chunk's part of one page or heading section)
whose words it shares, best first. The support of a piece for a point is the share of the
point's content words, weighted by how rare each word is in the document (idf), that also
occur in the piece: 1.0 when every content word of the point is in the piece. A piece is
cited when its support is at least MIN_SUPPORT and at least BEST_SHARE of the best piece's;
of those, at most MAX_SOURCES are cited, in the order of their BM25 score for the point (so a
piece that says the point's words more often comes first). The model's [cN] tags narrow
where to look first (and are all we have when the summary is in another language than the
document); they are never taken whole, because a small model tags a point with every chunk
its partial came from. A point no piece supports cites nothing, and is shown as such.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.documents.model import SourceRef

# [c3], [c3][c4], [c3, c5], [c3-c5] / [c3–c5]; models write all of these.
_TAG_GROUP = re.compile(r"\[\s*c\d+(?:\s*(?:[-–]|,|;)\s*c?\d+)*\s*\]", re.IGNORECASE)
_RANGE = re.compile(r"c?(\d+)\s*[-–]\s*c?(\d+)", re.IGNORECASE)
_NUMBER = re.compile(r"\d+")
_WORD = re.compile(r"\w+", re.UNICODE)

MIN_SUPPORT = 0.3
BEST_SHARE = 0.6
MAX_SOURCES = 3
BM25_K1 = 1.2  # the usual BM25 constants: term-frequency saturation, length normalization
BM25_B = 0.75
# Tagged chunks the model named, kept when no words match (a summary in another language):
# the model's own claim, still capped.
MAX_TAGGED_UNSUPPORTED = 2

# Words that say nothing about where a point came from (English; other languages still
# work, their function words just weigh little because they occur in every piece).
_STOPWORD_TEXT = """a about above after again against all also am an and any are as at be
    because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers him his how i if in into is it its
    itself just more most my no nor not now of off on once only or other our out over own
    same she should so some such than that the their them then there these they this those
    through to too under until up very was we were what when where which while who whom why
    will with would you your document text summary part page section point"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True)
class Citation:
    """One point of the summary and where it came from, best source first. `tagged` is True
    when the model tagged the point with chunks ([c3]); `chunk_ids` and `refs` are empty
    when no passage of the document supports the point."""

    point: int
    text: str
    chunk_ids: tuple[int, ...]
    refs: tuple[SourceRef, ...]
    tagged: bool


@dataclass(frozen=True)
class Piece:
    """The part of one chunk that lies on one page (or under one heading)."""

    chunk: int
    ref: SourceRef
    text: str


def _ids_in(tag: str) -> list[int]:
    ids: list[int] = []
    inner = tag.strip("[] ")
    for part in re.split(r"[,;]", inner):
        span = _RANGE.fullmatch(part.strip())
        if span:
            low, high = int(span.group(1)), int(span.group(2))
            if 0 <= high - low <= 1000:  # a wild range from a confused model is ignored
                ids.extend(range(low, high + 1))
        else:
            ids.extend(int(n) for n in _NUMBER.findall(part))
    return ids


def strip_tags(text: str) -> str:
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", _TAG_GROUP.sub("", text)).rstrip()


def content_words(text: str) -> Counter[str]:
    """Lower-cased words that can tie a point to a passage, with their counts: numbers, and
    words of three or more letters that are not function words."""
    return Counter(
        word
        for word in _WORD.findall(text.casefold())
        if word.isdigit() or (len(word) >= 3 and word not in _STOPWORDS)
    )


class SupportIndex:
    """The document's pieces with their content words, to score points against."""

    def __init__(self, pieces: Sequence[Piece]) -> None:
        self.pieces = list(pieces)
        self._words = [content_words(p.text) for p in self.pieces]
        counts: Counter[str] = Counter()
        for words in self._words:
            counts.update(words.keys())
        total = max(1, len(self.pieces))
        self._idf = {w: math.log(1 + total / n) for w, n in counts.items()}
        self._length = [sum(words.values()) for words in self._words]
        self._mean_length = max(1.0, sum(self._length) / total)

    def support(self, point: str) -> list[tuple[float, float, int]]:
        """(support, BM25 score, piece index) of every piece sharing a word with `point`."""
        words = [w for w in content_words(point) if w in self._idf]
        weight = sum(self._idf[w] for w in words)
        if weight <= 0:
            return []
        scored = []
        for index, piece_words in enumerate(self._words):
            shared = [w for w in words if w in piece_words]
            if not shared:
                continue
            norm = BM25_K1 * (1 - BM25_B + BM25_B * self._length[index] / self._mean_length)
            bm25 = sum(
                self._idf[w] * piece_words[w] * (BM25_K1 + 1) / (piece_words[w] + norm)
                for w in shared
            )
            scored.append((sum(self._idf[w] for w in shared) / weight, bm25, index))
        return scored

    def best(self, point: str, chunks: set[int] | None = None) -> list[Piece]:
        """The pieces that support `point` (among `chunks` when given), best first."""
        scored = [
            item
            for item in self.support(point)
            if chunks is None or self.pieces[item[2]].chunk in chunks
        ]
        top = max((share for share, _bm25, _i in scored), default=0.0)
        if top < MIN_SUPPORT:
            return []
        floor = max(MIN_SUPPORT, BEST_SHARE * top)
        kept = sorted(
            (item for item in scored if item[0] >= floor), key=lambda item: (-item[1], item[2])
        )
        return [self.pieces[i] for _share, _bm25, i in kept[:MAX_SOURCES]]


def pieces_of(
    text: str,
    chunks: Sequence[tuple[int, int, int]],
    sections: Sequence[tuple[int, int, SourceRef]],
) -> list[Piece]:
    """Cut `text` (Document.text) into pieces: each chunk (index, start, end) split where it
    crosses from one section (start, end, ref) into the next."""
    pieces: list[Piece] = []
    for index, start, end in chunks:
        merged: dict[SourceRef, list[str]] = {}
        for low, high, ref in sections:
            a, b = max(start, low), min(end, high)
            if a < b:
                merged.setdefault(ref, []).append(text[a:b])
        pieces.extend(Piece(index, ref, "\n\n".join(parts)) for ref, parts in merged.items())
    return pieces


def is_point(line: str) -> bool:
    """A line of a summary that states something (and so gets a citation): not blank, not a
    heading, not a label such as "Key points:" or "**Action items**"."""
    bare = strip_tags(line).strip().strip("*_-• ").strip()
    if not bare or line.strip().startswith("#"):
        return False
    return not (bare.endswith(":") and len(bare.split()) <= 6) and bool(_WORD.search(bare))


def cite(
    summary: str,
    index: SupportIndex,
    chunk_refs: Mapping[int, Sequence[SourceRef]],
) -> list[Citation]:
    """One Citation per non-empty line of `summary` (a bullet or a paragraph)."""
    citations: list[Citation] = []
    for line in summary.splitlines():
        if not is_point(line):
            continue
        tagged_ids = [
            i for tag in _TAG_GROUP.findall(line) for i in _ids_in(tag) if i in chunk_refs
        ]
        point = strip_tags(line).strip()
        chosen = index.best(point, set(tagged_ids)) if tagged_ids else []
        if not chosen:  # untagged, or the tags point where the words are not
            chosen = index.best(point)
        if chosen:
            ids = tuple(dict.fromkeys(p.chunk for p in chosen))
            refs = tuple(dict.fromkeys(p.ref for p in chosen))
        elif tagged_ids:
            ids = tuple(dict.fromkeys(tagged_ids))[:MAX_TAGGED_UNSUPPORTED]
            refs = tuple(dict.fromkeys(r for i in ids for r in chunk_refs[i]))[:MAX_SOURCES]
        else:
            ids, refs = (), ()
        citations.append(Citation(len(citations), point, ids, refs, bool(tagged_ids)))
    return citations
