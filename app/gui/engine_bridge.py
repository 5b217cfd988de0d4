"""Lets background jobs (summaries, translations) use the window's one engine.

Jobs are plain blocking code written against SyncEngine's API (`chat`, `count_tokens`,
`cancel`, `n_ctx`) so the CLI and the GUI share them. In the GUI they run on a worker thread;
this bridge forwards their requests to the GUI thread's EngineClient and hands the events
back through a per-request queue, so chat and jobs share one engine (and its queue, where
chat goes first) instead of loading the model twice. A chat turn even pauses a job's running
reply; the engine resumes it by itself and the job sees one stream
(inference/process/generation.py).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from app.chat.prefill_progress import progress_text
from app.gui.backend_switch import BackendSwitch
from inference.client import EngineClient
from inference.protocol import (
    BenchDone,
    BenchProgress,
    ChatMessage,
    Done,
    ModelInfo,
    Priority,
    Sampling,
)
from inference.sync_client import EngineError, OnDelta

_DONE = object()


class EngineBridge(QObject):
    """Created and connected in the GUI thread; `chat`/`count_tokens`/`count_tokens_many`/
    `cancel` are called from one worker thread at a time."""

    _call = Signal(object)  # a callable to run in the GUI thread
    # The job's running reply waits while a chat turn goes first (True), or runs again.
    pausedChanged = Signal(bool)
    # A job's request reading a long prompt: "reading the prompt: 3,200 of 8,000 tokens",
    # "" once it is read (issue 12).
    promptReading = Signal(str)

    def __init__(
        self,
        client: EngineClient | BackendSwitch,
        parent: QObject | None = None,
        *,
        info: ModelInfo | None = None,
    ) -> None:
        """`info`: the model already loaded, if any (later loads arrive by signal)."""
        super().__init__(parent)
        self._client = client
        self._queues: dict[int, queue.Queue[tuple[object, Any]]] = {}
        self._current: int | None = None
        self._cancelled = threading.Event()
        self._paused = False
        self.info = info
        self._call.connect(self._run, Qt.ConnectionType.QueuedConnection)
        client.modelLoaded.connect(self._on_loaded)
        client.deltaReceived.connect(self._on_delta)
        client.generationFinished.connect(self._on_finished)
        client.tokensCounted.connect(self._on_counted)
        client.tokenCountsReceived.connect(self._on_counted_many)
        client.requestFailed.connect(self._on_failed)
        client.engineCrashed.connect(self._on_crashed)
        client.generationPreempted.connect(self._on_preempted)
        client.prefillProgressed.connect(self._on_prefill_step)
        client.benchProgressed.connect(self._on_bench_progress)
        client.benchFinished.connect(self._on_finished)

    # ---- worker-thread API (SyncEngine-compatible) --------------------------------------

    @property
    def n_ctx(self) -> int:
        if self.info is None:
            raise EngineError("not_loaded", "No model is loaded.")
        return self.info.n_ctx

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        sampling: Sampling | None = None,
        stop: Sequence[str] = (),
        priority: Priority = Priority.BACKGROUND,
        on_delta: OnDelta | None = None,
        state_key: str = "",
        work: str = "",
        drafting: str = "auto",
    ) -> Done:
        """`state_key`: GenerateRequest.state_key (the KV state the engine keeps for it);
        `work` and `drafting`: GenerateRequest's."""

        def submit() -> int:
            return self._client.generate(
                messages,
                max_tokens=max_tokens,
                sampling=sampling,
                stop=stop,
                priority=priority,
                state_key=state_key,
                work=work,
                drafting=drafting,
            )

        result = self._roundtrip(submit, on_delta)
        assert isinstance(result, Done)
        return result

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int = 512,
        sampling: Sampling | None = None,
        stop: Sequence[str] = (),
        on_delta: OnDelta | None = None,
        state_key: str = "",
        work: str = "",
    ) -> Done:
        """A raw text completion (no chat template, background priority): the prompts of base
        models (app/util/instruction_echo.py). `state_key` and `work`: as `chat`'s."""

        def submit() -> int:
            return self._client.complete(
                prompt,
                max_tokens=max_tokens,
                sampling=sampling,
                stop=stop,
                state_key=state_key,
                work=work,
            )

        result = self._roundtrip(submit, on_delta)
        assert isinstance(result, Done)
        return result

    def count_tokens(self, text: str) -> int:
        result = self._roundtrip(lambda: self._client.count_tokens(text), None)
        assert isinstance(result, int)
        return result

    def count_tokens_many(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        result = self._roundtrip(lambda: self._client.count_tokens_many(texts), None)
        assert isinstance(result, list)
        return result

    def bench(
        self,
        n_prompt: int,
        n_gen: int,
        depth: int = 0,
        *,
        seed: int = 0,
        on_progress: Callable[[BenchProgress], None] | None = None,
    ) -> BenchDone:
        """One bench repetition on the loaded model, at background priority (a chat turn
        ends it with ErrorKind.BENCH_PREEMPTED; app/models/bench.py runs it again)."""

        def submit() -> int:
            return self._client.bench(n_prompt, n_gen, depth, seed)

        result = self._roundtrip(submit, None, on_progress)
        assert isinstance(result, BenchDone)
        return result

    def cancel(self) -> None:
        """Stop the job's running request and refuse new ones until `reset_cancel()` (any
        thread). Never lost: the flag is set before `_current` is read here, and `register`
        reads the flag after setting `_current`, so one of the two passes it on."""
        self._cancelled.set()
        current = self._current
        if current is not None:
            self._call.emit(lambda: self._client.cancel(current))

    def reset_cancel(self) -> None:
        self._cancelled.clear()

    def abort_pending(self, reason: str) -> None:
        """Fail every request still waiting (GUI thread), so a job thread blocked on an engine
        that will never answer can end: shutdown uses it as a last resort."""
        self._on_crashed(reason)

    # ---- plumbing ------------------------------------------------------------------------

    def _roundtrip(
        self,
        submit: Callable[[], int],
        on_delta: OnDelta | None,
        on_bench: Callable[[BenchProgress], None] | None = None,
    ) -> object:
        if self._cancelled.is_set():
            raise EngineError("cancelled", "Cancelled.")
        inbox: queue.Queue[tuple[object, Any]] = queue.Queue()
        registered = threading.Event()

        def register() -> None:  # GUI thread: events for this id are queued after this
            request_id = submit()
            self._queues[request_id] = inbox
            self._current = request_id
            if self._cancelled.is_set():  # cancel() ran while this was on its way here
                self._client.cancel(request_id)
            registered.set()

        self._call.emit(register)
        registered.wait()
        try:
            while True:
                kind, payload = inbox.get()
                if kind == "delta":
                    if on_delta is not None:
                        on_delta(payload)
                elif kind == "bench":
                    if on_bench is not None:
                        on_bench(payload)
                elif kind is _DONE:
                    return payload
                else:
                    raise EngineError(str(kind), str(payload))
        finally:
            self._current = None

    @Slot(object)
    def _run(self, function: Callable[[], object]) -> None:
        function()

    def _put(self, request_id: int, kind: object, payload: Any, final: bool) -> None:
        if self._paused and request_id in self._queues:  # anything from it: it runs again
            self._set_paused(False)
        inbox = self._queues.pop(request_id, None) if final else self._queues.get(request_id)
        if inbox is not None:
            inbox.put((kind, payload))

    def _set_paused(self, paused: bool) -> None:
        self._paused = paused
        self.pausedChanged.emit(paused)

    def _on_prefill_step(self, request_id: int, done: int, total: int) -> None:
        if request_id not in self._queues:
            return
        # A resumed job reads its prompt again before its next token: it runs, not waits.
        if self._paused:
            self._set_paused(False)
        self.promptReading.emit(progress_text(done, total) if done < total else "")

    def _on_preempted(self, request_id: int, _by: int) -> None:
        if request_id in self._queues and not self._paused:
            self._set_paused(True)

    def _on_loaded(self, _request_id: int, info: ModelInfo) -> None:
        self.info = info

    def _on_delta(self, request_id: int, text: str, _tokens: int) -> None:
        self._put(request_id, "delta", text, final=False)

    def _on_bench_progress(self, request_id: int, progress: BenchProgress) -> None:
        self._put(request_id, "bench", progress, final=False)

    def _on_finished(self, request_id: int, done: Done | BenchDone) -> None:
        self._put(request_id, _DONE, done, final=True)

    def _on_counted(self, request_id: int, count: int) -> None:
        self._put(request_id, _DONE, count, final=True)

    def _on_counted_many(self, request_id: int, counts: tuple[int, ...]) -> None:
        self._put(request_id, _DONE, list(counts), final=True)

    def _on_failed(self, request_id: int, kind: str, message: str) -> None:
        self._put(request_id, kind, message.split("\n", 1)[0], final=True)

    def _on_crashed(self, reason: str) -> None:
        self.info = None
        for request_id in list(self._queues):
            self._put(request_id, "crashed", reason, final=True)
