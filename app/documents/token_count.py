"""Counting a whole document's tokens with the model's tokenizer, a piece at a time; a huge
document's count is estimated from evenly spread samples instead (tens of thousands of
tokenize requests would take minutes for a number the page only shows)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

COUNT_PIECE_CHARS = 40_000  # one tokenize request; small enough that shutdown is not held up
EXACT_LIMIT_CHARS = 4_000_000  # above this (about 100 requests), estimate
SAMPLE_PIECES = 24


class CountStopped(Exception):
    """`should_stop` said so between two requests."""


def text_pieces(text: str, limit: int = COUNT_PIECE_CHARS) -> Iterator[str]:
    """`text` cut at whitespace into pieces of at most about `limit` characters, so counting
    them one by one gives (almost exactly) the count of the whole. One piece at a time: a
    list of them would be a second copy of the text."""
    start = 0
    while len(text) - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit)
        cut = start + limit if cut < 0 else cut
        yield text[start:cut]
        start = cut
    if start < len(text):
        yield text[start:]


def count_document_tokens(
    text: str,
    count: Callable[[str], int],
    should_stop: Callable[[], bool] = lambda: False,
    exact_limit: int = EXACT_LIMIT_CHARS,
) -> tuple[int, bool]:
    """(tokens, estimated): the exact count up to `exact_limit` characters, above it
    tokens-per-character of SAMPLE_PIECES pieces spread over the text times its length."""
    if len(text) <= exact_limit:
        total = 0
        for piece in text_pieces(text):
            if should_stop():
                raise CountStopped
            total += count(piece)
        return total, False
    step = (len(text) - COUNT_PIECE_CHARS) // (SAMPLE_PIECES - 1)
    sampled_chars = sampled_tokens = 0
    for n in range(SAMPLE_PIECES):
        if should_stop():
            raise CountStopped
        # Start and end at a space, as text_pieces does, so no word is cut in two.
        at = n * step
        space = text.find(" ", at, at + 1000)  # text without spaces (Chinese): cut anywhere
        start = space + 1 if space >= 0 else at
        end = text.rfind(" ", start, start + COUNT_PIECE_CHARS)
        piece = text[start : end if end > start else start + COUNT_PIECE_CHARS]
        sampled_chars += len(piece)
        sampled_tokens += count(piece)
    return round(sampled_tokens / max(1, sampled_chars) * len(text)), True
