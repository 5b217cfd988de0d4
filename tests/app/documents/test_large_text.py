"""A huge plain-text file: read in blocks, counted without a list of its words, its token
count estimated from samples; memory stays a small multiple of the file, and reading or
counting can be stopped."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from app.documents.extract import DocumentError, extract_document
from app.documents.token_count import (
    EXACT_LIMIT_CHARS,
    CountStopped,
    count_document_tokens,
    text_pieces,
)
from tests.support.document_builders import make_large_text


def test_a_large_text_file_opens_with_bounded_memory(tmp_path: Path) -> None:
    path, words = make_large_text(tmp_path / "big.txt", megabytes=24)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        document = extract_document(path)
        assert document.words == words
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The text itself is about the file's size (mostly ASCII); bytes and text, or text and
    # its decoded pieces, may meet once; a list of its words would be ten times the file.
    assert peak < 2.5 * size, f"peak {peak / size:.2f}× the file"
    text = document.text
    assert "\r" not in text and text.startswith("Paragraph 0 says: word0x0 über")
    assert len(document.sections) == 1 and document.type == "text"


def test_reading_a_large_text_file_can_be_stopped(tmp_path: Path) -> None:
    path, _words = make_large_text(tmp_path / "big.txt", megabytes=12)
    asked: list[None] = []

    def stop_after_the_first_block() -> bool:
        asked.append(None)
        return len(asked) > 1

    with pytest.raises(DocumentError, match="was stopped"):
        extract_document(path, should_stop=stop_after_the_first_block)


def words_as_tokens(text: str) -> int:
    """A stand-in tokenizer for the arithmetic: one token per word."""
    return len(text.split())


def test_token_count_is_exact_below_the_limit_and_estimated_above() -> None:
    small = "one two three " * 1000
    assert count_document_tokens(small, words_as_tokens) == (3000, False)
    pieces = list(text_pieces(small, limit=100))
    assert "".join(pieces) == small and max(len(p) for p in pieces) <= 100

    varied = " ".join(f"w{n}" + " x" * (n % 5) for n in range(EXACT_LIMIT_CHARS // 4))
    exact = words_as_tokens(varied)
    estimate, estimated = count_document_tokens(varied, words_as_tokens)
    assert estimated and abs(estimate - exact) / exact < 0.02


def test_counting_stops_when_asked() -> None:
    with pytest.raises(CountStopped):
        count_document_tokens("word " * 100_000, words_as_tokens, should_stop=lambda: True)
