"""The Documents controller's opening side: reads the files opened (OCR for scanned PDFs,
on the user's go) and counts their tokens for the loaded model. A part of DocumentsController
(app/gui/documents/controller.py), which owns the state named below. GUI thread only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path

from app.documents.model import Document
from app.documents.state import DocumentState, DocumentStatus
from app.documents.summary_types import model_key
from app.gui.documents.entries import Entry, Shown
from app.gui.documents.queue import SummaryQueue
from app.gui.documents.reading import DocumentReader
from app.gui.engine_bridge import EngineBridge
from inference.protocol import ModelInfo
from storage.documents import DocumentRepository
from storage.errors import DatabaseError
from ui.documents.page import DocumentsPage


class DocumentOpening:
    """Opening, reading, OCR and token counts of DocumentsController's documents."""

    # What these methods use of DocumentsController, which sets it up: annotations only
    # (no class attributes), so the controller's own attributes and methods are what run.
    page: DocumentsPage
    repository: DocumentRepository
    bridge: EngineBridge
    _count_bridge: EngineBridge
    reader: DocumentReader
    queue: SummaryQueue
    _entries: dict[str, Entry]
    _shown: Shown | None
    _pending_passage: tuple[str, int] | None
    _read_errors: list[str]
    _ocr_offer: str | None
    _ocr_running: set[str]
    _closed: bool
    _refresh_rows: Callable[[], None]
    _show_stored: Callable[[Entry], None]
    _on_citation: Callable[[int], None]

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
