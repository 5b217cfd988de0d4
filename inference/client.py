"""EngineClient: the GUI process's handle on the engine process.

Lives in the GUI thread. A reader thread turns engine events into Qt signals; because the
client QObject lives in the GUI thread, every signal is queued to it. Commands are plain
method calls (`load`, `generate`, `cancel`), events come out past tense.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal

from inference.engine_process import EngineCrashedError, EngineProcess
from inference.protocol import (
    BenchDone,
    BenchProgress,
    BenchRequest,
    CancelRequest,
    ChatMessage,
    CompletionRequest,
    Delta,
    Done,
    EngineSettings,
    Error,
    Event,
    GenerateRequest,
    KeptStates,
    Loaded,
    LoadProgress,
    LoadRequest,
    Preempted,
    PrefillProgress,
    Priority,
    Request,
    Sampling,
    SetStateBudget,
    Started,
    StateBudgetSet,
    Tokenized,
    TokenizeRequest,
    Unloaded,
    UnloadRequest,
    Warmed,
    WarmRequest,
)


class EngineClient(QObject):
    loadProgressed = Signal(int, float, str)  # request id, fraction 0..1, text
    modelLoaded = Signal(int, object)  # request id, ModelInfo
    generationStarted = Signal(int, int, int)  # request id, prompt tokens, n_ctx
    # request id, indices of the request's messages left out to fit the context
    contextTrimmed = Signal(int, object)
    deltaReceived = Signal(int, str, int)  # request id, text, tokens
    # request id, prompt tokens in the KV cache, of how many: after each prefill batch
    prefillProgressed = Signal(int, int, int)
    # request id, the interactive request it makes way for; it resumes by itself
    generationPreempted = Signal(int, int)
    generationFinished = Signal(int, object)  # request id, Done
    tokensCounted = Signal(int, int)  # request id, count
    tokenCountsReceived = Signal(int, object)  # request id, tuple of counts (a batch)
    requestFailed = Signal(int, str, str)  # request id, ErrorKind, message
    engineCrashed = Signal(str)  # plain-words reason
    benchProgressed = Signal(int, object)  # request id, BenchProgress
    benchFinished = Signal(int, object)  # request id, BenchDone
    modelUnloaded = Signal(int)  # request id of the UnloadRequest
    # Request id, budget bytes (object: past 2 GiB a Qt int overflows), kept states removed.
    stateBudgetSet = Signal(int, object, int)
    warmed = Signal(int, object)  # request id, Warmed (issue 13: a chat's state restored ahead)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = EngineProcess()
        self._reader: threading.Thread | None = None
        self._closed = False

    @property
    def running(self) -> bool:
        return self._engine.running

    @property
    def pid(self) -> int | None:
        return self._engine.pid

    # ---- commands (GUI thread) -----------------------------------------------------------

    def load(self, settings: EngineSettings, kept_states: KeptStates | None = None) -> int:
        """`kept_states`: where the engine keeps KV states on disk (None: nowhere)."""
        return self._submit(LoadRequest(self._engine.next_id(), settings, kept_states))

    def generate(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 512,
        sampling: Sampling | None = None,
        stop: Sequence[str] = (),
        priority: Priority = Priority.INTERACTIVE,
        overflow: str = "fail",
        state_key: str = "",
        work: str = "",
        drafting: str = "auto",
    ) -> int:
        """`work` and `drafting`: GenerateRequest's (the kind of work, whether to draft)."""
        request = GenerateRequest(
            self._engine.next_id(),
            tuple(messages),
            max_tokens=max_tokens,
            sampling=sampling or Sampling(),
            stop=tuple(stop),
            priority=priority,
            overflow=overflow,
            state_key=state_key,
            drafting=drafting,
            work=work,
        )
        return self._submit(request)

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int = 512,
        sampling: Sampling | None = None,
        stop: Sequence[str] = (),
        state_key: str = "",
        priority: Priority = Priority.BACKGROUND,
        work: str = "",
    ) -> int:
        """`priority`: background for the window's own batch work, API for the requests of
        the window's API server (issue 14); `work`: CompletionRequest.work."""
        request = CompletionRequest(
            self._engine.next_id(),
            prompt,
            max_tokens=max_tokens,
            sampling=sampling or Sampling(),
            stop=tuple(stop),
            priority=priority,
            state_key=state_key,
            work=work,
        )
        return self._submit(request)

    def count_tokens(self, text: str) -> int:
        return self._submit(TokenizeRequest(self._engine.next_id(), text))

    def count_tokens_many(self, texts: Sequence[str]) -> int:
        """One request counting each text; answered by `tokenCountsReceived` (not
        `tokensCounted`), with one count per text, in order."""
        if not texts:
            raise ValueError("count_tokens_many needs at least one text")
        return self._submit(TokenizeRequest(self._engine.next_id(), "", texts=tuple(texts)))

    def count_prompt(self, messages: Sequence[ChatMessage]) -> int:
        """Tokens of the whole chat prompt `messages` would make (template included)."""
        return self._submit(TokenizeRequest(self._engine.next_id(), "", messages=tuple(messages)))

    def bench(self, n_prompt: int, n_gen: int, depth: int = 0, seed: int = 0) -> int:
        """One llama-bench-style repetition on the loaded model at background priority
        (protocol.BenchRequest): a chat turn makes it end with ErrorKind.BENCH_PREEMPTED."""
        return self._submit(BenchRequest(self._engine.next_id(), n_prompt, n_gen, depth, seed))

    def unload(self) -> int | None:
        """Free the loaded model's memory, keeping the engine process (`modelUnloaded(id)`
        follows); None when no engine process runs (nothing is loaded then), so an unload
        never starts one."""
        if self._closed or not self._engine.running:
            return None
        return self._submit(UnloadRequest(self._engine.next_id()))

    def set_state_budget(self, budget_bytes: int) -> int | None:
        """A new disk budget for the kept KV states, applied by the running engine at once
        (protocol.SetStateBudget; `stateBudgetSet` follows); None when no engine process runs
        (its next load brings the budget), so a budget change never starts one."""
        if self._closed or not self._engine.running:
            return None
        return self._submit(SetStateBudget(self._engine.next_id(), budget_bytes))

    def warm(self, messages: Sequence[ChatMessage], state_key: str, typing: str = "") -> int | None:
        """Ask the engine to restore the kept KV state of the conversation `messages` (as
        shown, ending with its last reply) and `state_key`, and to read `typing` ahead
        (protocol.WarmRequest; `warmed` follows). None when no engine process runs: a warm
        never starts one."""
        if self._closed or not self._engine.running:
            return None
        request = WarmRequest(self._engine.next_id(), tuple(messages), state_key, typing=typing)
        return self._submit(request)

    def cancel(self, request_id: int) -> None:
        if self._engine.running:
            try:
                self._engine.send(CancelRequest(self._engine.next_id(), request_id))
            except EngineCrashedError:
                pass  # the reader thread reports the crash

    def shutdown(self) -> None:
        """Stop the engine and the reader thread for good; safe to call more than once.
        Requests after this fail instead of starting a new engine."""
        self._closed = True
        self._engine.stop()
        if self._reader is not None:
            self._reader.join(5)
            self._reader = None
        self._engine.close()

    # ---- internals -----------------------------------------------------------------------

    def _submit(self, request: Request) -> int:
        if self._closed:
            self.requestFailed.emit(request.id, "engine_closed", "Hearth is shutting down.")
            return request.id
        if not self._engine.running:
            self._start()
        try:
            self._engine.send(request)
        except EngineCrashedError as exc:
            self.requestFailed.emit(request.id, "engine_crashed", str(exc))
        return request.id

    def _start(self) -> None:
        if self._reader is not None:
            self._reader.join(5)
        self._engine.start()
        self._reader = threading.Thread(target=self._read_events, name="engine-events", daemon=True)
        self._reader.start()

    def _read_events(self) -> None:
        """Reader thread: forwards events until the engine exits."""
        engine = self._engine
        while True:
            try:
                event = engine.recv()
            except EngineCrashedError as exc:
                if not engine.stopping:
                    self.engineCrashed.emit(str(exc))
                return
            if event is not None:
                self._dispatch(event)

    def _dispatch(self, event: Event) -> None:
        if isinstance(event, Delta):
            self.deltaReceived.emit(event.id, event.text, event.n_tokens)
        elif isinstance(event, Started):
            if event.dropped:
                self.contextTrimmed.emit(event.id, event.dropped)
            self.generationStarted.emit(event.id, event.prompt_tokens, event.n_ctx)
        elif isinstance(event, PrefillProgress):
            self.prefillProgressed.emit(event.id, event.done, event.total)
        elif isinstance(event, Done):
            self.generationFinished.emit(event.id, event)
        elif isinstance(event, Preempted):
            self.generationPreempted.emit(event.id, event.by)
        elif isinstance(event, LoadProgress):
            self.loadProgressed.emit(event.id, event.fraction, event.text)
        elif isinstance(event, Loaded):
            self.modelLoaded.emit(event.id, event.info)
        elif isinstance(event, Tokenized) and event.counts:
            self.tokenCountsReceived.emit(event.id, event.counts)
        elif isinstance(event, Tokenized):
            self.tokensCounted.emit(event.id, event.n_tokens)
        elif isinstance(event, Error):
            self.requestFailed.emit(event.id, event.kind, event.message)
        elif isinstance(event, BenchProgress):
            self.benchProgressed.emit(event.id, event)
        elif isinstance(event, BenchDone):
            self.benchFinished.emit(event.id, event)
        elif isinstance(event, Unloaded):
            self.modelUnloaded.emit(event.id)
        elif isinstance(event, StateBudgetSet):
            self.stateBudgetSet.emit(event.id, event.budget_bytes, event.removed)
        elif isinstance(event, Warmed):
            self.warmed.emit(event.id, event)
