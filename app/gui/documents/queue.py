"""The Documents page's summary queue: jobs run one after another on one thread against the
chat's engine (background priority, so chat goes first).

Threads: `submit`, `cancel` and the signals' receivers are in the GUI thread; each job runs in
the `documents-summaries` lane of `tasks` (app/gui/tasks.py) and reports through
`_SummarySignals`, which this object turns into its public signals in the GUI thread, carrying
the QueuedSummary.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace

from PySide6.QtCore import QObject, Signal

from app.documents.model import Document, DocumentError
from app.documents.options import SAME_AS_DOCUMENT, SummaryOptions
from app.documents.summarizer import Summarizer
from app.documents.summary_types import ChunkSummary, SummaryCancelled, SummaryError
from app.gui.engine_bridge import EngineBridge
from app.gui.tasks import TaskContext, TaskRunner
from inference.protocol import ChatMessage, Done, ModelInfo
from inference.sync_client import BlockingEngine, EngineError
from storage.documents import DocumentRepository
from storage.errors import DatabaseError

log = logging.getLogger(__name__)
POLL_S = 0.1  # how often a waiting job looks at its cancel flag: cancel within a second
WrapEngine = Callable[[BlockingEngine], BlockingEngine]


@dataclass
class QueuedSummary:
    number: int
    path: str
    title: str
    options: SummaryOptions
    document: Future[tuple[Document, str | None]]
    language_choice: str
    cancelled: threading.Event = field(default_factory=threading.Event)
    streamed: list[str] = field(default_factory=list)
    chunks: list[ChunkSummary] = field(default_factory=list)  # finished, in order


class CancellableEngine:
    """The job's engine with its own cancel flag checked before every request: counting a
    2,000-page document's pieces is many requests that the summarizer itself never checks."""

    def __init__(self, inner: BlockingEngine, cancelled: threading.Event) -> None:
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

    def complete(self, prompt: str, **kwargs: object) -> Done:
        self._check()
        return self._inner.complete(prompt, **kwargs)  # type: ignore[arg-type]

    def count_tokens(self, text: str) -> int:
        self._check()
        return self._inner.count_tokens(text)

    def count_tokens_many(self, texts: Sequence[str]) -> list[int]:
        self._check()
        return self._inner.count_tokens_many(texts)

    def cancel(self) -> None:
        self._inner.cancel()


class _SummarySignals(QObject):
    """Emitted on the summary thread, received in the GUI thread (queued)."""

    waiting = Signal(int)  # job number: no model loaded
    started = Signal(int)
    progressed = Signal(int, object)  # job number, Progress
    delta = Signal(int, str)
    chunk = Signal(int, object)  # job number, ChunkSummary
    finished = Signal(int, object)  # job number, SummaryResult
    failed = Signal(int, str, str)  # job number, kind ("cancelled", "error", "engine"), message


class SummaryQueue(QObject):
    """Signals (GUI thread, each with the QueuedSummary): ``jobWaiting`` (no model loaded),
    ``jobStarted``, ``jobProgress(job, Progress)``, ``jobDelta(job, text)`` (the final pass
    streaming), ``jobChunk(job, ChunkSummary)`` (a chunk's summary is done),
    ``jobFinished(job, SummaryResult)``, ``jobFailed(job, kind, message)`` where
    kind is "cancelled", "error" or "engine"."""

    jobWaiting = Signal(object)
    jobStarted = Signal(object)
    jobProgress = Signal(object, object)
    jobDelta = Signal(object, str)
    jobChunk = Signal(object, object)
    jobFinished = Signal(object, object)
    jobFailed = Signal(object, str, str)

    def __init__(
        self,
        bridge: EngineBridge,
        repository: DocumentRepository,
        parent: QObject | None = None,
        *,
        wrap_engine: WrapEngine | None = None,
    ) -> None:
        """`wrap_engine` wraps each job's engine (e.g. to record or hold its requests)."""
        super().__init__(parent)
        self.bridge = bridge
        self.repository = repository
        self._wrap_engine = wrap_engine
        self.tasks = TaskRunner(self)
        self.jobs: dict[int, QueuedSummary] = {}  # submitted and not finished, in order
        self.running: QueuedSummary | None = None
        self.batch_total = self.batch_done = self.batch_cancelled = 0
        self._next = 1
        self._lock = threading.Lock()
        self._summarizer: tuple[QueuedSummary, Summarizer] | None = None  # guarded by _lock
        self._signals = _SummarySignals(self)
        s = self._signals
        s.waiting.connect(lambda n: self._forward(n, self.jobWaiting))
        s.started.connect(self._on_started)
        s.progressed.connect(lambda n, p: self._forward(n, self.jobProgress, p))
        s.delta.connect(self._on_delta)
        s.chunk.connect(self._on_chunk)
        s.finished.connect(lambda n, r: self._end(n, self.jobFinished, r))
        s.failed.connect(self._on_failed)

    # ---- GUI thread -------------------------------------------------------------------------

    def job_for(self, path: str) -> QueuedSummary | None:
        """The queued or running job of `path`, if any."""
        return next((job for job in self.jobs.values() if job.path == path), None)

    def submit(
        self,
        path: str,
        title: str,
        options: SummaryOptions,
        document: Future[tuple[Document, str | None]],
        language_choice: str,
    ) -> QueuedSummary:
        if not self.jobs:
            self.batch_total = self.batch_done = self.batch_cancelled = 0
        job = QueuedSummary(self._next, path, title, options, document, language_choice)
        self._next += 1
        self.jobs[job.number] = job
        self.batch_total += 1
        self.tasks.start(
            lambda context: self._run(job, context),
            name="documents-summary",
            lane="documents-summaries",
        )
        return job

    def cancel(self, job: QueuedSummary | None = None) -> None:
        """Stop `job` (every job when None): the running one within a second; finished
        parts stay stored, so summarizing again resumes."""
        targets = list(self.jobs.values()) if job is None else [job]
        for target in targets:
            target.cancelled.set()
        with self._lock:
            if self._summarizer is not None and (job is None or self._summarizer[0] is job):
                self._summarizer[1].cancel()

    def label(self, job: QueuedSummary) -> str:
        """The job's title, with its place in the batch when there are several."""
        total = self.batch_total
        return job.title if total <= 1 else f"{job.title} ({self.batch_done + 1} of {total})"

    def overall(self, fraction: float) -> float:
        """The batch's progress when the running job is `fraction` done."""
        return (self.batch_done + fraction) / max(1, self.batch_total)

    def forget(self) -> None:
        self.jobs.clear()
        self.running = None

    def _forward(self, number: int, signal: Signal, *args: object) -> None:
        job = self.jobs.get(number)
        if job is not None:
            signal.emit(job, *args)  # type: ignore[attr-defined]

    def _on_started(self, number: int) -> None:
        job = self.jobs.get(number)
        if job is not None:
            self.running = job
            self.jobStarted.emit(job)

    def _on_delta(self, number: int, text: str) -> None:
        job = self.jobs.get(number)
        if job is not None:
            job.streamed.append(text)
            self.jobDelta.emit(job, text)

    def _on_chunk(self, number: int, chunk: ChunkSummary) -> None:
        job = self.jobs.get(number)
        if job is not None:
            job.chunks.append(chunk)
            self.jobChunk.emit(job, chunk)

    def _on_failed(self, number: int, kind: str, message: str) -> None:
        if kind == "cancelled" and number in self.jobs:
            self.batch_cancelled += 1
        self._end(number, self.jobFailed, kind, message)

    def _end(self, number: int, signal: Signal, *args: object) -> None:
        job = self.jobs.pop(number, None)
        if job is None:
            return
        self.batch_done += 1
        if self.running is job:
            self.running = None
        signal.emit(job, *args)  # type: ignore[attr-defined]

    # ---- summary thread ---------------------------------------------------------------------

    def _run(self, job: QueuedSummary, context: TaskContext) -> None:
        """One job from reading to the stored final summary."""
        signals, stopping = self._signals, context.cancelled

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
                signals.waiting.emit(job.number)
                while self.bridge.info is None:
                    if stopped() or stopping.wait(POLL_S):
                        raise SummaryCancelled("The summary was cancelled.")
            options = job.options
            if job.language_choice == SAME_AS_DOCUMENT and language:
                options = replace(options, language=language)
            signals.started.emit(job.number)
            self.bridge.reset_cancel()
            inner: BlockingEngine = self.bridge
            if self._wrap_engine is not None:
                inner = self._wrap_engine(inner)
            summarizer = Summarizer(CancellableEngine(inner, job.cancelled), self.repository)
            with self._lock:
                self._summarizer = (job, summarizer)
            if stopped():
                raise SummaryCancelled("The summary was cancelled.")
            result = summarizer.summarize(
                document,
                options,
                on_progress=lambda progress: signals.progressed.emit(job.number, progress),
                on_delta=lambda text: signals.delta.emit(job.number, text),
                on_chunk=lambda chunk: signals.chunk.emit(job.number, chunk),
            )
            signals.finished.emit(job.number, result)
        except SummaryCancelled:
            signals.failed.emit(job.number, "cancelled", "")
        except (DocumentError, SummaryError, DatabaseError) as exc:
            signals.failed.emit(job.number, "error", str(exc))
        except EngineError as exc:
            signals.failed.emit(job.number, "engine", str(exc))
        except Exception as exc:  # a bug: tell the user, keep the queue going
            log.exception("summary job %s failed", job.number)
            signals.failed.emit(job.number, "error", f"Something went wrong: {exc}")
        finally:
            with self._lock:
                self._summarizer = None
