"""The Documents controller's summary side: queues summaries and follows their jobs on the
page (status, progress, the streamed text). A part of DocumentsController
(app/gui/documents/controller.py), which owns the state named below. GUI thread only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future

from app.documents.citations import Citation
from app.documents.model import Document
from app.documents.options import SummaryOptions
from app.documents.progress import Progress
from app.documents.state import DocumentState, DocumentStatus
from app.documents.summary_text import chunk_heading
from app.documents.summary_types import ChunkSummary, SummaryResult
from app.gui.documents.entries import Entry, Shown
from app.gui.documents.queue import QueuedSummary, SummaryQueue
from app.gui.documents.reading import DocumentReader
from app.gui.engine_bridge import EngineBridge
from ui.documents.page import DocumentsPage
from ui.documents.summary_text import progress_text
from ui.widgets.delta_coalescer import DeltaCoalescer

NO_MODEL = "No model is loaded yet; the summary starts as soon as one is."

ChoiceOptions = tuple[str | int, str, str]  # (length, style, language or "auto")


class SummaryJobs:
    """Queuing summaries and following their jobs, for DocumentsController."""

    # What these methods use of DocumentsController, which sets it up: annotations only
    # (no class attributes), so the controller's own attributes and methods are what run.
    page: DocumentsPage
    bridge: EngineBridge
    reader: DocumentReader
    queue: SummaryQueue
    _entries: dict[str, Entry]
    _shown: Shown | None
    _follow_jobs: bool
    _ocr_running: set[str]
    _coalescer: DeltaCoalescer
    _refresh_rows: Callable[[], None]
    _read: Callable[[Entry], Future[tuple[Document, str | None]]]
    _show: Callable[[str, str, str, list[Citation], tuple[tuple[int, int], ...]], None]
    _purge_removed: Callable[[str], None]

    # ---- the summary queue -----------------------------------------------------------------

    def _on_summarize_requested(self, path: str, choice: object) -> None:
        length, style, language = choice  # type: ignore[misc]
        self.summarize([path], (length, style, language))

    def summarize(self, paths: Sequence[str], choice: ChoiceOptions) -> None:
        """Queue a summary of each of `paths` with (length, style, language or "auto")."""
        length, style, language_choice = choice
        try:
            options = SummaryOptions(length=length, style=style, language=language_choice)
        except ValueError as exc:
            self.page.show_error(str(exc).capitalize() + ".")
            return
        self._follow_jobs = True
        queued_any = False
        for path in paths:
            entry = self._entries.get(path)
            if entry is None or self.queue.job_for(path) is not None:
                continue
            if entry.status.state is DocumentState.MISSING:
                self.page.show_error(f"{entry.title} is no longer at {path}.")
                continue
            if entry.document is not None:
                ready: Future[tuple[Document, str | None]] = Future()
                ready.set_result((entry.document, entry.language))
            else:
                ready = self._read(entry)
            self.queue.submit(path, entry.title, options, ready, language_choice)
            if entry.status.state is not DocumentState.READING:
                entry.status, entry.detail = DocumentStatus(DocumentState.QUEUED), ""
            queued_any = True
        if queued_any:
            self.page.hide_error()
            self.page.set_busy(True)
            if self.bridge.info is None:
                self.page.show_error(NO_MODEL)
        self._refresh_rows()

    def cancel(self) -> None:
        """Stop the running summary (within a second) and drop the queued ones; finished
        parts stay stored, so summarizing again resumes. Stops OCR too."""
        self.queue.cancel()
        for path in self._ocr_running:
            self.reader.stop(path)

    def _on_job_waiting(self, job: QueuedSummary) -> None:
        if job.path in self._entries:
            self._entries[job.path].status = DocumentStatus(DocumentState.WAITING)
            self.page.show_error(NO_MODEL)
            self._refresh_rows()

    def _on_job_started(self, job: QueuedSummary) -> None:
        entry = self._entries.get(job.path)
        if entry is not None:
            job.title = entry.title
            entry.status, entry.detail = DocumentStatus(DocumentState.SUMMARIZING), ""
            self._refresh_rows()
        if self.page.error_bar.label.text() == NO_MODEL:
            self.page.hide_error()
        self.page.show_progress(self.queue.overall(0.0), self.queue.label(job))
        if self._follow_jobs:
            self._shown = None
            self.page.set_summary_title(job.title)
            self.page.begin_summary()

    def _on_job_progress(self, job: QueuedSummary, progress: Progress) -> None:
        percent = round(progress.fraction * 100)
        entry = self._entries.get(job.path)
        status = DocumentStatus(DocumentState.SUMMARIZING, percent=percent)
        if entry is not None and entry.status != status:
            entry.status = status
            self._refresh_rows()
        text = progress_text(
            progress.chunks_done,
            progress.chunks_total,
            progress.tokens_in,
            progress.tokens_out,
            0.0 if progress.phase == "done" else progress.seconds_left,  # none to measure
            self.queue.label(job),
        )
        self.page.show_progress(self.queue.overall(progress.fraction), text)

    def _on_job_delta(self, job: QueuedSummary, text: str) -> None:
        if self._follow_jobs and self.queue.running is job:
            self._coalescer.push(text)

    def _on_job_chunk(self, job: QueuedSummary, chunk: ChunkSummary) -> None:
        if self._follow_jobs and self.queue.running is job:
            self._show_chunk(chunk)

    def _show_chunk(self, chunk: ChunkSummary) -> None:
        self.page.append_chunk_summary(
            chunk_heading(chunk.index, chunk.total, chunk.refs), chunk.text
        )

    def _show_delta(self, text: str) -> None:
        self.page.append_summary(text)

    def _on_job_finished(self, job: QueuedSummary, result: SummaryResult) -> None:
        self._coalescer.flush()
        entry = self._entries.get(job.path)
        if entry is not None:
            entry.status = DocumentStatus(DocumentState.DONE)
            entry.detail = (
                "From the library (summarized before with these settings)."
                if result.from_cache
                else f"{result.chunks} chunks · {result.tokens_in:,} tokens in · "
                f"{result.tokens_out:,} out · {result.seconds:.0f} s"
            )
            self._refresh_rows()
        if self._follow_jobs and entry is not None:
            self._show(job.path, job.title, result.text, result.citations, result.spans)
        if result.echo_note:  # the summary is shown, but the user should know what it lacks
            self.page.show_error(f"{job.title}: {result.echo_note}")
        self._purge_removed(job.path)
        self._after_job()

    def _on_job_failed(self, job: QueuedSummary, kind: str, message: str) -> None:
        self._coalescer.flush()
        entry = self._entries.get(job.path)
        if kind == "cancelled":
            status, detail = (
                DocumentStatus(DocumentState.CANCELLED),
                "Finished parts are kept: summarize again",
            )
        elif kind == "engine":
            detail = (
                f"The model stopped answering ({message}). Finished parts are kept: "
                "summarize again to resume."
            )
            status = DocumentStatus(DocumentState.FAILED, reason=message)
            self.page.show_error(f"{job.title}: {detail}")
        else:
            status, detail = DocumentStatus(DocumentState.FAILED, reason=message), message
            self.page.show_error(message)
        if entry is not None and not (
            kind == "error" and entry.status.state is DocumentState.FAILED
        ):
            entry.status, entry.detail = status, detail
            self._refresh_rows()
        self._purge_removed(job.path)
        self._after_job()

    def _after_job(self) -> None:
        if self.queue.jobs:
            return
        self.page.set_busy(bool(self._ocr_running))
        done = self.queue.batch_total
        if self.queue.batch_cancelled:
            self.page.finish_progress(self.queue.overall(0.0), "Cancelled; finished parts are kept")
        else:
            what = "Summary finished" if done == 1 else f"All {done} summaries finished"
            self.page.finish_progress(1.0, what)
