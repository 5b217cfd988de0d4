"""RemoteClient: a remote OpenAI-compatible server (inference/backends/remote.py RemoteEngine)
behind the same Qt signals as the local EngineClient (inference/client.py), so the chat, the
context meter and EngineBridge's jobs talk to either without knowing which (issue 14).

Threads: the object lives in the GUI thread, where its commands are called; each request runs
as a task (app/gui/tasks.py) on a worker thread, replies one after another in one lane (a
server reply at a time, as the local engine's queue), counts and the connect in another, so a
count never waits for a long reply. Signals are emitted from those threads and, the object
living in the GUI thread, reach their receivers queued there, in order: every delta of a reply
before its end. Request ids start at REMOTE_IDS, far above the local engine's, so a caller
holding both kinds never mixes them up (app/gui/backend_switch.py routes `cancel` by them).

What differs from the local engine, said where it shows:
- `generationStarted` comes before the request goes out, with 0 prompt tokens (the server
  says how many only at the end, in Done.stats);
- a reply that breaks off fails with the RemoteError's kind ("crashed" when the server died
  or the connection dropped, as a local crash), the text so far already delivered as deltas;
- `count_prompt` counts each message with the server's tokenizer plus a few tokens a message
  for the template it renders (the server does not render it for us): an estimate;
- no load, no bench: those are the local engine's.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from app.gui.tasks import Task, TaskContext, TaskRunner
from inference.backends.remote import RemoteEngine
from inference.backends.remote_url import insecure_warning, parse_server_url
from inference.protocol import ChatMessage, Done, ErrorKind, Priority, Sampling
from inference.sync_client import EngineError

REMOTE_IDS = 1 << 30  # ids of remote requests start here (Qt's int is 32 bits)
# Tokens a chat template adds around each message (role markers, separators): ChatML's
# "<|im_start|>user\n...<|im_end|>\n" is 5, Llama 3's header 4 to 5. Counted per message
# when the server renders the template itself.
TEMPLATE_TOKENS_PER_MESSAGE = 5
# Closing Hearth or choosing another model: a reply in flight is cancelled (the stream is
# closed), so its thread ends within a moment.
STOP_WAIT_S = 3.0

ApiKey = Callable[[], str | None]


class RemoteClient(QObject):
    """The EngineClient signals a remote server can give (see inference/client.py for their
    arguments); `modelLoaded` answers `connect_model`."""

    loadProgressed = Signal(int, float, str)
    modelLoaded = Signal(int, object)
    generationStarted = Signal(int, int, int)
    contextTrimmed = Signal(int, object)
    deltaReceived = Signal(int, str, int)
    prefillProgressed = Signal(int, int, int)
    generationPreempted = Signal(int, int)
    generationFinished = Signal(int, object)
    tokensCounted = Signal(int, int)
    tokenCountsReceived = Signal(int, object)
    requestFailed = Signal(int, str, str)
    engineCrashed = Signal(str)
    benchProgressed = Signal(int, object)
    benchFinished = Signal(int, object)

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: ApiKey,
        parent: QObject | None = None,
        *,
        read_timeout_s: float | None = None,
    ) -> None:
        """`api_key`: called on a worker thread, once, before the first request (the system
        keyring may take a while to answer). `read_timeout_s`: how long a silent server is
        waited for (None: RemoteEngine's default). Raises ValueError for a bad address."""
        super().__init__(parent)
        self.address = parse_server_url(base_url)
        self.model = model
        # Plain http:// beyond this machine: the window says so once (connections presenter).
        self.warning = insecure_warning(self.address)
        self._base_url = base_url
        self._read_timeout_s = read_timeout_s
        self._api_key = api_key
        # Made on a worker thread once the key is known (the keyring may be slow): two
        # engines, two connection pools, so a count is never refused because a reply was
        # cancelled (RemoteEngine refuses new requests until reset_cancel).
        self._engines: tuple[RemoteEngine, RemoteEngine] | None = None
        self._made = threading.Lock()
        self._ids = itertools.count(REMOTE_IDS)
        self._tasks = TaskRunner(self)
        self._requests: dict[int, Task[None]] = {}  # not ended yet (GUI thread)
        self._running: int | None = None  # the reply on the wire (guarded by _state)
        self._answered: set[int] = set()  # requests whose last signal went out (_state)
        self._state = threading.Lock()
        self._closed = False

    @property
    def running(self) -> bool:
        return False  # no local engine process

    @property
    def pid(self) -> int | None:
        return None

    # ---- commands (GUI thread) -------------------------------------------------------------

    def connect_model(self) -> int:
        """Ask the server for the model and its context size: `modelLoaded(id, ModelInfo)`
        or `requestFailed(id, kind, message)`."""

        def work(request_id: int) -> None:
            replies, counts = self._made_engines()
            info = counts.connect()
            replies.info = info
            self.modelLoaded.emit(request_id, info)

        return self._start("connect", work, lane="counts")

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
        """A chat reply (`overflow`, `state_key`, `work` and `drafting` are the local
        engine's: a server trims, caches and decodes in its own way)."""
        messages = tuple(messages)
        return self._reply(
            lambda engine, on_delta: engine.chat(
                messages,
                max_tokens=max_tokens,
                sampling=sampling,
                stop=stop,
                priority=priority,
                on_delta=on_delta,
            )
        )

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
        # The server runs its own queue: Hearth's priorities order only its own engine.
        return self._reply(
            lambda engine, on_delta: engine.complete(
                prompt, max_tokens=max_tokens, sampling=sampling, stop=stop, on_delta=on_delta
            )
        )

    def count_tokens(self, text: str) -> int:
        def work(request_id: int) -> None:
            self.tokensCounted.emit(request_id, self._made_engines()[1].count_tokens(text))

        return self._start("count", work, lane="counts")

    def count_tokens_many(self, texts: Sequence[str]) -> int:
        if not texts:
            raise ValueError("count_tokens_many needs at least one text")
        texts = tuple(texts)

        def work(request_id: int) -> None:
            counts = tuple(self._made_engines()[1].count_tokens_many(texts))
            self.tokenCountsReceived.emit(request_id, counts)

        return self._start("count", work, lane="counts")

    def count_prompt(self, messages: Sequence[ChatMessage]) -> int:
        """An estimate of the chat prompt's tokens (see the module's docstring)."""
        contents = [m.content for m in messages]

        def work(request_id: int) -> None:
            counts = self._made_engines()[1].count_tokens_many(contents) if contents else []
            total = sum(counts) + TEMPLATE_TOKENS_PER_MESSAGE * len(contents)
            self.tokensCounted.emit(request_id, total)

        return self._start("count", work, lane="counts")

    def bench(self, n_prompt: int, n_gen: int, depth: int = 0, seed: int = 0) -> int:
        request_id = next(self._ids)
        self.requestFailed.emit(
            request_id,
            ErrorKind.BAD_REQUEST,
            "Benchmarks measure local models; this chat uses a model on a server.",
        )
        return request_id

    def cancel(self, request_id: int) -> None:
        """Stop that request: the reply on the wire ends with the text so far (its Done says
        "cancelled"); one still waiting ends as cancelled without being sent."""
        task = self._requests.get(request_id)
        if task is not None:
            task.cancel()  # its on_cancel closes the stream if it is the reply on the wire

    @property
    def token_counts_estimated(self) -> bool | None:
        """Whether counts are estimates (no tokenizer endpoint); None before the first."""
        engines = self._engines
        return engines[1].token_counts_estimated if engines is not None else None

    def shutdown(self, reason: str = "Hearth is shutting down.") -> None:
        """Cancel everything, wait a moment for the threads (turning the event loop, so what
        they say on their way out is delivered), close the connections; every request that
        got no answer then fails with `reason`, so no job waits for one forever. Safe to call
        more than once. Requests after this fail."""
        if self._closed:
            return
        self._closed = True
        with self._made:
            engines, self._engines = self._engines, None
        for engine in engines or ():
            engine.cancel()
        self._tasks.shutdown(time.monotonic() + STOP_WAIT_S)
        for engine in engines or ():
            engine.close()
        with self._state:
            unanswered = [i for i in self._requests if i not in self._answered]
        self._requests.clear()
        for request_id in unanswered:
            self.requestFailed.emit(request_id, "engine_closed", reason)

    # ---- internals -------------------------------------------------------------------------

    def _reply(self, call: Callable[[RemoteEngine, Callable[[str], None]], Done]) -> int:
        def work(request_id: int) -> None:
            replies = self._made_engines()[0]
            with self._state:
                self._running = request_id
            try:
                self.generationStarted.emit(request_id, 0, self._n_ctx())

                def on_delta(text: str) -> None:
                    # llama.cpp's servers send a chunk per token; others may send more at once.
                    self.deltaReceived.emit(request_id, text, 1)

                done = call(replies, on_delta)
            finally:
                with self._state:
                    self._running = None
                    replies.reset_cancel()  # the next reply is not the one cancelled
            self.generationFinished.emit(request_id, _with_id(done, request_id))

        return self._start("reply", work, lane="replies", stops=True)

    def _n_ctx(self) -> int:
        engines = self._engines
        info = engines[0].info if engines is not None else None
        return info.n_ctx if info is not None else 0

    def _made_engines(self) -> tuple[RemoteEngine, RemoteEngine]:
        """The two engines, made on first use (worker thread: the key lookup may wait on
        the system keyring). Raises EngineError once the client is shut down."""
        with self._made:
            if self._engines is None:
                if self._closed:
                    raise EngineError("engine_closed", "Hearth is shutting down.")
                key = self._api_key()
                options = (
                    {} if self._read_timeout_s is None else {"read_timeout_s": self._read_timeout_s}
                )
                self._engines = (
                    RemoteEngine(self._base_url, self.model, key, **options),
                    RemoteEngine(self._base_url, self.model, key, **options),
                )
            return self._engines

    def _start(
        self,
        name: str,
        work: Callable[[int], None],
        *,
        lane: str,
        stops: bool = False,
    ) -> int:
        """Run `work(request_id)` in `lane`; `stops`: cancelling closes its reply stream."""
        request_id = next(self._ids)
        if self._closed:
            self.requestFailed.emit(request_id, "engine_closed", "Hearth is shutting down.")
            return request_id

        def run(context: TaskContext) -> None:  # worker thread
            try:
                work(request_id)
            except EngineError as exc:  # RemoteError included: its message is plain words
                self.requestFailed.emit(request_id, exc.kind, str(exc))
            with self._state:
                self._answered.add(request_id)

        def cancelled() -> None:
            self.requestFailed.emit(request_id, ErrorKind.CANCELLED, "Cancelled.")

        def failed(exc: Exception) -> None:
            self.requestFailed.emit(request_id, ErrorKind.INTERNAL, str(exc))

        task = self._tasks.start(
            run,
            name=f"remote-{name}",
            lane=lane,
            on_cancelled=cancelled,
            on_error=failed,
            on_finished=lambda: self._forget(request_id),
            on_cancel=(lambda: self._stop_if_running(request_id)) if stops else None,
        )
        self._requests[request_id] = task
        return request_id

    def _forget(self, request_id: int) -> None:
        self._requests.pop(request_id, None)
        with self._state:
            self._answered.discard(request_id)

    def _stop_if_running(self, request_id: int) -> None:
        with self._state:
            engines = self._engines
            if self._running == request_id and engines is not None:
                engines[0].cancel()


def _with_id(done: Done, request_id: int) -> Done:
    """RemoteEngine numbers its replies itself; callers match Done by the request's id."""
    return replace(done, id=request_id)
