"""Prompt-lookup drafting (issue 13): guess the next tokens of a reply that copies its source.

A summary quoting its document, a translation carrying names and numbers, an edit of a pasted
text: the reply's next tokens often follow an n-gram that already occurred in the prompt or
the reply. `PromptLookup` finds the latest earlier occurrence of the longest suffix n-gram
(n from `ngram_max` down to `ngram_min`) of prompt + reply so far and proposes the tokens that
followed it. The main model verifies them (speculative.py), so a wrong guess costs time, never
a different reply.

Per token the index does a few dict stores of small tuples (one per n), nothing that grows
with the text: the lookup is a dict get per n, not a scan. `DraftLength` adapts how many
tokens to propose: more after a fully accepted draft, fewer after a miss.
"""

from __future__ import annotations

from collections.abc import Sequence


class PromptLookup:
    """An index of the n-grams of one token sequence (prompt + reply so far), kept current
    as the reply grows (`sync`). Each n-gram maps to the position just after its latest
    occurrence; the n-grams ending at the very end are indexed only once a token follows
    them, so a lookup of the current suffix finds an earlier occurrence with a continuation."""

    kind = "prompt lookup"  # in the trace and the draft switch's key (draft_model.py)

    def __init__(self, tokens: Sequence[int], ngram_max: int = 4, ngram_min: int = 2) -> None:
        if not 1 <= ngram_min <= ngram_max:
            raise ValueError(f"bad n-gram sizes {ngram_min}..{ngram_max}")
        self._sizes = tuple(range(ngram_max, ngram_min - 1, -1))
        self._index: dict[int, dict[tuple[int, ...], int]] = {n: {} for n in self._sizes}
        self._tokens: list[int] = []
        self._indexed = 0  # n-grams ending at positions <= this are in the index
        self.extend(tokens)

    def __len__(self) -> int:
        return len(self._tokens)

    def extend(self, tokens: Sequence[int]) -> None:
        self._tokens.extend(tokens)
        seq = self._tokens
        end = len(seq) - 1  # leave the n-grams ending at the last token out (see class doc)
        for position in range(self._indexed + 1, end + 1):
            for n, index in self._index.items():
                if position >= n:
                    index[tuple(seq[position - n : position])] = position
        self._indexed = max(self._indexed, end)

    def sync(self, tokens: Sequence[int], offset: int) -> None:
        """Catch up with `tokens`, the part of the sequence from `offset` on (the reply's ids
        after the prompt): only what was appended since the last call is indexed."""
        have = len(self._tokens) - offset
        if have < len(tokens):
            self.extend(tokens[have:])

    def propose(self, k: int) -> list[int]:
        """Up to `k` tokens that followed the latest earlier occurrence of the longest suffix
        n-gram found; [] when none occurred before."""
        seq = self._tokens
        length = len(seq)
        if k <= 0:
            return []
        for n in self._sizes:
            if length < n:
                continue
            start = self._index[n].get(tuple(seq[length - n :]))
            if start is not None:
                return seq[start : min(start + k, length)]
        return []


class DraftLength:
    """How many tokens to draft next: grows by `grow` after a draft accepted in full (up to
    `most`), falls to one more than what was accepted after a miss (at least `least`)."""

    def __init__(self, start: int = 4, least: int = 1, most: int = 12, grow: int = 2) -> None:
        self.least = least
        self.most = most
        self.grow = grow
        self.k = max(least, min(most, start))

    def update(self, drafted: int, accepted: int) -> None:
        if drafted <= 0:
            return
        if accepted == drafted:
            if drafted >= self.k:  # a short draft (little to copy) says nothing about k
                self.k = min(self.most, self.k + self.grow)
        else:
            self.k = max(self.least, accepted + 1)
