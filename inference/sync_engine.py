"""A blocking façade over the engine process for code that is not Qt: the CLI, batch jobs
(summaries, translations) and benchmarks. One caller thread at a time.

    with SyncEngine.start(EngineSettings(model_path=...)) as engine:
        done = engine.chat([ChatMessage("user", "Hi")], max_tokens=64, on_delta=print)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from types import TracebackType

from inference.engine_process import EngineCrashedError, EngineProcess
from inference.protocol import (
    CancelRequest,
    ChatMessage,
    CompletionRequest,
    Delta,
    Done,
    EngineSettings,
    Error,
    Event,
    GenerateRequest,
    Loaded,
    LoadRequest,
    ModelInfo,
    Priority,
    Sampling,
    Started,
    Tokenized,
    TokenizeRequest,
)

OnDelta = Callable[[str], None]


class EngineError(RuntimeError):
    """A request failed; `kind` is an inference.protocol.ErrorKind value or 'crashed'."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class SyncEngine:
    def __init__(self) -> None:
        self._process = EngineProcess()
        self._lock = threading.Lock()
        self._current: int | None = None
        self.info: ModelInfo | None = None

    @classmethod
    def start(
        cls, settings: EngineSettings, on_progress: Callable[[float], None] | None = None
    ) -> SyncEngine:
        engine = cls()
        try:
            engine.load(settings, on_progress)
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
        self, settings: EngineSettings, on_progress: Callable[[float], None] | None = None
    ) -> ModelInfo:
        self._process.start()
        events = self._request(LoadRequest(self._process.next_id(), settings), on_progress)
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
    ) -> Done:
        request = GenerateRequest(
            self._process.next_id(),
            tuple(messages),
            max_tokens=max_tokens,
            sampling=sampling or Sampling(),
            stop=tuple(stop),
            priority=priority,
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
    ) -> Done:
        request = CompletionRequest(
            self._process.next_id(),
            prompt,
            max_tokens=max_tokens,
            sampling=sampling or Sampling(),
            stop=tuple(stop),
        )
        return self._finish(self._request(request, on_delta=on_delta))

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` with the loaded model's own tokenizer (no BOS, no specials)."""
        last = self._request(TokenizeRequest(self._process.next_id(), text))[-1]
        assert isinstance(last, Tokenized)
        return last.n_tokens

    def cancel(self) -> None:
        """Stop the running request (callable from another thread, e.g. a signal handler)."""
        current = self._current
        if current is not None:
            try:
                self._process.send(CancelRequest(self._process.next_id(), current))
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
        request: LoadRequest | GenerateRequest | CompletionRequest | TokenizeRequest,
        on_progress: Callable[[float], None] | None = None,
        on_delta: OnDelta | None = None,
    ) -> list[Event]:
        with self._lock:
            self._current = request.id
            try:
                self._process.send(request)
                return self._collect(request.id, on_progress, on_delta)
            except EngineCrashedError as exc:
                self.info = None
                raise EngineError("crashed", str(exc)) from exc
            finally:
                self._current = None

    def _collect(
        self,
        request_id: int,
        on_progress: Callable[[float], None] | None,
        on_delta: OnDelta | None,
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
            if isinstance(event, Started):
                continue
            events.append(event)
            if isinstance(event, Error):
                raise EngineError(event.kind, event.message.split("\n", 1)[0])
            if on_progress is not None and hasattr(event, "fraction"):
                on_progress(event.fraction)
            if isinstance(event, Done | Loaded | Tokenized):
                return events
