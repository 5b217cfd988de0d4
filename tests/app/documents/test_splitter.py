from __future__ import annotations

from pathlib import Path

import pytest

from app.documents.model import Section
from app.documents.splitter import (
    BATCH_CHARS,
    BATCH_TEXTS,
    CachedCounter,
    Chunk,
    split_sections,
)
from inference.protocol import EngineSettings
from inference.sync_client import SyncEngine
from tests.support.document_builders import page_text


def words(text: str) -> int:
    return len(text.split())


def assert_lossless(sections: list[Section], chunks: list[Chunk]) -> None:
    """The documented contract: chunks are in-order, non-overlapping, stripped slices of the
    joined text with only whitespace between them (and around them)."""
    full = "\n\n".join(s.text for s in sections)
    cursor = 0
    for chunk in chunks:
        assert full[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip() and chunk.text
        assert full[cursor : chunk.start].strip() == ""
        cursor = chunk.end
    assert full[cursor:].strip() == ""
    assert "".join(c.text for c in chunks).replace(" ", "").replace("\n", "") == full.replace(
        " ", ""
    ).replace("\n", "")


def test_sections_that_fit_are_never_cut() -> None:
    sections = [Section(page_text(p, sentences=3), page=p) for p in range(1, 11)]  # 33 words
    chunks = split_sections(sections, 110, words)
    assert_lossless(sections, chunks)
    assert all(c.tokens <= 110 for c in chunks)
    # 3 pages of 33 words (+ joins) fit in 110; every cut falls between pages.
    assert [tuple(r.page for r in c.refs) for c in chunks] == [
        (1, 2, 3),
        (4, 5, 6),
        (7, 8, 9),
        (10,),
    ]


def test_cuts_prefer_headings_over_paragraphs() -> None:
    para = "word " * 20
    sections = [
        Section(f"# A\n\n{para}\n\n{para}", heading_path=("A",)),
        Section(f"# B\n\n{para}\n\n{para}\n\n{para}", heading_path=("B",)),
        Section(f"# C\n\n{para}", heading_path=("C",)),
    ]
    chunks = split_sections(sections, 70, words)
    assert_lossless(sections, chunks)
    # Greedy filling would cut inside B; the heading boundary keeps the chunk half full.
    assert chunks[0].text.startswith("# A") and chunks[0].refs[-1].heading_path == ("A",)
    assert chunks[1].text.startswith("# B")


def test_long_paragraph_is_cut_at_sentences_then_words() -> None:
    sentence = "This is a sentence of exactly ten words in it."
    long_sentence = " ".join(f"w{i}" for i in range(95))
    text = " ".join([sentence] * 12) + " " + long_sentence + ". " + sentence
    sections = [Section(text, heading_path=("Only",))]
    chunks = split_sections(sections, 30, words)
    assert_lossless(sections, chunks)
    assert all(c.tokens <= 30 for c in chunks)
    # Sentence cuts while sentences fit: the first chunks end at a full stop.
    assert chunks[0].text.endswith("in it.")
    assert all(c.refs == chunks[0].refs for c in chunks)
    assert chunks[0].refs[0].heading_path == ("Only",)


def test_a_chinese_paragraph_is_cut_at_its_full_stops() -> None:
    """CJK full stops need no space after them: a long paragraph is cut at 。, not by
    characters in mid-sentence (the splitter translation uses sees the same sentences)."""
    sentence = "这是一个关于天气的句子。"
    sections = [Section(sentence * 20)]

    def chars(text: str) -> int:
        return len(text)

    chunks = split_sections(sections, 30, chars)
    assert_lossless(sections, chunks)
    assert all(c.text.endswith("。") for c in chunks)


def test_a_giant_word_is_cut_by_characters() -> None:
    blob = "x" * 500
    sections = [Section(f"before {blob} after")]

    def chars(text: str) -> int:
        return len(text) // 10 + 1

    chunks = split_sections(sections, 12, chars)
    assert_lossless(sections, chunks)
    assert all(chars(c.text) <= 12 for c in chunks)
    assert "".join(c.text for c in chunks).replace(" ", "") == f"before{blob}after"


def test_counts_are_cached_per_piece_not_per_character() -> None:
    sections = [Section(page_text(p), page=p) for p in range(1, 41)]
    counted: list[str] = []

    def counting_words(text: str) -> int:
        counted.append(text)
        return words(text)

    chunks = split_sections(sections, 200, CachedCounter(counting_words))
    assert_lossless(sections, chunks)
    # About one count per page plus one check per chunk.
    assert len(counted) <= len(sections) + 2 * len(chunks)


def paragraphs_document(sections: int, paragraphs: int) -> list[Section]:
    """Sections of many distinct paragraphs of varying length (some a few kB)."""
    return [
        Section(
            "\n\n".join(
                f"Section {s} paragraph {p}: " + " ".join(["filler"] * (5 + (p * 37) % 700))
                for p in range(paragraphs)
            ),
            page=s + 1,
        )
        for s in range(sections)
    ]


def test_paragraphs_are_counted_in_bounded_batches() -> None:
    sections = paragraphs_document(
        sections=6, paragraphs=120
    )  # 720 paragraphs, ~2 MB, all within the budget
    batches: list[list[str]] = []
    singles: list[str] = []

    def words_one(text: str) -> int:
        singles.append(text)
        return words(text)

    def words_many(texts: list[str]) -> list[int]:
        batches.append(list(texts))
        return [words(t) for t in texts]

    chunks = split_sections(sections, 800, CachedCounter(words_one, words_many))
    assert_lossless(sections, chunks)
    # Same chunks as counting one text at a time.
    assert chunks == split_sections(sections, 800, words)
    assert all(len(b) <= BATCH_TEXTS and sum(map(len, b)) <= BATCH_CHARS for b in batches)
    text_chars = sum(len(s.text) for s in sections)
    # Paragraphs and planned chunks: each pass over the document fills batches up to a bound.
    passes_need = 2 * (text_chars // BATCH_CHARS + 720 // BATCH_TEXTS + 2)
    assert len(batches) <= passes_need < 720 // 10
    assert len(singles) <= len(chunks) // 4


def test_budget_must_be_positive() -> None:
    with pytest.raises(ValueError):
        split_sections([Section("text")], 0, words)


def test_with_the_models_own_tokenizer(tiny_model: Path) -> None:
    sections = [Section(page_text(p, sentences=12), page=p) for p in range(1, 13)]
    with SyncEngine.start(EngineSettings(model_path=str(tiny_model), n_ctx=512)) as engine:
        chunks = split_sections(sections, 150, engine.count_tokens)
        assert_lossless(sections, chunks)
        for chunk in chunks:
            assert engine.count_tokens(chunk.text) == chunk.tokens <= 150
    assert len(chunks) > 1


def test_with_the_models_own_tokenizer_in_few_requests(tiny_model: Path) -> None:
    """The engine is asked for the paragraphs and chunks of a document in a few batch requests,
    not once per paragraph (each round trip costs ~1 ms), and the chunks are the same."""
    sections = [
        Section("\n\n".join(page_text(p * 10 + k, sentences=2) for k in range(8)), page=p)
        for p in range(1, 31)
    ]  # 240 paragraphs
    requests = {"single": 0, "batch": 0}
    with SyncEngine.start(EngineSettings(model_path=str(tiny_model), n_ctx=512)) as engine:

        def single(text: str) -> int:
            requests["single"] += 1
            return engine.count_tokens(text)

        def many(texts: list[str]) -> list[int]:
            requests["batch"] += 1
            return engine.count_tokens_many(texts)

        chunks = split_sections(sections, 150, CachedCounter(single, many))
        assert_lossless(sections, chunks)
        assert requests["batch"] <= 4 and requests["single"] <= len(chunks) // 4
        assert chunks == split_sections(sections, 150, engine.count_tokens)
    assert len(chunks) > 10
