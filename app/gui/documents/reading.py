"""Reading files and counting their tokens for the Documents page, off the GUI thread.

Threads: `read_file` and `count` are called in the GUI thread; their tasks (app/gui/tasks.py)
run in two lanes, one thread each: `documents-reader` (extraction and language detection;
pdfium must only be used by one thread) and `documents-counter` (token counts through its own
EngineBridge, so a long count never waits behind a summary). Results come back as this
object's signals, queued to the GUI thread. `tasks.shutdown` (the controller's) stops both.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.documents.extract import extract_document, ocr_document
from app.documents.formats.pdf import NoTextLayer
from app.documents.formats.tesseract import tesseract
from app.documents.language import detect_language
from app.documents.model import Document, DocumentError
from app.documents.summary_types import model_key
from app.documents.token_count import CountStopped, count_document_tokens
from app.gui.engine_bridge import EngineBridge
from app.gui.tasks import TaskContext, TaskRunner
from inference.sync_client import EngineError

log = logging.getLogger(__name__)
POLL_S = 0.1  # how often a waiting task looks at its stop flag

ReadResult = tuple[Document, str | None]  # the document, its language code or None


class DocumentReader(QObject):
    """Signals: ``documentRead(path, Document, language or None)``, ``readFailed(path,
    message, ocr)`` where `ocr` says OCR could read the file (a scanned PDF, Tesseract
    installed), ``ocrProgress(path, pages done, pages)``, ``tokensCounted(content hash, model
    key, tokens, estimated)``, ``countFailed(content hash, message)``. A stopped count
    reports nothing."""

    documentRead = Signal(str, object, object)
    readFailed = Signal(str, str, bool)
    ocrProgress = Signal(str, int, int)
    tokensCounted = Signal(str, str, int, bool)
    countFailed = Signal(str, str)

    def __init__(self, count_bridge: EngineBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.count_bridge = count_bridge
        self.tasks = TaskRunner(self)
        # Per path (reads) and per content hash (counts): set by `stop`, seen by the task.
        self._stops: dict[str, threading.Event] = {}

    def _stop_flag(self, key: str) -> threading.Event:
        flag = self._stops[key] = threading.Event()
        return flag

    def stop(self, key: str) -> None:
        """Stop reading the file at path `key`, or counting the document with content hash
        `key`, between two blocks, pages or requests."""
        flag = self._stops.pop(key, None)
        if flag is not None:
            flag.set()

    def read_file(self, path: str, ocr: bool = False) -> Future[ReadResult]:
        """Read `path` on the reader thread (by OCR if `ocr`); the future also serves queued
        summary jobs."""
        future: Future[ReadResult] = Future()
        stopped = self._stop_flag(path)

        def task(context: TaskContext) -> None:
            closing = context.cancelled

            def should_stop() -> bool:
                return closing.is_set() or stopped.is_set()

            def on_page(done: int, total: int) -> None:
                self.ocrProgress.emit(path, done, total)

            try:
                if should_stop():
                    raise DocumentError(f"Reading {Path(path).name} was stopped.")
                if ocr:
                    document = ocr_document(Path(path), should_stop, on_page)
                else:
                    document = extract_document(Path(path), should_stop=should_stop)
                if should_stop():
                    raise DocumentError(f"Reading {Path(path).name} was stopped.")
                language = detect_language(document)
            except DocumentError as exc:
                future.set_exception(exc)
                scanned = ocr or isinstance(exc, NoTextLayer)
                self.readFailed.emit(path, str(exc), scanned and tesseract() is not None)
                return
            except Exception as exc:  # a parser's own failure on a damaged file
                log.exception("reading %s failed", path)
                error = DocumentError(f"{Path(path).name} could not be read ({exc}).")
                future.set_exception(error)
                self.readFailed.emit(path, str(error), False)
                return
            future.set_result((document, language))
            self.documentRead.emit(path, document, language)

        self.tasks.start(task, name="documents-read", lane="documents-reader")
        return future

    def count(self, document: Document) -> None:
        """Count `document`'s tokens with the loaded model (waits for one to be loaded)."""
        bridge = self.count_bridge
        content_hash, text = document.content_hash, document.text
        stopped = self._stop_flag(content_hash)

        def task(context: TaskContext) -> None:
            closing = context.cancelled

            def should_stop() -> bool:
                return closing.is_set() or stopped.is_set()

            # Counting is cheap next to a summary, so it waits for a model in line.
            while bridge.info is None:
                if should_stop() or closing.wait(POLL_S):
                    return
            key = model_key(bridge.info)
            try:
                total, estimated = count_document_tokens(text, bridge.count_tokens, should_stop)
            except CountStopped:
                return
            except EngineError as exc:
                self.countFailed.emit(content_hash, str(exc))
                return
            self.tokensCounted.emit(content_hash, key, total, estimated)

        self.tasks.start(task, name="documents-count", lane="documents-counter")
