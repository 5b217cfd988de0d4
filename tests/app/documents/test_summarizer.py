from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from app.documents.extract import extract_document
from app.documents.model import Document, Section
from app.documents.options import SummaryOptions
from app.documents.progress import Progress
from app.documents.prompts import PROMPT_VERSION
from app.documents.splitter import split_sections
from app.documents.summarizer import Summarizer
from app.documents.summary_types import SummaryCancelled, model_key
from inference.process.request_log import ENV as REQUEST_LOG_ENV
from inference.process.request_log import read_log_file
from inference.protocol import EngineSettings, Priority
from inference.sync_client import EngineError, SyncEngine
from storage.database import Database
from storage.documents import DocumentRepository, FinalSummaryRecord, SummaryKey
from tests.support.document_builders import make_pdf, page_text
from tests.support.recording_engine import RecordingEngine, kind_of

# A small word target keeps partial summaries small enough for a 1024-token context.
SHORT = SummaryOptions(length=60, style="bullets", language="en")


@pytest.fixture
def engine(tiny_model: Path) -> Iterator[SyncEngine]:
    # Per test: the suite fails a test that leaves an engine process running.
    with SyncEngine.start(EngineSettings(model_path=str(tiny_model), n_ctx=1024)) as started:
        yield started


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DocumentRepository]:
    db, _ = Database.open(tmp_path / "hearth.db")
    yield DocumentRepository(db)
    db.close()


def long_document(pages: int = 12, content_hash: str = "h" * 64) -> Document:
    sections = tuple(Section(page_text(p, sentences=14), page=p) for p in range(1, pages + 1))
    return Document("Long report", "pdf", "/tmp/long.pdf", content_hash, sections, pages=pages)


def source_ids(prompt: str) -> list[list[int]]:
    """The chunk ids under each 'Source [c..]' header of a reduce or final prompt."""
    groups = []
    for header in re.findall(r"^Source ((?:\[c\d+(?:-c\d+)?\])+):$", prompt, re.MULTILINE):
        ids: list[int] = []
        for low, high in re.findall(r"\[c(\d+)(?:-c(\d+))?\]", header):
            ids.extend(range(int(low), int(high or low) + 1))
        groups.append(ids)
    return groups


def test_every_chunk_reaches_the_final_pass(
    tiny_model: Path, store: DocumentRepository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shown from the engine's own request log (inference/process/request_log.py): what the
    model was really asked, in the order it was served."""
    log_file = tmp_path / "requests.jsonl"
    monkeypatch.setenv(REQUEST_LOG_ENV, str(log_file))  # the engine keeps the text too
    document = long_document()
    progress: list[Progress] = []
    streamed: list[str] = []
    settings = EngineSettings(model_path=str(tiny_model), n_ctx=1024)
    with SyncEngine.start(settings) as engine:
        summarizer = Summarizer(engine, store)
        result = summarizer.summarize(
            document, SHORT, on_progress=progress.append, on_delta=streamed.append
        )
        chunks = split_sections(
            document.sections, summarizer.chunk_budget(SHORT, document.title), engine.count_tokens
        )
        log = [r for r in engine.request_log() if r.kind == "chat"]
    assert [r for r in read_log_file(log_file) if r.kind == "chat"] == log
    prompts = [r.prompt or "" for r in log]
    replies = [r.reply or "" for r in log]
    kinds = [kind_in(p) for p in prompts]
    assert result.chunks == len(chunks) > 3
    assert kinds.count("map") == len(chunks) and kinds[-1] == "final"
    assert kinds.count("final") == 1
    assert result.levels >= 1 and "reduce" in kinds  # the partials did not fit one pass
    assert all(r.priority == Priority.BACKGROUND and r.stop_reason != "cancelled" for r in log)

    # Each chunk's text went into exactly one map request, in order.
    maps = [p for p in prompts if kind_in(p) == "map"]
    for chunk, prompt in zip(chunks, maps, strict=True):
        assert chunk.text in prompt
    # Every reply (but the last) is quoted in a later request, and the final request's
    # sources cover every chunk exactly once.
    for number, reply in enumerate(replies[:-1]):
        assert any(reply.strip() in later for later in prompts[number + 1 :])
    final_sources = source_ids(prompts[-1])
    assert sorted(i for ids in final_sources for i in ids) == list(range(len(chunks)))
    # Reduce groups are consecutive and complete at every level.
    for prompt in prompts:
        if kind_in(prompt) == "reduce":
            ids = [i for group in source_ids(prompt) for i in group]
            assert ids == list(range(ids[0], ids[0] + len(ids)))

    # The final pass streamed, and progress ended at 100 % with measured speed.
    assert "".join(streamed).strip() == result.text
    assert progress[-1].phase == "done" and progress[-1].fraction == 1.0
    assert progress[-1].chunks_done == len(chunks)
    assert any(p.seconds_left is not None for p in progress)
    # The job's own accounting matches the engine's.
    assert len(result.requests) == len(log)
    assert [t.prompt_tokens for t in result.requests] == [r.prompt_tokens for r in log]
    assert result.tokens_in == sum(r.prompt_tokens for r in log) > 0
    assert all(0 < t.engine_ms <= t.wall_ms for t in result.requests)


def kind_in(prompt: str) -> str:
    """The summary step a logged prompt (chat template included) belongs to."""
    if "Summarize this part" in prompt:
        return "map"
    if "Below are summaries" in prompt:
        return "reduce"
    return "final"


def test_a_document_that_fits_takes_one_pass(engine: SyncEngine, store: DocumentRepository) -> None:
    recorder = RecordingEngine(engine)
    document = long_document(pages=1)
    result = Summarizer(recorder, store).summarize(document, SHORT)
    assert recorder.kinds() == ["final"]
    assert document.sections[0].text in recorder.prompts[0]
    assert result.chunks == 1 and result.levels == 0
    assert all(c.chunk_ids in ((0,), ()) for c in result.citations)


def test_resume_after_cancel_sends_only_the_missing_requests(
    engine: SyncEngine, store: DocumentRepository
) -> None:
    document = long_document()
    first = RecordingEngine(engine)
    summarizer = Summarizer(first, store)
    # Cancel as the third request finishes: its reply must not be kept.
    first.after_request = lambda n: summarizer.cancel() if n == 3 else None
    with pytest.raises(SummaryCancelled):
        summarizer.summarize(document, SHORT)
    assert first.kinds() == ["map"] * 3

    engine.reset_cancel()  # a new job on the same engine, as DocumentsQueue does
    second = RecordingEngine(engine)
    result = Summarizer(second, store).summarize(document, SHORT)
    resumed_maps = [p for p in second.prompts if kind_of(p) == "map"]
    assert len(resumed_maps) == result.chunks - 2  # chunks 0 and 1 were stored
    assert first.prompts[2] == resumed_maps[0]  # the cancelled one is redone, first
    assert not set(first.prompts[:2]) & set(second.prompts)
    assert result.reused == 2

    # Same settings again: instant, no request at all, same text and citations.
    third = RecordingEngine(engine)
    streamed: list[str] = []
    again = Summarizer(third, store).summarize(document, SHORT, on_delta=streamed.append)
    assert third.prompts == []
    assert again.from_cache and again.text == result.text == "".join(streamed)
    assert again.citations == result.citations

    # Other options are another summary.
    fourth = RecordingEngine(engine)
    Summarizer(fourth, store).summarize(document, SummaryOptions(length="short", style="paragraph"))
    assert fourth.kinds().count("map") == result.chunks


def test_resume_after_the_engine_process_was_killed(
    tiny_model: Path, store: DocumentRepository
) -> None:
    """SIGKILL, as the out-of-memory killer does: the job fails with the engine's message,
    three finished parts are stored, and a fresh engine resumes after them."""
    document = long_document(content_hash="c" * 64)
    settings = EngineSettings(model_path=str(tiny_model), n_ctx=1024)
    with SyncEngine.start(settings) as doomed:
        crashing = RecordingEngine(doomed)

        def kill(number: int) -> None:
            if number == 4:  # three map requests are done; the fourth goes to a dead engine
                pid = doomed.pid
                assert pid is not None
                os.kill(pid, signal.SIGKILL)
                # Dead but not reaped, so the engine's own supervision reads how it ended.
                dead = psutil.Process(pid)
                while dead.status() != psutil.STATUS_ZOMBIE:
                    threading.Event().wait(0.01)

        crashing.before_request = kill
        with pytest.raises(EngineError) as error:
            Summarizer(crashing, store).summarize(document, SHORT)
        assert error.value.kind == "crashed" and "SIGKILL" in str(error.value)
    assert crashing.kinds() == ["map"] * 4

    with SyncEngine.start(settings) as fresh:
        resumed = RecordingEngine(fresh)
        result = Summarizer(resumed, store).summarize(document, SHORT)
    maps = [p for p in resumed.prompts if kind_of(p) == "map"]
    assert len(maps) == result.chunks - 3 and result.reused == 3
    assert maps[0] == crashing.prompts[3]  # the killed request is the first one redone


def test_cancel_from_another_thread_starts_no_new_request(
    engine: SyncEngine, store: DocumentRepository
) -> None:
    recorder = RecordingEngine(engine)
    summarizer = Summarizer(recorder, store)
    started = threading.Event()
    recorder.after_request = lambda n: started.set()
    outcome: list[BaseException | None] = []
    document = long_document(pages=60, content_hash="d" * 64)

    def work() -> None:
        try:
            summarizer.summarize(document, SHORT)
            outcome.append(None)
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=work, name="summary-worker")
    worker.start()
    assert started.wait(30)
    summarizer.cancel()
    sent_at_cancel = len(recorder.prompts)
    worker.join(30)  # a guard against a hang, not a speed check (bench/ measures that)
    assert not worker.is_alive()
    assert isinstance(outcome[0], SummaryCancelled)
    # At most the request already on its way when cancel came; none after it.
    assert len(recorder.prompts) <= sent_at_cancel + 1 < 60
    assert summarizer_final(store, recorder, document) is None


def test_cancel_reaches_the_request_running_in_the_engine(
    engine: SyncEngine, store: DocumentRepository
) -> None:
    """The final pass streams; a cancel while it streams goes to the engine at once (the
    engine stops between two tokens: tests/inference/test_engine_process.py), and the cut
    reply is not stored."""
    recorder = RecordingEngine(engine)
    summarizer = Summarizer(recorder, store)
    document = long_document(pages=1, content_hash="e" * 64)
    with pytest.raises(SummaryCancelled):
        summarizer.summarize(document, SHORT, on_delta=lambda _text: summarizer.cancel())
    assert recorder.kinds() == ["final"] and recorder.cancels_in_flight >= 1
    assert summarizer_final(store, recorder, document) is None


def summarizer_final(
    store: DocumentRepository, engine: RecordingEngine, document: Document
) -> FinalSummaryRecord | None:
    """The stored final summary of `document` with SHORT, if any."""
    engine.reset_cancel()  # after a cancelled job: the budget is counted by the engine
    budget = Summarizer(engine, store).chunk_budget(SHORT, document.title)
    key = SummaryKey(
        document.content_hash,
        model_key(engine.info),
        SHORT.key(budget=budget, prompts=PROMPT_VERSION),
    )
    return store.get_final(key)


def test_citations_point_at_the_right_pdf_pages(
    engine: SyncEngine, store: DocumentRepository, tmp_path: Path
) -> None:
    path = make_pdf(tmp_path / "pages.pdf", [page_text(p, sentences=14) for p in range(1, 13)])
    document = extract_document(path)
    recorder = RecordingEngine(engine)
    summarizer = Summarizer(recorder, store)
    chunks = split_sections(
        document.sections, summarizer.chunk_budget(SHORT, document.title), engine.count_tokens
    )
    last = len(chunks) - 1
    # The tiny model cannot cite; script the final reply the way a capable model writes it.
    recorder.reply_for = lambda prompt: (
        f"- The start [c0].\n- The end [c{last}].\n- Both ends [c0, c{last}].\n- No tag here."
        if kind_of(prompt) == "final"
        else None
    )
    result = summarizer.summarize(document, SHORT)
    first_pages = {r.page for r in chunks[0].refs}
    last_pages = {r.page for r in chunks[last].refs}
    assert 1 in first_pages and 12 in last_pages
    # The chunk's text really is from those pages.
    for ref in chunks[0].refs:
        assert f"Page {ref.page} sentence" in chunks[0].text

    start, end, both, untagged = result.citations
    assert start.text == "- The start." and start.tagged
    # No word of these points is in the document: the model's tags are all there is, so
    # they are kept, capped (app/documents/citations.py).
    assert start.chunk_ids == (0,) and {r.page for r in start.refs} <= first_pages
    assert end.chunk_ids == (last,) and {r.page for r in end.refs} <= last_pages
    assert both.chunk_ids == (0, last)
    assert 0 < len(start.refs) <= 3
    # A point without a tag and without words of the document cites nothing.
    assert not untagged.tagged and untagged.chunk_ids == () and untagged.refs == ()
