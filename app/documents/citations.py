"""Map the [cN] tags in a final summary back to chunks, and chunks to pages or headings."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.documents.model import SourceRef

# [c3], [c3][c4], [c3, c5], [c3-c5] / [c3–c5]; models write all of these.
_TAG_GROUP = re.compile(r"\[\s*c\d+(?:\s*(?:[-–]|,|;)\s*c?\d+)*\s*\]", re.IGNORECASE)
_RANGE = re.compile(r"c?(\d+)\s*[-–]\s*c?(\d+)", re.IGNORECASE)
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Citation:
    """One point of the summary and where it came from. `tagged` is False when the model gave
    no usable tag and the point cites every chunk that went into the final pass."""

    point: int
    text: str
    chunk_ids: tuple[int, ...]
    refs: tuple[SourceRef, ...]
    tagged: bool


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


def cite(
    summary: str,
    chunk_refs: Mapping[int, Sequence[SourceRef]],
    fallback_ids: Sequence[int],
) -> list[Citation]:
    """One Citation per non-empty line of `summary` (a bullet or a paragraph)."""
    citations: list[Citation] = []
    for line in summary.splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        ids = [i for tag in _TAG_GROUP.findall(line) for i in _ids_in(tag) if i in chunk_refs]
        tagged = bool(ids)
        chosen = tuple(sorted(set(ids))) if tagged else tuple(fallback_ids)
        refs = tuple(dict.fromkeys(r for i in chosen for r in chunk_refs.get(i, ())))
        citations.append(Citation(len(citations), strip_tags(line).strip(), chosen, refs, tagged))
    return citations
