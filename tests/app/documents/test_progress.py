"""Time left of a summary (app/documents/progress.py has its one definition): measured from
the first request as it runs, not only after it (issue 10, item 15: "0% · chunk 0 of 7" for
80 s with no estimate)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.documents import summarizer as summarizer_module
from app.documents import summary_run as summary_run_module
from app.documents.model import Document, Section
from app.documents.options import SummaryOptions
from app.documents.progress import MIN_MEASURED_TOKENS, Progress, RunningRequest, seconds_left
from app.documents.summarizer import Summarizer
from app.documents.summary_types import ChunkSummary
from inference.protocol import EngineSettings
from inference.sync_client import SyncEngine
from storage.database import Database
from storage.documents import DocumentRepository
from tests.support.document_builders import page_text


def test_no_estimate_until_the_first_request_has_streamed_enough_tokens() -> None:
    running = RunningRequest(started=100.0, first_token=None, tokens=0, budget=100)
    assert seconds_left([], 7, running, now=150.0) is None  # still in the prefill
    few = RunningRequest(100.0, 140.0, MIN_MEASURED_TOKENS - 1, 100)
    assert seconds_left([], 7, few, now=141.0) is None


def test_the_first_request_measures_prefill_and_decode_speed() -> None:
    # 40 s to the first token, then 10 tokens in 1 s: one request ≈ 40 + 100 × 0.1 = 50 s;
    # 7 requests left, 41 s of the running one already spent.
    running = RunningRequest(100.0, 140.0, 10, 100)
    assert seconds_left([], 7, running, now=141.0) == pytest.approx(50 * 7 - 41)


def test_finished_requests_give_the_mean_and_the_running_one_counts_as_begun() -> None:
    assert seconds_left([30.0, 50.0], 3, None, now=0.0) == pytest.approx(120.0)
    running = RunningRequest(10.0, None, 0, 100)
    assert seconds_left([30.0, 50.0], 3, running, now=20.0) == pytest.approx(110.0)
    assert seconds_left([30.0], 0, None, now=0.0) == 0.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DocumentRepository]:
    db, _ = Database.open(tmp_path / "hearth.db")
    yield DocumentRepository(db)
    db.close()


def test_a_job_reports_an_estimate_during_its_first_request_and_each_chunk_when_done(
    tiny_model: Path, store: DocumentRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(summary_run_module, "REPORT_EVERY_S", 0.0)  # report on every token
    # A fixed seed: with a random one the random-weight model now and then ends its first
    # answer within MIN_MEASURED_TOKENS, and no estimate can be made from so few tokens.
    monkeypatch.setattr(summarizer_module, "SAMPLING", replace(summarizer_module.SAMPLING, seed=7))
    sections = tuple(Section(page_text(p, sentences=14), page=p) for p in range(1, 9))
    document = Document("Long", "pdf", "/tmp/long.pdf", "p" * 64, sections, pages=8)
    progress: list[Progress] = []
    chunks: list[ChunkSummary] = []
    with SyncEngine.start(EngineSettings(model_path=str(tiny_model), n_ctx=1024)) as engine:
        result = Summarizer(engine, store).summarize(
            document,
            SummaryOptions(length=60, style="bullets", language="en"),
            on_progress=progress.append,
            on_chunk=chunks.append,
        )
    first = [p for p in progress if p.requests_done == 0 and p.phase == "map"]
    assert first[0].seconds_left is None  # nothing measured yet
    assert any(p.seconds_left is not None for p in first)  # before the first one finished
    assert [c.index for c in chunks] == list(range(result.chunks)) and result.chunks > 2
    assert all(c.total == result.chunks and c.refs for c in chunks)
    assert progress[-1].phase == "done" and progress[-1].seconds_left is None
