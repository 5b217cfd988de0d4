"""Drives the Documents page: opens files, shows their counts, queues summaries, keeps the
library of summarized documents and shows summaries with clickable citations.

The work happens elsewhere: DocumentReader (app/gui/documents/reading.py) reads files and counts
tokens on its threads, SummaryQueue (app/gui/documents/queue.py) runs the summaries on its
thread. Opening, reading, OCR and token counts are in DocumentOpening (opening.py), queuing
summaries and following their jobs in SummaryJobs (summary_jobs.py); this module keeps the
library, the summary shown, export, chat and shutdown. Everything runs in the GUI thread.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject

from app.documents.citations import Citation
from app.documents.extract import SUPPORTED_EXTENSIONS
from app.documents.options import SAME_AS_DOCUMENT
from app.documents.prompts import PROMPT_VERSION
from app.documents.state import DocumentState
from app.documents.summary_json import citation_from_json
from app.documents.summary_text import linked_markdown, passage_text, plain_markdown
from app.documents.summary_types import model_key
from app.gui.documents.entries import Entry, Shown
from app.gui.documents.opening import DocumentOpening
from app.gui.documents.queue import SummaryQueue, WrapEngine
from app.gui.documents.reading import DocumentReader
from app.gui.documents.summary_jobs import SummaryJobs
from app.gui.engine_bridge import EngineBridge
from app.gui.session import EngineSession
from app.gui.tasks import shutdown_all
from app.languages.codes import in_reading_order
from app.util.atomic_write import write_atomic
from storage.database import Database
from storage.documents import DocumentRepository, FinalSummaryRecord
from storage.errors import DatabaseError
from storage.records import Role
from ui.documents.page import DocumentsPage
from ui.documents.rows import DocumentRow, cite_link
from ui.main_window import MainWindow
from ui.widgets.delta_coalescer import DeltaCoalescer

SHUTDOWN_WAIT_S = 4.0

# Starts a chat holding these messages under this title and shows it; its id, or None.
SeedConversation = Callable[[str, Sequence[tuple[Role, str]]], int | None]


class DocumentsController(DocumentOpening, SummaryJobs, QObject):
    """The Documents page's presenter. What a read or a summary came to is shown on the page
    (the rows' status, the progress bar, Cancel going idle); nothing else needs to hear of
    it, so no signal says it."""

    def __init__(
        self,
        page: DocumentsPage,
        session: EngineSession,
        repository: DocumentRepository,
        seed_conversation: SeedConversation,
        *,
        wrap_engine: WrapEngine | None = None,
    ) -> None:
        """`session`: the app's engine, shared with the chat. `seed_conversation`: the chat's
        "new chat holding these messages", for Discuss. `wrap_engine` wraps each summary
        job's engine (e.g. to record its requests)."""
        super().__init__(page)
        self.page = page
        self.repository = repository
        self._seed_conversation = seed_conversation
        self.bridge = EngineBridge(session.client, parent=self, info=session.info)
        self._count_bridge = EngineBridge(session.client, parent=self, info=session.info)
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
        session.loaded.connect(self._on_model_ready)

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
        self.bridge.promptReading.connect(self.page.show_reading)
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
        return self._seed_conversation(
            f"Summary: {shown.title}", [(Role.USER, request), (Role.ASSISTANT, summary)]
        )

    # ---- shutdown --------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Cancel the running job and end every thread (returns within about 5 s)."""
        self._closed = True
        self._coalescer.discard()
        self.queue.cancel()

        def wake() -> None:
            # The engine did not answer: fail the bridges' pending requests so the threads
            # wake up and end.
            for bridge in (self.bridge, self._count_bridge):
                bridge._on_crashed("Hearth is closing.")

        # Waits while turning the event loop: the jobs' engine requests travel through it.
        deadline = time.monotonic() + SHUTDOWN_WAIT_S
        shutdown_all((self.reader.tasks, self.queue.tasks), deadline, on_stuck=wake)
        self.queue.forget()
        self.page.set_busy(False)


def install_documents(
    window: MainWindow,
    session: EngineSession,
    database: Database,
    *,
    seed_conversation: SeedConversation,
    wrap_engine: WrapEngine | None = None,
) -> DocumentsController:
    """Build the Documents page, add it to the window and wire it to the app's engine
    session. `wrap_engine` wraps each summary job's engine (e.g. to record its requests)."""
    page = DocumentsPage(window)
    window.add_page("Documents", page)
    return DocumentsController(
        page,
        session,
        DocumentRepository(database),
        seed_conversation,
        wrap_engine=wrap_engine,
    )
