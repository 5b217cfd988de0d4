"""Drives the Documents page: opens files, shows their counts, queues summaries, keeps the
library of summarized documents and shows summaries with clickable citations.

The work happens elsewhere: DocumentReader (app/gui/documents/reading.py) reads files and counts
tokens on its threads, SummaryQueue (app/gui/documents/queue.py) runs the summaries on its
thread. Everything in this module runs in the GUI thread.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Signal

from app.documents.citations import Citation
from app.documents.extract import SUPPORTED_EXTENSIONS
from app.documents.model import Document
from app.documents.options import SAME_AS_DOCUMENT, SummaryOptions
from app.documents.progress import Progress
from app.documents.prompts import PROMPT_VERSION
from app.documents.state import DocumentState, DocumentStatus
from app.documents.summarizer import (
    ChunkSummary,
    SummaryResult,
    citation_from_json,
    model_key,
)
from app.documents.summary_text import chunk_heading, linked_markdown, passage_text, plain_markdown
from app.documents.work_queue import wait_until_done
from app.gui.chat.controller import ChatController
from app.gui.documents.entries import Entry, Shown
from app.gui.documents.queue import QueuedSummary, SummaryQueue, WrapEngine
from app.gui.documents.reading import DocumentReader
from app.gui.engine_bridge import EngineBridge
from app.languages.codes import in_reading_order
from app.util.atomic_write import write_atomic
from inference.protocol import ModelInfo
from storage.database import Database
from storage.documents import DocumentRepository, FinalSummaryRecord
from storage.errors import DatabaseError
from storage.records import Role
from ui.documents.page import DocumentsPage
from ui.documents.rows import DocumentRow, cite_link
from ui.documents.summary_text import progress_text
from ui.main_window import MainWindow
from ui.widgets.delta_coalescer import DeltaCoalescer

SHUTDOWN_WAIT_S = 4.0
NO_MODEL = "No model is loaded yet; the summary starts as soon as one is."

ChoiceOptions = tuple[str | int, str, str]  # (length, style, language or "auto")


class DocumentsController(QObject):
    """Signals: ``jobFinished(path, status)`` when one summary ends (done, cancelled or
    failed), ``queueFinished()`` when the queue has run empty, ``documentRead(path)`` when a
    file was read (or could not be)."""

    jobFinished = Signal(str, str)
    queueFinished = Signal()
    documentRead = Signal(str)

    def __init__(
        self,
        page: DocumentsPage,
        chat: ChatController,
        repository: DocumentRepository,
        *,
        wrap_engine: WrapEngine | None = None,
    ) -> None:
        """`wrap_engine` wraps each summary job's engine (e.g. to record its requests)."""
        super().__init__(page)
        self.page = page
        self.chat = chat
        self.repository = repository
        self.bridge = EngineBridge(chat.client, parent=self, info=chat.model_info)
        self._count_bridge = EngineBridge(chat.client, parent=self, info=chat.model_info)
        self.reader = DocumentReader(self._count_bridge, parent=self)
        self.queue = SummaryQueue(self.bridge, repository, parent=self, wrap_engine=wrap_engine)
        self._entries: dict[str, Entry] = {}
        self._shown: Shown | None = None
        self._follow_jobs = True
        self._pending_passage: tuple[str, int] | None = None  # (path, link) awaiting a read
        self._read_errors: list[str] = []  # of the files opened last
        # Removed with their summaries while a job of theirs still ran: path -> content hash,
        # purged again once the job has ended (it may have stored a part meanwhile).
        self._purge_after_job: dict[str, str] = {}
        self._ocr_offer: str | None = None  # the scanned PDF the Run OCR button is for
        self._ocr_running: set[str] = set()
        self._closed = False
        self._coalescer = DeltaCoalescer(parent=self)
        self._coalescer.flushed.connect(self._show_delta)

        page.set_extensions(SUPPORTED_EXTENSIONS)
        # The same names, in the same order, as the Translate page's lists.
        page.set_languages(
            [(lang.code, lang.label) for lang in in_reading_order()], SAME_AS_DOCUMENT
        )
        page.openRequested.connect(self.open_paths)
        page.summarizeRequested.connect(self._on_summarize_requested)
        page.cancelRequested.connect(self.cancel)
        page.documentSelected.connect(self._on_selected)
        page.optionsChanged.connect(self._on_options_changed)
        page.citationClicked.connect(self._on_citation)
        page.exportRequested.connect(self.export)
        page.discussRequested.connect(self.discuss)
        page.removeRequested.connect(self.remove)
        page.ocrRequested.connect(self.run_ocr)
        chat.modelReady.connect(self._on_model_ready)

        self.reader.documentRead.connect(self._on_read)
        self.reader.readFailed.connect(self._on_read_failed)
        self.reader.ocrProgress.connect(self._on_ocr_progress)
        self.reader.tokensCounted.connect(self._on_counted)
        self.reader.countFailed.connect(self._on_count_failed)
        q = self.queue
        q.jobWaiting.connect(self._on_job_waiting)
        q.jobStarted.connect(self._on_job_started)
        q.jobProgress.connect(self._on_job_progress)
        self.bridge.pausedChanged.connect(self.page.show_paused)
        q.jobDelta.connect(self._on_job_delta)
        q.jobChunk.connect(self._on_job_chunk)
        q.jobFinished.connect(self._on_job_finished)
        q.jobFailed.connect(self._on_job_failed)
        self._load_library()

    # ---- library and rows ------------------------------------------------------------------

    def _load_library(self) -> None:
        try:
            for record in self.repository.list_recent():
                summarized = bool(self.repository.finals_for(record.content_hash))
                self._entries[record.path] = Entry.from_record(record, summarized)
        except DatabaseError as exc:
            self.page.show_error(f"The documents library could not be read: {exc}")
        self._refresh_rows()

    def _refresh_rows(self) -> None:
        self.page.set_documents([entry.row() for entry in self._entries.values()])

    def entries(self) -> list[DocumentRow]:
        """What the table shows, in order."""
        return [entry.row() for entry in self._entries.values()]

    def remove(self, paths: Sequence[str], delete_summaries: bool) -> None:
        """Take `paths` off the list and out of the library; their files stay where they are.
        A queued or running summary of one of them is cancelled first. With
        `delete_summaries` False the stored summaries stay (keyed by content), so opening the
        same file again shows them."""
        removed = 0
        for path in paths:
            entry = self._entries.get(path)
            if entry is None:
                continue
            job = self.queue.job_for(path)
            if job is not None:
                self.queue.cancel(job)
            self.reader.stop(path)  # a huge file may still be being read or counted
            if entry.content_hash is not None:
                self.reader.stop(entry.content_hash)
            shared = any(
                other is not entry and other.content_hash == entry.content_hash
                for other in self._entries.values()
            )
            if entry.content_hash is not None and not shared:
                try:
                    self.repository.delete(entry.content_hash, summaries=delete_summaries)
                except DatabaseError as exc:
                    self.page.show_error(f"{entry.title} could not be removed: {exc}")
                    continue  # still listed and stored: nothing is lost
                if job is not None and delete_summaries:
                    self._purge_after_job[path] = entry.content_hash
            del self._entries[path]
            removed += 1
            if self._shown is not None and self._shown.path == path:
                self._shown = None
                self.page.clear_summary()
            if self._pending_passage is not None and self._pending_passage[0] == path:
                self._pending_passage = None
                self.page.show_passage("")
        self._refresh_rows()
        if removed:
            what = "1 document" if removed == 1 else f"{removed} documents"
            kept = "" if delete_summaries else "; their summaries are kept"
            self.page.show_notice(
                f"Removed {what} from the library (the files were not touched){kept}."
            )

    def _purge_removed(self, path: str) -> None:
        content_hash = self._purge_after_job.pop(path, None)
        if content_hash is not None and self._entry_by_hash(content_hash) is None:
            try:
                self.repository.delete(content_hash)
            except DatabaseError as exc:
                self.page.show_error(f"The documents library could not be saved: {exc}")

    # ---- opening and reading ---------------------------------------------------------------

    def open_paths(self, paths: Sequence[str]) -> None:
        """Add documents by path (Open…, a drop on the page or on the chat window)."""
        last = None
        self._read_errors = []
        for raw in paths:
            path = str(Path(raw).expanduser().resolve())
            entry = self._entries.get(path)
            if entry is None:
                entry = self._entries[path] = Entry.new(path)
            if entry.document is None and entry.reading is None:
                self._read(entry)
            last = path
        self._refresh_rows()
        if last is not None:
            self.page.select_document(last)

    def _read(self, entry: Entry) -> Future[tuple[Document, str | None]]:
        """Read `entry`'s file unless that is under way; the future also serves queued jobs."""
        if entry.reading is None:
            entry.status, entry.detail = DocumentStatus(DocumentState.READING), ""
            entry.reading = self.reader.read_file(entry.path)
        return entry.reading

    def _on_read(self, path: str, document: Document, language: str | None) -> None:
        self._ocr_ended(path)
        entry = self._entries.get(path)
        if entry is None or self._closed:
            return
        entry.reading = None
        # The same content opened from another path (moved or copied): one row for it.
        for other in list(self._entries.values()):
            if (
                other is not entry
                and other.content_hash == document.content_hash
                and self.queue.job_for(other.path) is None
            ):
                del self._entries[other.path]
                entry.tokens, entry.tokens_model = other.tokens, other.tokens_model
                entry.tokens_estimated = other.tokens_estimated
        entry.take_document(document, language)
        if entry.status.state in (DocumentState.READING, DocumentState.OCR):
            entry.status = DocumentStatus(DocumentState.READY)
        try:
            self._store(document)
            if entry.status.state is DocumentState.READY and self.repository.finals_for(
                document.content_hash
            ):
                entry.status = DocumentStatus(DocumentState.DONE)
        except DatabaseError as exc:
            self.page.show_error(f"The documents library could not be saved: {exc}")
        current = model_key(self.bridge.info) if self.bridge.info else None
        if entry.tokens is None or entry.tokens_model != current:
            self._count(entry)
        self._refresh_rows()
        selected = self.page.selected_paths()
        if selected == [path] and (self._shown is None or self._shown.path != path):
            self._show_stored(entry)
        if self._pending_passage is not None and self._pending_passage[0] == path:
            self._on_citation(self._pending_passage[1])
        self.documentRead.emit(path)

    def _store(self, document: Document, tokens: int | None = None) -> None:
        self.repository.upsert(**document.library_fields(), tokens=tokens)

    def _on_read_failed(self, path: str, message: str, ocr: bool) -> None:
        self._ocr_ended(path)
        entry = self._entries.get(path)
        if entry is None or self._closed:
            return
        entry.reading = None
        # A scanned PDF that OCR can read has not failed: it waits for the user's go.
        status = DocumentStatus(
            DocumentState.SCANNED if ocr else DocumentState.FAILED, reason=message
        )
        entry.status, entry.detail = status, message
        entry.counting = False
        # Several bad files dropped at once: say what is wrong with each, not just the last.
        self._read_errors.append(message)
        shown = "\n".join(self._read_errors[-5:])
        if ocr:
            self._ocr_offer = path
            self.page.offer_ocr(shown)
        else:
            self.page.show_error(shown)
        if self._pending_passage is not None and self._pending_passage[0] == path:
            self._pending_passage = None
            self.page.show_passage(f"The passage cannot be shown: {message}")
        self._refresh_rows()
        self.documentRead.emit(path)

    # ---- OCR of scanned PDFs ---------------------------------------------------------------

    def run_ocr(self) -> None:
        """Read the scanned PDF last offered for OCR (the message's Run OCR button) with
        Tesseract, page by page; Cancel stops it."""
        path, self._ocr_offer = self._ocr_offer, None
        entry = self._entries.get(path) if path is not None else None
        if path is None or entry is None or entry.reading is not None:
            return
        self._read_errors = []
        self.page.hide_error()
        entry.status, entry.detail = DocumentStatus(DocumentState.OCR), ""
        entry.reading = self.reader.read_file(path, ocr=True)
        self._ocr_running.add(path)
        self.page.set_busy(True)
        self.page.show_progress(0.0, f"{entry.title} · OCR starting")
        self._refresh_rows()

    def _on_ocr_progress(self, path: str, done: int, total: int) -> None:
        entry = self._entries.get(path)
        if entry is None or path not in self._ocr_running:
            return
        entry.status = DocumentStatus(DocumentState.OCR, ocr_page=done, ocr_pages=total)
        self.page.show_progress(done / max(1, total), f"{entry.title} · OCR page {done} of {total}")
        self._refresh_rows()

    def _ocr_ended(self, path: str) -> None:
        if path in self._ocr_running:
            self._ocr_running.discard(path)
            if not self._ocr_running and not self.queue.jobs:
                self.page.set_busy(False)
                self.page.progress.hide()

    # ---- token counts ----------------------------------------------------------------------

    def _count(self, entry: Entry) -> None:
        if entry.document is None or entry.counting:
            return
        entry.counting = True
        self.reader.count(entry.document)

    def _entry_by_hash(self, content_hash: str) -> Entry | None:
        for entry in self._entries.values():
            if entry.content_hash == content_hash:
                return entry
        return None

    def _on_counted(self, content_hash: str, model: str, tokens: int, estimated: bool) -> None:
        entry = self._entry_by_hash(content_hash)
        if entry is None or self._closed:
            return
        entry.tokens, entry.tokens_model, entry.counting = tokens, model, False
        entry.tokens_estimated = estimated
        try:
            if entry.document is not None:
                # An estimate is not kept: the library holds counts only.
                self._store(entry.document, None if estimated else tokens)
        except DatabaseError as exc:
            self.page.show_error(f"The documents library could not be saved: {exc}")
        self._refresh_rows()

    def _on_count_failed(self, content_hash: str, _message: str) -> None:
        # Not worth an error bar: the count comes back with the next model load.
        entry = self._entry_by_hash(content_hash)
        if entry is not None:
            entry.counting = False
            self._refresh_rows()

    def _on_model_ready(self, info: ModelInfo) -> None:
        self.bridge.info = self._count_bridge.info = info
        key = model_key(info)
        for entry in self._entries.values():
            if entry.document is not None and entry.tokens_model != key:
                self._count(entry)
        self._refresh_rows()

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
        self.jobFinished.emit(job.path, DocumentState.DONE)
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
        self.jobFinished.emit(job.path, status.state)
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
        self.queueFinished.emit()

    # ---- showing summaries -----------------------------------------------------------------

    def _show(
        self,
        path: str,
        title: str,
        text: str,
        citations: list[Citation],
        spans: tuple[tuple[int, int], ...],
    ) -> None:
        markdown, links = linked_markdown(text, citations, cite_link)
        self._shown = Shown(path, title, text, citations, spans, links)
        self.page.set_summary_title(title)
        self.page.finish_summary(markdown)
        self.page.show_passage("")

    def _on_selected(self, path: str) -> None:
        entry = self._entries.get(path)
        if entry is None:
            return
        running = self.queue.running
        if running is not None and running.path == path:
            self._follow_jobs = True
            self._shown = None
            self.page.set_summary_title(running.title)
            self.page.begin_summary()
            for chunk in running.chunks:
                self._show_chunk(chunk)
            if running.streamed:
                self.page.append_summary("".join(running.streamed))
            return
        self._follow_jobs = running is None
        self._show_stored(entry)

    def _on_options_changed(self) -> None:
        selected = self.page.selected_paths()
        running = self.queue.running
        if len(selected) == 1 and (running is None or running.path != selected[0]):
            entry = self._entries.get(selected[0])
            if entry is not None:
                self._show_stored(entry)

    def _show_stored(self, entry: Entry) -> None:
        """The stored summary of `entry` for the current options, or an empty view."""
        try:
            record = self._stored_summary(entry)
        except DatabaseError as exc:
            self.page.show_error(f"The documents library could not be read: {exc}")
            record = None
        if record is None:
            self._shown = None
            self.page.clear_summary(entry.title)
            return
        citations = [citation_from_json(c) for c in json.loads(record.citations_json)]
        timing = json.loads(record.timing_json)
        spans = tuple((int(a), int(b)) for a, b in timing.get("spans", []))
        self._show(entry.path, entry.title, record.text, citations, spans)

    def _stored_summary(self, entry: Entry) -> FinalSummaryRecord | None:
        if entry.content_hash is None:
            return None
        length, style, language = self.page.options()
        if language == SAME_AS_DOCUMENT:
            language = entry.language or ""  # "": not read yet, any language will do
        model = model_key(self.bridge.info) if self.bridge.info is not None else None
        for record in self.repository.finals_for(entry.content_hash):
            fields = json.loads(record.key.options_key)
            if fields.get("prompts") != PROMPT_VERSION or model not in (None, record.key.model):
                continue
            if fields.get("length") != length or fields.get("style") != style:
                continue
            if language and fields.get("language") not in (language, SAME_AS_DOCUMENT):
                continue
            return record
        return None

    def _on_citation(self, link: int) -> None:
        shown = self._shown
        if shown is None or not 0 <= link < len(shown.links):
            return
        citation, ref = shown.links[link]
        entry = self._entries.get(shown.path)
        if entry is None:
            return
        if entry.document is None:
            if entry.status.state is DocumentState.MISSING:
                self.page.show_passage(
                    f"The document is no longer at {entry.path}, so its passages cannot be shown.",
                    ref.label,
                )
                return
            self._pending_passage = (entry.path, link)
            self.page.show_passage("Reading the document…", ref.label)
            self._read(entry)
            self._refresh_rows()
            return
        self._pending_passage = None
        self.page.show_passage(passage_text(entry.document, citation, ref, shown.spans), ref.label)

    # ---- export and chat -------------------------------------------------------------------

    def export(self, path: str) -> bool:
        """Write the shown summary as Markdown to `path`; False (and a message) on failure."""
        shown = self._shown
        if shown is None:
            return False
        entry = self._entries.get(shown.path)
        source = entry.path if entry is not None else shown.path
        text = (
            f"# Summary: {shown.title}\n\n"
            f"Source: {source}\n\n"
            f"{plain_markdown(shown.text, shown.citations).strip()}\n"
        )
        try:
            write_atomic(Path(path), text)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.page.show_error(f"The summary could not be saved to {path}: {reason}.")
            return False
        self.page.show_notice(f"Summary saved to {path}.")
        return True

    def discuss(self) -> int | None:
        """A new chat that starts from the shown summary; switches to the Chat tab."""
        shown = self._shown
        if shown is None:
            return None
        request = f'Summarize the document "{shown.title}" ({Path(shown.path).name}).'
        summary = plain_markdown(shown.text, shown.citations).strip()
        return self.chat.seed_conversation(
            f"Summary: {shown.title}", [(Role.USER, request), (Role.ASSISTANT, summary)]
        )

    # ---- shutdown --------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Cancel the running job and end every thread (returns within about 5 s)."""
        self._closed = True
        self._coalescer.discard()
        self.queue.stop()
        queues = (*self.reader.queues(), self.queue.work)
        for work in queues:
            work.stop()
        # The jobs' engine requests and answers travel through this (GUI) thread's event
        # loop, so it must keep turning while we wait.
        if not wait_until_done(queues, SHUTDOWN_WAIT_S, QCoreApplication.processEvents):
            # The engine did not answer: fail the bridges' pending requests so the threads
            # wake up and end.
            for bridge in (self.bridge, self._count_bridge):
                bridge._on_crashed("Hearth is closing.")
            wait_until_done(queues, 1.0, QCoreApplication.processEvents)
        self.queue.forget()
        self.page.set_busy(False)


def install_documents(
    window: MainWindow,
    chat: ChatController,
    database: Database,
    *,
    wrap_engine: WrapEngine | None = None,
) -> DocumentsController:
    """Build the Documents page, add it to the window and wire it to the chat's engine.
    `wrap_engine` wraps each summary job's engine (e.g. to record its requests)."""
    page = DocumentsPage(window)
    window.add_page("Documents", page)
    return DocumentsController(page, chat, DocumentRepository(database), wrap_engine=wrap_engine)
