"""Counting a whole document's tokens with the model's tokenizer, a piece at a time."""

from __future__ import annotations

COUNT_PIECE_CHARS = 40_000  # one tokenize request; small enough that shutdown is not held up


def text_pieces(text: str, limit: int = COUNT_PIECE_CHARS) -> list[str]:
    """`text` cut at whitespace into pieces of at most about `limit` characters, so counting
    them one by one gives (almost exactly) the count of the whole."""
    pieces: list[str] = []
    start = 0
    while len(text) - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit)
        cut = start + limit if cut < 0 else cut
        pieces.append(text[start:cut])
        start = cut
    if start < len(text):
        pieces.append(text[start:])
    return pieces
