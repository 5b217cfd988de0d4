"""Drives the Documents page: reads files, counts their tokens, summarizes them through a
queue against the chat's engine (background priority, so chat goes first), keeps the library
of summarized documents and shows summaries with clickable citations.

Threads: everything here runs in the GUI thread except the tasks of the three work queues,
each one thread: `reader` (extraction and language detection; pdfium must only be used by
one thread), `counter` (token counts, own EngineBridge) and `summaries` (one summary after
another, own EngineBridge). Tasks talk back only through `_Signals`, queued to the GUI thread.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Signal

from app.chat_controller import ChatController
from app.documents.citations import Citation, strip_tags
from app.documents.extract import SUPPORTED_EXTENSIONS, extract_document
from app.documents.model import Document, DocumentError, SourceRef
from app.documents.options import SummaryOptions
from app.documents.progress import Progress
from app.documents.prompts import PROMPT_VERSION
from app.documents.summarizer import (
    Summarizer,
    SummaryCancelled,
    SummaryEngine,
    SummaryError,
    SummaryResult,
    citation_from_json,
    model_key,
)
from app.engine_bridge import EngineBridge
from app.translation.languages import LANGUAGES
from inference.protocol import ChatMessage, Done, ModelInfo
from inference.sync_engine import EngineError
from storage.database import Database
from storage.documents import DocumentRecord, DocumentRepository, FinalSummaryRecord
from storage.errors import DatabaseError
from storage.records import Role
from ui.delta_coalescer import DeltaCoalescer
from ui.document_rows import SAME_AS_DOCUMENT, DocumentRow, DocumentStatus, cite_link
from ui.documents_page import DocumentsPage, progress_text
from ui.main_window import MainWindow

SHUTDOWN_WAIT_S = 4.0
POLL_S = 0.1  # how often a waiting task looks at its cancel flag: cancel within a second
COUNT_PIECE_CHARS = 40_000  # one tokenize request; small enough that shutdown is not held up
DETECT_SAMPLE_CHARS = 3_000
DETECT_MIN_CONFIDENCE = 0.6
PASSAGE_LIMIT_CHARS = 20_000
MAX_LINKS_PER_POINT = 6
NO_MODEL = "No model is loaded yet; the summary starts as soon as one is."

ChoiceOptions = tuple[str | int, str, str]  # (length, style, language or "auto")
WrapEngine = Callable[[SummaryEngine], SummaryEngine]


# ---- plain helpers ------------------------------------------------------------------------


def detect_language(document: Document) -> str | None:
    """The document's language (ISO 639-1) from a sample of its text, or None if unsure."""
    from app.translation.detect import detect  # loads lingua's models: seconds, off-GUI only

    text = document.text
    sample = text[:DETECT_SAMPLE_CHARS]
    if len(text) > 3 * DETECT_SAMPLE_CHARS:  # a title page alone can mislead
        middle = len(text) // 2
        sample += "\n" + text[middle : middle + DETECT_SAMPLE_CHARS]
    try:
        detection = detect(sample)
    except Exception:  # detection is a nicety: never fail a document over it
        traceback.print_exc()
        return None
    if detection.code is None and detection.candidates:
        # "Mixed" or short text: a summary is written in one language, the dominant one.
        code, confidence = detection.candidates[0]
        return code if confidence >= DETECT_MIN_CONFIDENCE else None
    return detection.code


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


def summary_lines(text: str, citations: Sequence[Citation]) -> list[tuple[str, Citation | None]]:
    """Each line of a final summary without its [cN] tags, paired with its Citation the way
    `cite` numbered them (non-empty lines that are not headings)."""
    lines: list[tuple[str, Citation | None]] = []
    points = iter(citations)
    for line in text.splitlines():
        if not line.strip() or line.strip().startswith("#"):
            lines.append((strip_tags(line), None))
        else:
            lines.append((strip_tags(line), next(points, None)))
    return lines


def linked_markdown(
    text: str, citations: Sequence[Citation]
) -> tuple[str, list[tuple[Citation, SourceRef]]]:
    """The summary as Markdown with one citation link per source ("p. 3", a heading) after
    each point, and what each link number points to."""
    targets: list[tuple[Citation, SourceRef]] = []
    out: list[str] = []
    for line, citation in summary_lines(text, citations):
        if citation is None or not citation.refs:
            out.append(line)
            continue
        links = []
        for ref in citation.refs[:MAX_LINKS_PER_POINT]:
            links.append(cite_link(ref.label, len(targets)))
            targets.append((citation, ref))
        more = len(citation.refs) - MAX_LINKS_PER_POINT
        if more > 0:
            links.append(f"(+{more} more)")
        out.append(f"{line.rstrip()} {' '.join(links)}")
    return "\n".join(out), targets


def plain_markdown(text: str, citations: Sequence[Citation]) -> str:
    """The summary as Markdown with its sources in parentheses: for export and chat."""
    out: list[str] = []
    for line, citation in summary_lines(text, citations):
        if citation is None or not citation.refs:
            out.append(line)
            continue
        labels = [ref.label for ref in citation.refs[:MAX_LINKS_PER_POINT]]
        if len(citation.refs) > MAX_LINKS_PER_POINT:
            labels.append("…")
        out.append(f"{line.rstrip()} ({', '.join(labels)})")
    return "\n".join(out)


def _matches(section_ref: SourceRef, ref: SourceRef) -> bool:
    if ref.page is not None:
        return section_ref.page == ref.page
    return section_ref.page is None and section_ref.heading_path == ref.heading_path


def passage_text(
    document: Document,
    citation: Citation,
    ref: SourceRef,
    spans: Sequence[tuple[int, int]],
) -> str:
    """The text behind one citation link: the part of the page (or heading's section) that
    the cited chunks cover; the whole page/section when the chunk offsets are unknown."""
    text = document.text
    sections: list[tuple[int, int]] = []
    offset = 0
    for section in document.sections:
        if _matches(SourceRef(section.page, section.heading_path), ref):
            sections.append((offset, offset + len(section.text)))
        offset += len(section.text) + 2  # Document.text joins sections with a blank line
    pieces: list[str] = []
    usable = bool(spans) and all(0 <= i < len(spans) for i in citation.chunk_ids)
    for low, high in sections:
        if usable and spans[-1][1] <= len(text):
            for chunk in citation.chunk_ids:
                start, end = max(low, spans[chunk][0]), min(high, spans[chunk][1])
                if start < end:
                    pieces.append(text[start:end].strip())
        else:
            pieces.append(text[low:high].strip())
    if not pieces:  # offsets from another extraction of the file: show the whole sections
        pieces = [text[low:high].strip() for low, high in sections]
    passage = "\n\n…\n\n".join(dict.fromkeys(p for p in pieces if p))
    if len(passage) > PASSAGE_LIMIT_CHARS:
        passage = passage[:PASSAGE_LIMIT_CHARS].rstrip() + " …"
    return passage


# ---- threads ------------------------------------------------------------------------------


class _WorkQueue:
    """One thread running submitted tasks in order; started on first use."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stopping = threading.Event()
        self._tasks: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self.thread: threading.Thread | None = None

    def submit(self, task: Callable[[], None]) -> None:
        if self.stopping.is_set():
            return
        if self.thread is None:
            self.thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self.thread.start()
        self._tasks.put(task)

    def _loop(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            try:
                task()
            except Exception:  # a task reports its own errors; this is a bug, keep serving
                traceback.print_exc()

    def stop(self) -> None:
        self.stopping.set()
        self._tasks.put(None)

    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


class _Signals(QObject):
    """Emitted on the work threads, received in the GUI thread (queued)."""

    read = Signal(str, object, object)  # path, Document, language code or None
    readFailed = Signal(str, str)  # path, message
    counted = Signal(str, str, int)  # content hash, model key, tokens
    countFailed = Signal(str, str)  # content hash, message
    jobWaiting = Signal(int)  # job number: no model loaded
    jobStarted = Signal(int)
    jobProgress = Signal(int, object)  # job number, Progress
    jobDelta = Signal(int, str)
    jobFinished = Signal(int, object)  # job number, SummaryResult
    jobFailed = Signal(int, str, str)  # job number, kind ("cancelled", "error"), message


class _CancellableEngine:
    """The job's engine with its own cancel flag checked before every request: counting a
    2,000-page document's pieces is many requests that the summarizer itself never checks."""

    def __init__(self, inner: SummaryEngine, cancelled: threading.Event) -> None:
        self._inner = inner
        self._cancelled = cancelled

    @property
    def info(self) -> ModelInfo | None:
        return self._inner.info

    @property
    def n_ctx(self) -> int:
        return self._inner.n_ctx

    def _check(self) -> None:
        if self._cancelled.is_set():
            raise SummaryCancelled("The summary was cancelled; finished parts are kept.")

    def chat(self, messages: Sequence[ChatMessage], **kwargs: object) -> Done:
        self._check()
        return self._inner.chat(messages, **kwargs)  # type: ignore[arg-type]

    def count_tokens(self, text: str) -> int:
        self._check()
        return self._inner.count_tokens(text)

    def cancel(self) -> None:
        self._inner.cancel()


# ---- state --------------------------------------------------------------------------------

_LANGUAGE_NAMES = {language.code: language.name for language in LANGUAGES}


@dataclass
class _Entry:
    """One row of the page (GUI thread only)."""

    path: str
    title: str
    type: str
    content_hash: str | None = None
    pages: int | None = None
    words: int | None = None
    tokens: int | None = None
    tokens_model: str | None = None
    counting: bool = False
    document: Document | None = None
    language: str | None = None
    reading: Future[tuple[Document, str | None]] | None = None
    status: str = DocumentStatus.READY
    detail: str = ""

    def row(self) -> DocumentRow:
        language = _LANGUAGE_NAMES.get(self.language or "", self.language or "")
        return DocumentRow(
            path=self.path,
            title=self.title,
            type=self.type,
            pages=self.pages,
            words=self.words,
            tokens=self.tokens,
            counting=self.counting,
            status=self.status,
            detail=self.detail,
            language=language,
        )


@dataclass
class _Job:
    number: int
    path: str
    title: str
    options: SummaryOptions
    document: Future[tuple[Document, str | None]]
    language_choice: str
    cancelled: threading.Event = field(default_factory=threading.Event)
    streamed: list[str] = field(default_factory=list)


@dataclass
class _Shown:
    """The summary in the view, for citations, export and chat."""

    path: str
    title: str
    text: str
    citations: list[Citation]
    spans: tuple[tuple[int, int], ...]
    links: list[tuple[Citation, SourceRef]]


class DocumentsController(QObject):
    """Signals: ``jobFinished(path, status)`` when one summary ends (done, cancelled or
    failed), ``queueFinished()`` when the queue has run empty, ``documentRead(path)`` when a
    file was read (or could not be)."""

    jobFinished = Signal(str, str)
    queueFinished = Signal()
    documentRead = Signal(str)

    def __init__(
        self, page: DocumentsPage, chat: ChatController, repository: DocumentRepository
    ) -> None:
        super().__init__(page)
        self.page = page
        self.chat = chat
        self.repository = repository
        self.bridge = EngineBridge(chat.client, parent=self, info=chat.model_info)
        self._count_bridge = EngineBridge(chat.client, parent=self, info=chat.model_info)
        # Tests wrap the job's engine to record or hold requests.
        self.wrap_engine: WrapEngine | None = None

        self._signals = _Signals(self)
        self._reader = _WorkQueue("documents-reader")
        self._counter = _WorkQueue("documents-counter")
        self._summaries = _WorkQueue("documents-summaries")
        self._entries: dict[str, _Entry] = {}
        self._jobs: dict[int, _Job] = {}  # submitted and not finished, in order
        self._next_job = 1
        self._batch_total = 0
        self._batch_done = 0
        self._batch_cancelled = 0
        self._running: _Job | None = None
        self._job_lock = threading.Lock()
        self._summarizer: Summarizer | None = None  # the running job's; guarded by _job_lock
        self._shown: _Shown | None = None
        self._follow_jobs = True
        self._pending_passage: tuple[str, int] | None = None  # (path, link) awaiting a read
        self._read_errors: list[str] = []  # of the files opened last
        self._closed = False
        self._coalescer = DeltaCoalescer(parent=self)
        self._coalescer.flushed.connect(self._show_delta)

        page.set_extensions(SUPPORTED_EXTENSIONS)
        page.set_languages(
            [
                (
                    lang.code,
                    lang.name if lang.endonym == lang.name else f"{lang.endonym} ({lang.name})",
                )
                for lang in LANGUAGES
            ]
        )
        page.openRequested.connect(self.open_paths)
        page.summarizeRequested.connect(self._on_summarize_requested)
        page.cancelRequested.connect(self.cancel)
        page.documentSelected.connect(self._on_selected)
        page.optionsChanged.connect(self._on_options_changed)
        page.citationClicked.connect(self._on_citation)
        page.exportRequested.connect(self.export)
        page.discussRequested.connect(self.discuss)
        chat.modelReady.connect(self._on_model_ready)

        s = self._signals
        s.read.connect(self._on_read)
        s.readFailed.connect(self._on_read_failed)
        s.counted.connect(self._on_counted)
        s.countFailed.connect(self._on_count_failed)
        s.jobWaiting.connect(self._on_job_waiting)
        s.jobStarted.connect(self._on_job_started)
        s.jobProgress.connect(self._on_job_progress)
        s.jobDelta.connect(self._on_job_delta)
        s.jobFinished.connect(self._on_job_finished)
        s.jobFailed.connect(self._on_job_failed)
        self._load_library()

    # ---- library and rows ------------------------------------------------------------------

    def _load_library(self) -> None:
        try:
            records = self.repository.list_recent()
            for record in records:
                entry = self._entry_from_record(record)
                self._entries[entry.path] = entry
        except DatabaseError as exc:
            self.page.show_error(f"The documents library could not be read: {exc}")
        self._refresh_rows()

    def _entry_from_record(self, record: DocumentRecord) -> _Entry:
        entry = _Entry(
            path=record.path,
            title=record.title,
            type=record.type,
            content_hash=record.content_hash,
            pages=record.pages,
            words=record.words,
            tokens=record.tokens,
        )
        if not Path(record.path).is_file():
            entry.status = DocumentStatus.MISSING
            entry.detail = f"The file is no longer at {record.path}; its summaries are kept."
        elif self.repository.finals_for(record.content_hash):
            entry.status = DocumentStatus.DONE
            entry.detail = "Summarized before: select it to see the summary."
        return entry

    def _refresh_rows(self) -> None:
        self.page.set_documents([entry.row() for entry in self._entries.values()])

    def entries(self) -> list[DocumentRow]:
        """What the table shows, in order."""
        return [entry.row() for entry in self._entries.values()]

    # ---- opening and reading ---------------------------------------------------------------

    def open_paths(self, paths: Sequence[str]) -> None:
        """Add documents by path (Open…, a drop on the page or on the chat window)."""
        last = None
        self._read_errors = []
        for raw in paths:
            path = str(Path(raw).expanduser().resolve())
            entry = self._entries.get(path)
            if entry is None:
                suffix = Path(path).suffix.lower().lstrip(".")
                entry = _Entry(path=path, title=Path(path).name, type=suffix or "?")
                self._entries[path] = entry
            if entry.document is None and entry.reading is None:
                self._read(entry)
            last = path
        self._refresh_rows()
        if last is not None:
            self.page.select_document(last)

    def _read(self, entry: _Entry) -> Future[tuple[Document, str | None]]:
        """Read `entry`'s file on the reader thread; the future also serves queued jobs."""
        if entry.reading is not None:
            return entry.reading
        future: Future[tuple[Document, str | None]] = Future()
        entry.reading = future
        entry.status, entry.detail = DocumentStatus.READING, ""
        path, signals, stopping = entry.path, self._signals, self._reader.stopping

        def task() -> None:
            try:
                document = extract_document(Path(path), should_stop=stopping.is_set)
                if stopping.is_set():
                    raise DocumentError("Hearth is closing.")
                language = detect_language(document)
            except DocumentError as exc:
                future.set_exception(exc)
                signals.readFailed.emit(path, str(exc))
                return
            except Exception as exc:  # a parser's own failure on a damaged file
                traceback.print_exc()
                error = DocumentError(f"{Path(path).name} could not be read ({exc}).")
                future.set_exception(error)
                signals.readFailed.emit(path, str(error))
                return
            future.set_result((document, language))
            signals.read.emit(path, document, language)

        self._reader.submit(task)
        return future

    def _on_read(self, path: str, document: Document, language: str | None) -> None:
        entry = self._entries.get(path)
        if entry is None or self._closed:
            return
        entry.reading = None
        # The same content opened from another path (moved or copied): one row for it.
        for other in list(self._entries.values()):
            if (
                other is not entry
                and other.content_hash == document.content_hash
                and not any(job.path == other.path for job in self._jobs.values())
            ):
                del self._entries[other.path]
                entry.tokens, entry.tokens_model = other.tokens, other.tokens_model
        entry.document, entry.language = document, language
        entry.content_hash = document.content_hash
        entry.title, entry.type = document.title, document.type
        entry.pages, entry.words = document.pages, document.words
        if entry.status == DocumentStatus.READING:
            entry.status = DocumentStatus.READY
        try:
            self.repository.upsert(
                content_hash=document.content_hash,
                path=document.source_path,
                title=document.title,
                type=document.type,
                pages=document.pages,
                words=document.words,
            )
            if entry.status == DocumentStatus.READY and self.repository.finals_for(
                document.content_hash
            ):
                entry.status = DocumentStatus.DONE
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

    def _on_read_failed(self, path: str, message: str) -> None:
        entry = self._entries.get(path)
        if entry is None or self._closed:
            return
        entry.reading = None
        entry.status, entry.detail = DocumentStatus.failed(message), message
        entry.counting = False
        # Several bad files dropped at once: say what is wrong with each, not just the last.
        self._read_errors.append(message)
        self.page.show_error("\n".join(self._read_errors[-5:]))
        if self._pending_passage is not None and self._pending_passage[0] == path:
            self._pending_passage = None
            self.page.show_passage(f"The passage cannot be shown: {message}")
        self._refresh_rows()
        self.documentRead.emit(path)

    # ---- token counts ----------------------------------------------------------------------

    def _count(self, entry: _Entry) -> None:
        document = entry.document
        if document is None or entry.counting:
            return
        entry.counting = True
        bridge, signals, stopping = self._count_bridge, self._signals, self._counter.stopping
        content_hash, text = document.content_hash, document.text

        def task() -> None:
            # Waits for a model; counting is cheap next to a summary, so it waits in line.
            while bridge.info is None:
                if stopping.wait(POLL_S):
                    return
            key = model_key(bridge.info)
            try:
                total = 0
                for piece in text_pieces(text):
                    if stopping.is_set():
                        return
                    total += bridge.count_tokens(piece)
            except EngineError as exc:
                signals.countFailed.emit(content_hash, str(exc))
                return
            signals.counted.emit(content_hash, key, total)

        self._counter.submit(task)

    def _entry_by_hash(self, content_hash: str) -> _Entry | None:
        for entry in self._entries.values():
            if entry.content_hash == content_hash:
                return entry
        return None

    def _on_counted(self, content_hash: str, model: str, tokens: int) -> None:
        entry = self._entry_by_hash(content_hash)
        if entry is None or self._closed:
            return
        entry.tokens, entry.tokens_model, entry.counting = tokens, model, False
        try:
            document = entry.document
            if document is not None:
                self.repository.upsert(
                    content_hash=content_hash,
                    path=document.source_path,
                    title=document.title,
                    type=document.type,
                    pages=document.pages,
                    words=document.words,
                    tokens=tokens,
                )
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
            SummaryOptions(length=length, style=style, language=language_choice)
        except ValueError as exc:
            self.page.show_error(str(exc).capitalize() + ".")
            return
        if not self._jobs:
            self._batch_total = self._batch_done = self._batch_cancelled = 0
        self._follow_jobs = True
        queued_any = False
        for path in paths:
            entry = self._entries.get(path)
            if entry is None or any(job.path == path for job in self._jobs.values()):
                continue
            if entry.status == DocumentStatus.MISSING:
                self.page.show_error(f"{entry.title} is no longer at {path}.")
                continue
            if entry.document is not None:
                ready: Future[tuple[Document, str | None]] = Future()
                ready.set_result((entry.document, entry.language))
            else:
                ready = self._read(entry)
            job = _Job(
                number=self._next_job,
                path=path,
                title=entry.title,
                options=SummaryOptions(length=length, style=style, language=language_choice),
                document=ready,
                language_choice=language_choice,
            )
            self._next_job += 1
            self._jobs[job.number] = job
            self._batch_total += 1
            if entry.status != DocumentStatus.READING:
                entry.status, entry.detail = DocumentStatus.QUEUED, ""
            self._summaries.submit(lambda job=job: self._run_job(job))
            queued_any = True
        if queued_any:
            self.page.hide_error()
            self.page.set_busy(True)
            if self.bridge.info is None:
                self.page.show_error(NO_MODEL)
        self._refresh_rows()

    def _run_job(self, job: _Job) -> None:
        """Summary thread: one job from reading to the stored final summary."""
        signals, stopping = self._signals, self._summaries.stopping

        def stopped() -> bool:
            return job.cancelled.is_set() or stopping.is_set()

        try:
            while True:  # the reader may still be at it
                if stopped():
                    raise SummaryCancelled("The summary was cancelled.")
                try:
                    document, language = job.document.result(timeout=POLL_S)
                    break
                except TimeoutError:
                    continue
            if self.bridge.info is None:
                signals.jobWaiting.emit(job.number)
                while self.bridge.info is None:
                    if stopped() or stopping.wait(POLL_S):
                        raise SummaryCancelled("The summary was cancelled.")
            options = job.options
            if job.language_choice == SAME_AS_DOCUMENT and language:
                options = replace(options, language=language)
            signals.jobStarted.emit(job.number)
            self.bridge.reset_cancel()
            inner: SummaryEngine = self.bridge
            if self.wrap_engine is not None:
                inner = self.wrap_engine(inner)
            summarizer = Summarizer(_CancellableEngine(inner, job.cancelled), self.repository)
            with self._job_lock:
                self._summarizer = summarizer
            if stopped():
                raise SummaryCancelled("The summary was cancelled.")
            result = summarizer.summarize(
                document,
                options,
                on_progress=lambda progress: signals.jobProgress.emit(job.number, progress),
                on_delta=lambda text: signals.jobDelta.emit(job.number, text),
            )
            signals.jobFinished.emit(job.number, result)
        except SummaryCancelled:
            signals.jobFailed.emit(job.number, "cancelled", "")
        except (DocumentError, SummaryError, DatabaseError) as exc:
            signals.jobFailed.emit(job.number, "error", str(exc))
        except EngineError as exc:
            signals.jobFailed.emit(job.number, "engine", str(exc))
        except Exception as exc:  # a bug: tell the user, keep the queue going
            traceback.print_exc()
            signals.jobFailed.emit(job.number, "error", f"Something went wrong: {exc}")
        finally:
            with self._job_lock:
                self._summarizer = None

    def cancel(self) -> None:
        """Stop the running summary (within a second) and drop the queued ones; finished
        parts stay stored, so summarizing again resumes."""
        for job in self._jobs.values():
            job.cancelled.set()
        with self._job_lock:
            if self._summarizer is not None:
                self._summarizer.cancel()

    def _on_job_waiting(self, number: int) -> None:
        job = self._jobs.get(number)
        if job is not None and job.path in self._entries:
            self._entries[job.path].status = DocumentStatus.WAITING
            self.page.show_error(NO_MODEL)
            self._refresh_rows()

    def _on_job_started(self, number: int) -> None:
        job = self._jobs.get(number)
        if job is None:
            return
        self._running = job
        entry = self._entries.get(job.path)
        if entry is not None:
            job.title = entry.title
            entry.status, entry.detail = DocumentStatus.summarizing(0), ""
            self._refresh_rows()
        if self.page.error_bar.label.text() == NO_MODEL:
            self.page.hide_error()
        self.page.show_progress(self._overall(0.0), self._prefix(job))
        if self._follow_jobs:
            self._shown = None
            self.page.set_summary_title(job.title)
            self.page.begin_summary()

    def _prefix(self, job: _Job) -> str:
        position = self._batch_done + 1
        total = self._batch_total
        return job.title if total <= 1 else f"{job.title} ({position} of {total})"

    def _overall(self, fraction: float) -> float:
        return (self._batch_done + fraction) / max(1, self._batch_total)

    def _on_job_progress(self, number: int, progress: Progress) -> None:
        job = self._jobs.get(number)
        if job is None:
            return
        percent = round(progress.fraction * 100)
        entry = self._entries.get(job.path)
        if entry is not None and entry.status != DocumentStatus.summarizing(percent):
            entry.status = DocumentStatus.summarizing(percent)
            self._refresh_rows()
        text = progress_text(
            progress.chunks_done,
            progress.chunks_total,
            progress.tokens_in,
            progress.tokens_out,
            progress.seconds_left,
            self._prefix(job),
        )
        self.page.show_progress(self._overall(progress.fraction), text)

    def _on_job_delta(self, number: int, text: str) -> None:
        job = self._jobs.get(number)
        if job is None:
            return
        job.streamed.append(text)
        if self._follow_jobs and self._running is job:
            self._coalescer.push(text)

    def _show_delta(self, text: str) -> None:
        self.page.append_summary(text)

    def _end_job(self, number: int) -> _Job | None:
        job = self._jobs.pop(number, None)
        if job is None:
            return None
        self._batch_done += 1
        if self._running is job:
            self._running = None
            self._coalescer.flush()
        return job

    def _on_job_finished(self, number: int, result: SummaryResult) -> None:
        job = self._end_job(number)
        if job is None:
            return
        entry = self._entries.get(job.path)
        if entry is not None:
            entry.status = DocumentStatus.DONE
            entry.detail = (
                "From the library (summarized before with these settings)."
                if result.from_cache
                else f"{result.chunks} chunks · {result.tokens_in:,} tokens in · "
                f"{result.tokens_out:,} out · {result.seconds:.0f} s"
            )
            self._refresh_rows()
        if self._follow_jobs:
            self._show(job.path, job.title, result.text, result.citations, result.spans)
        self.jobFinished.emit(job.path, DocumentStatus.DONE)
        self._after_job()

    def _on_job_failed(self, number: int, kind: str, message: str) -> None:
        job = self._end_job(number)
        if job is None:
            return
        entry = self._entries.get(job.path)
        if kind == "cancelled":
            self._batch_cancelled += 1
            status, detail = DocumentStatus.CANCELLED, "Finished parts are kept: summarize again"
        elif kind == "engine":
            detail = (
                f"The model stopped answering ({message}). Finished parts are kept: "
                "summarize again to resume."
            )
            status = DocumentStatus.failed(message)
            self.page.show_error(f"{job.title}: {detail}")
        else:
            status, detail = DocumentStatus.failed(message), message
            self.page.show_error(message)
        if entry is not None and not (
            kind == "error" and entry.status.startswith(DocumentStatus.FAILED)
        ):
            entry.status, entry.detail = status, detail
            self._refresh_rows()
        self.jobFinished.emit(job.path, status)
        self._after_job()

    def _after_job(self) -> None:
        if self._jobs:
            return
        self.page.set_busy(False)
        done = self._batch_total
        if self._batch_cancelled:
            self.page.show_progress(self._overall(0.0), "Cancelled; finished parts are kept")
        else:
            what = "Summary finished" if done == 1 else f"All {done} summaries finished"
            self.page.show_progress(1.0, what)
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
        markdown, links = linked_markdown(text, citations)
        self._shown = _Shown(path, title, text, citations, spans, links)
        self.page.set_summary_title(title)
        self.page.finish_summary(markdown)
        self.page.show_passage("")

    def _on_selected(self, path: str) -> None:
        entry = self._entries.get(path)
        if entry is None:
            return
        running = self._running
        if running is not None and running.path == path:
            self._follow_jobs = True
            self._shown = None
            self.page.set_summary_title(running.title)
            self.page.begin_summary()
            self.page.append_summary("".join(running.streamed))
            return
        self._follow_jobs = running is None
        self._show_stored(entry)

    def _on_options_changed(self) -> None:
        selected = self.page.selected_paths()
        if len(selected) == 1 and (self._running is None or self._running.path != selected[0]):
            entry = self._entries.get(selected[0])
            if entry is not None:
                self._show_stored(entry)

    def _show_stored(self, entry: _Entry) -> None:
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

    def _stored_summary(self, entry: _Entry) -> FinalSummaryRecord | None:
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
            if entry.status == DocumentStatus.MISSING:
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
            Path(path).write_text(text, encoding="utf-8")
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.page.show_error(f"The summary could not be saved to {path}: {reason}.")
            return False
        self.page.error_bar.show_message(f"Summary saved to {path}.", timeout_ms=5000)
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
        self.cancel()
        queues = (self._reader, self._counter, self._summaries)
        for work in queues:
            work.stop()
        if not self._pump_until_done(queues, SHUTDOWN_WAIT_S):
            # The engine did not answer: fail the bridges' pending requests so the threads
            # wake up and end.
            for bridge in (self.bridge, self._count_bridge):
                bridge._on_crashed("Hearth is closing.")
            self._pump_until_done(queues, 1.0)
        self._jobs.clear()
        self.page.set_busy(False)

    @staticmethod
    def _pump_until_done(queues: Sequence[_WorkQueue], seconds: float) -> bool:
        # The jobs' engine requests and answers travel through this (GUI) thread's event
        # loop, so it must keep turning while we wait.
        deadline = time.monotonic() + seconds
        while any(work.alive() for work in queues) and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            for work in queues:
                if work.thread is not None:
                    work.thread.join(0.01)
        return not any(work.alive() for work in queues)


def install_documents(
    window: MainWindow, chat: ChatController, database: Database
) -> DocumentsController:
    """Build the Documents page, add it to the window and wire it to the chat's engine."""
    page = DocumentsPage(window)
    window.add_page("Documents", page)
    return DocumentsController(page, chat, DocumentRepository(database))
