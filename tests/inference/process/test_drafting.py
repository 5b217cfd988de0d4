"""Prompt lookup (issue 13): the drafter proposes what followed the latest earlier occurrence
of the longest suffix n-gram, and its index follows the reply as it grows."""

from __future__ import annotations

import pytest

from inference.process.drafting import DraftLength, PromptLookup


def test_proposes_what_followed_the_latest_longest_match() -> None:
    lookup = PromptLookup([1, 2, 3, 4, 5, 9, 9, 2, 3, 4, 6, 7, 8, 2, 3, 4])
    # Suffix 2 3 4: latest earlier occurrence is followed by 6 7 8 (not 5 9 9).
    assert lookup.propose(3) == [6, 7, 8]
    assert lookup.propose(1) == [6]
    assert lookup.propose(0) == []


def test_longer_ngrams_win_over_later_shorter_ones() -> None:
    # "1 2 3" occurs once (followed by 50); "2 3" occurs later, followed by 60.
    lookup = PromptLookup([1, 2, 3, 50, 7, 2, 3, 60, 8, 1, 2, 3], ngram_max=3, ngram_min=2)
    assert lookup.propose(2) == [50, 7]


def test_nothing_to_propose() -> None:
    assert PromptLookup([1, 2, 3, 4]).propose(4) == []
    assert PromptLookup([]).propose(4) == []
    assert PromptLookup([5]).propose(4) == []


def test_a_draft_stops_at_the_end_of_what_is_known() -> None:
    lookup = PromptLookup([7, 8, 7, 8])
    # 7 8 occurred at the start, followed by 7 8 (the suffix itself): nothing beyond it.
    assert lookup.propose(10) == [7, 8]


def test_sync_indexes_only_what_was_appended() -> None:
    prompt = [10, 11, 12, 13, 14, 15]
    lookup = PromptLookup(prompt)
    reply: list[int] = []
    lookup.sync(reply, len(prompt))
    assert len(lookup) == 6
    reply += [11, 12]
    lookup.sync(reply, len(prompt))
    assert len(lookup) == 8
    assert lookup.propose(3) == [13, 14, 15]
    reply += [13, 14]
    lookup.sync(reply, len(prompt))
    lookup.sync(reply, len(prompt))  # nothing new: nothing added twice
    assert len(lookup) == 10
    assert lookup.propose(2) == [15, 11]


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        PromptLookup([1], ngram_max=1, ngram_min=2)


def test_draft_length_adapts() -> None:
    length = DraftLength(start=4, least=1, most=8, grow=2)
    length.update(4, 4)
    assert length.k == 6
    length.update(6, 6)
    length.update(8, 8)
    assert length.k == 8  # capped
    length.update(8, 2)
    assert length.k == 3  # one more than what was accepted
    length.update(3, 0)
    assert length.k == 1
    length.update(1, 1)
    assert length.k == 3
    length.update(2, 2)  # a short draft accepted in full says nothing about k
    assert length.k == 3
