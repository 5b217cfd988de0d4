"""Fitting partial summaries into the context: their size as prompt text, cutting one that is
too long, and packing consecutive ones into groups that one reduce request can carry."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.documents.prompts import blocks
from app.documents.splitter import CachedCounter


@dataclass
class Partial:
    chunk_ids: tuple[int, ...]
    text: str


def tokens_of(count: CachedCounter, partials: Sequence[Partial]) -> int:
    return count(blocks([(p.chunk_ids, p.text) for p in partials]))


def fit_halves(count: CachedCounter, budget: int, partials: Sequence[Partial]) -> list[Partial]:
    # One batch for the blocks that fit_half, groups_of and tokens_of all count.
    count.prime(blocks([(p.chunk_ids, p.text)]) for p in partials)
    return [fit_half(count, budget, p) for p in partials]


def fit_half(count: CachedCounter, budget: int, partial: Partial) -> Partial:
    """A partial summary longer than half the budget (a model that rambled, or text that
    re-tokenizes longer than it was generated) is cut at a word so two always fit a group;
    otherwise the reduction could not shrink. Deterministic, so resume still matches."""
    limit = budget // 2 - 16
    if count(blocks([(partial.chunk_ids, partial.text)])) <= limit:
        return partial
    ends = [m.end() for m in re.finditer(r"\S+", partial.text)]
    low, high, best = 0, len(ends) - 1, 0
    while low <= high:
        middle = (low + high) // 2
        text = partial.text[: ends[middle]]
        if count(blocks([(partial.chunk_ids, text)])) <= limit:
            best, low = ends[middle], middle + 1
        else:
            high = middle - 1
    return Partial(partial.chunk_ids, partial.text[:best])


def groups_of(
    count: CachedCounter, budget: int, partials: Sequence[Partial]
) -> list[list[Partial]]:
    """Consecutive partials packed greedily into groups whose prompt text fits."""
    groups: list[list[Partial]] = []
    current: list[Partial] = []
    used = 0
    for partial in partials:
        size = count(blocks([(partial.chunk_ids, partial.text)])) + 2
        if current and used + size > budget:
            groups.append(current)
            current, used = [], 0
        current.append(partial)
        used += size
    if current:
        groups.append(current)
    return groups
