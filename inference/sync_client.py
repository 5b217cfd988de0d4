"""A blocking façade over the engine process for code that is not Qt: the CLI, batch jobs
(summaries, translations) and benchmarks. One caller thread at a time; `cancel` from any.

`BlockingEngine` is what such code may ask of an engine; SyncEngine and the GUI's
app/gui/engine_bridge.EngineBridge both provide it, so a job is written once for the CLI and
the window. Cancel has the same contract in both: it stops the running request and refuses
new ones until `reset_cancel()`, so a cancel that lands while a request is being sent, before
it has an id, is never lost.

    with SyncEngine.start(EngineSettings(model_path=...)) as engine:
        done = engine.chat([ChatMessage("user", "Hi")], max_tokens=64, on_delta=print)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Protocol

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
    LoadRequest,
    ModelInfo,
    Preempted,
    PrefillProgress,
    Priority,
    RequestLogReport,
    RequestLogRequest,
    RequestRecord,
    Sampling,
    Started,
    Tokenized,
    TokenizeRequest,
    Warmed,
    WarmRequest,
)

OnDelta = Callable[[str], None]


class BlockingEngine(Protocol):
    """The engine as blocking code sees it (summaries, translations, on the CLI's thread or
    a GUI worker thread): one request at a time, each call returns when its request ends;
    `cancel` from any thread. SyncEngine and app.gui.engine_bridge.EngineBridge fit."""

    @property
    def info(self) -> ModelInfo | None:
        """The loaded model, or None before one is loaded."""
        ...

    @property
    def n_ctx(self) -> int: ...

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = ...,
        sampling: Sampling | None = ...,
        stop: Sequence[str] = ...,
        priority: Priority = ...,
        on_delta: OnDelta | None = ...,
        state_key: str = ...,
        work: str = ...,
        drafting: str = ...,
    ) -> Done:
        """A reply with the model's chat template; `state_key`: GenerateRequest.state_key;
        `work` and `drafting`: GenerateRequest's (a server ignores them)."""
        ...

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int = ...,
        sampling: Sampling | None = ...,
        stop: Sequence[str] = ...,
        on_delta: OnDelta | None = ...,
        state_key: str = ...,
        work: str = ...,
    ) -> Done:
        """A raw continuation of `prompt` (no chat template): the prompts of base models."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def count_tokens_many(self, texts: Sequence[str]) -> list[int]: ...

    def cancel(self) -> None:
        """Stop the running request and refuse new ones until the owner resets it."""
        ...


class EngineError(RuntimeError):
    """A request failed; `kind` is an inference.protocol.ErrorKind value or 'crashed'."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class SyncEngine:
    def __init__(self) -> None:
        self._process = EngineProcess()
        self._lock = threading.Lock()  # one request at a time
        # Guards _current and _cancelled. Reentrant: the CLI cancels from a SIGINT handler,
        # which runs on the very thread that may hold it.
        self._state = threading.RLock()
        self._current: int | None = None
        self._cancelled = False
        self.info: ModelInfo | None = None

    @classmethod
    def start(
        cls,
        settings: EngineSettings,
        on_progress: Callable[[float], None] | None = None,
        kept_states: KeptStates | None = None,
    ) -> SyncEngine:
        engine = cls()
        try:
            engine.load(settings, on_progress, kept_states)
        except BaseException:
            engine.close()
            raise
        return engine

    def __enter__(self) -> SyncEngine:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The engine process's id while it runs (supervision and tests)."""
        return self._process.pid

    @property
    def n_ctx(self) -> int:
        if self.info is None:
            raise EngineError("not_loaded", "No model is loaded.")
        return self.info.n_ctx

    def load(
        self,
        settings: EngineSettings,
        on_progress: Callable[[float], None] | None = None,
        kept_states: KeptStates | None = None,
    ) -> ModelInfo:
        """Load a model; `kept_states`: where KV states are kept on disk (None: nowhere)."""
        self._process.start()
        request = LoadRequest(self._process.next_id(), settings, kept_states)
        events = self._request(request, on_progress)
        last = events[-1]
        assert isinstance(last, Loaded)
        self.info = last.info
        return last.info

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
        """`state_key`: GenerateRequest.state_key (keep and restore the KV state); `work` and
        `drafting`: GenerateRequest's (the kind of work, whether to draft)."""
        request = GenerateRequest(
            self._process.next_id(),
            tuple(messages),
            max_tokens=max_tokens,
            sampling=sampling or Sampling(),
            stop=tuple(stop),
            priority=priority,
            state_key=state_key,
            drafting=drafting,
            work=work,
        )
        return self._finish(self._request(request, on_delta=on_delta))

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
        request = CompletionRequest(
            self._process.next_id(),
            prompt,
            max_tokens=max_tokens,
            sampling=sampling or Sampling(),
            stop=tuple(stop),
            state_key=state_key,
            work=work,
        )
        return self._finish(self._request(request, on_delta=on_delta))

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` with the loaded model's own tokenizer (no BOS, no specials)."""
        last = self._request(TokenizeRequest(self._process.next_id(), text))[-1]
        assert isinstance(last, Tokenized)
        return last.n_tokens

    def count_tokens_many(self, texts: Sequence[str]) -> list[int]:
        """`count_tokens` of each text, in one engine round trip (callers bound the batch:
        one message carries all the texts)."""
        if not texts:
            return []
        request = TokenizeRequest(self._process.next_id(), "", texts=tuple(texts))
        last = self._request(request)[-1]
        assert isinstance(last, Tokenized)
        return list(last.counts)

    def warm(self, messages: Sequence[ChatMessage], state_key: str, typing: str = "") -> Warmed:
        """Restore the kept KV state of the conversation `messages` (ending with its last
        reply) ahead of its next turn, and read `typing` ahead (protocol.WarmRequest)."""
        request = WarmRequest(self._process.next_id(), tuple(messages), state_key, typing=typing)
        last = self._request(request)[-1]
        assert isinstance(last, Warmed)
        return last

    def request_log(self) -> tuple[RequestRecord, ...]:
        """The engine's own record of its last requests (inference/process/request_log.py)."""
        last = self._request(RequestLogRequest(self._process.next_id()))[-1]
        assert isinstance(last, RequestLogReport)
        return last.records

    def bench(
        self,
        n_prompt: int,
        n_gen: int,
        depth: int = 0,
        *,
        seed: int = 0,
        on_progress: Callable[[BenchProgress], None] | None = None,
    ) -> BenchDone:
        """One llama-bench-style repetition on the loaded model (protocol.BenchRequest)."""
        request = BenchRequest(self._process.next_id(), n_prompt, n_gen, depth, seed)
        last = self._request(request, on_bench=on_progress)[-1]
        assert isinstance(last, BenchDone)
        return last

    def cancel(self) -> None:
        """Stop the running request and refuse new ones until `reset_cancel()` (any thread,
        also a signal handler)."""
        with self._state:
            self._cancelled = True
            current = self._current
        if current is not None:
            self._send_cancel(current)

    def reset_cancel(self) -> None:
        """Accept requests again after `cancel()`: the next job's owner calls it."""
        with self._state:
            self._cancelled = False

    def _send_cancel(self, request_id: int) -> None:
        try:
            self._process.send(CancelRequest(self._process.next_id(), request_id))
        except EngineCrashedError:
            pass

    def close(self) -> None:
        self._process.stop()

    # ---- internals -------------------------------------------------------------------------

    @staticmethod
    def _finish(events: list[Event]) -> Done:
        last = events[-1]
        assert isinstance(last, Done)
        return last

    def _request(
        self,
        request: LoadRequest
        | GenerateRequest
        | CompletionRequest
        | TokenizeRequest
        | RequestLogRequest
        | BenchRequest
        | WarmRequest,
        on_progress: Callable[[float], None] | None = None,
        on_delta: OnDelta | None = None,
        on_bench: Callable[[BenchProgress], None] | None = None,
    ) -> list[Event]:
        with self._lock:
            # Checked and set together with cancel()'s flag: a cancel comes either before
            # (nothing is sent) or after (it finds the id and is passed on), never between.
            with self._state:
                if self._cancelled:
                    raise EngineError("cancelled", "Cancelled.")
                self._current = request.id
            try:
                self._process.send(request)
                with self._state:
                    # A SIGINT handler runs on this thread and may have slipped in between
                    # the check and the assignment above: pass its cancel on now.
                    late = self._cancelled
                if late:
                    self._send_cancel(request.id)
                return self._collect(request.id, on_progress, on_delta, on_bench)
            except EngineCrashedError as exc:
                self.info = None
                raise EngineError("crashed", str(exc)) from exc
            finally:
                with self._state:
                    self._current = None

    def _collect(
        self,
        request_id: int,
        on_progress: Callable[[float], None] | None,
        on_delta: OnDelta | None,
        on_bench: Callable[[BenchProgress], None] | None = None,
    ) -> list[Event]:
        events: list[Event] = []
        while True:
            event = self._process.recv()
            if getattr(event, "id", None) != request_id:
                continue
            if isinstance(event, Delta):
                if on_delta is not None and event.text:
                    on_delta(event.text)
                continue
            if isinstance(event, BenchProgress):
                if on_bench is not None:
                    on_bench(event)
                continue
            if isinstance(event, Started | PrefillProgress | Preempted):
                continue  # a preempted request resumes by itself, its stream continuing
            events.append(event)
            if isinstance(event, Error):
                raise EngineError(event.kind, event.message.split("\n", 1)[0])
            if on_progress is not None and hasattr(event, "fraction"):
                on_progress(event.fraction)
            if isinstance(event, Done | Loaded | Tokenized | RequestLogReport | BenchDone | Warmed):
                return events
