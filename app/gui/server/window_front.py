"""The API server's engine front over the WINDOW's engine (issue 14): requests to Hearth's API
server are served by the same engine as the window, through the same queue, so a person typing
in Hearth goes first (protocol.Priority.API) and the model is loaded once.

Threads. `chat`, `complete` and the replies' `next_event`, `cancel` and `abandon` are called on
the server's event loop thread (app/server/runner.py BackgroundServer). The EngineClient lives
on the GUI thread: a submit or a cancel is handed to it through a queued signal (in order: a
cancel never overtakes its submit), and the client's events for an API request are routed by
request id back into that reply's asyncio queue with loop.call_soon_threadsafe. `info` and
`crashed` are single attribute reads of values the GUI thread sets.

Each chat request that ends with the engine's Done is announced as `exchanged(messages, done)`
on the GUI thread, so the window can keep it as a chat when the user asked for that.

No stream waits for ever: a model switch in the window, an engine crash and `close` (the
server switched off, the window closing) end every open stream with an Error event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt, Signal

from app.gui.session import EngineSession
from inference.protocol import (
    ChatMessage,
    Delta,
    Done,
    Error,
    ErrorKind,
    Event,
    ModelInfo,
    Preempted,
    PrefillProgress,
    Priority,
    Sampling,
    Started,
)

# Error.kind of the events that end open streams when the engine process dies (the same
# value as inference.async_client.ENGINE_CRASHED) and when the front closes.
ENGINE_CRASHED = "crashed"
FRONT_CLOSED = "engine_closed"
MODEL_SWITCHED = (
    "The window switched to another model: this request was stopped. Try again once the new "
    "model is loaded."
)


class WindowReply:
    """One API request the window's engine runs (app.server.front.ReplyStream)."""

    def __init__(self, front: WindowFront, loop: asyncio.AbstractEventLoop) -> None:
        self.id = 0  # the engine's request id, once the GUI thread has sent the request
        self.tokens = 0  # GUI thread: tokens streamed so far (Preempted.completion_tokens)
        self.abandoned = False  # set on the loop thread, read on the GUI thread
        self.messages: tuple[ChatMessage, ...] = ()  # a chat request's, () for a completion
        self._front = front
        self._loop = loop
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._ended = False

    # ---- GUI thread -----------------------------------------------------------------------

    def deliver(self, event: Event) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)
        except RuntimeError:
            pass  # the server's loop is closed: nobody is left to tell

    # ---- the server's loop thread ---------------------------------------------------------

    async def next_event(self) -> Event:
        event = await self._queue.get()
        if isinstance(event, Done | Error):
            self._ended = True
        return event

    def cancel(self) -> None:
        """Ask the engine to stop; the stream still ends with its Done or an Error."""
        if not self._ended:
            self._front.marshal(lambda: self._front.cancel_now(self))

    def abandon(self) -> None:
        """Cancel, drop what the engine still sends, and wake a pending `next_event` with
        Error(kind=ErrorKind.ABANDONED)."""
        if self._ended or self.abandoned:
            return
        self.abandoned = True
        self._front.marshal(lambda: self._front.drop_now(self))
        self._queue.put_nowait(Error(self.id, ErrorKind.ABANDONED, "Abandoned by its caller."))


class WindowFront(QObject):
    """Created on the GUI thread, one per run of the server; `close` ends it."""

    _call = Signal(object)  # a callable to run on the GUI thread
    exchanged = Signal(object, object)  # a chat request's messages (tuple), its Done

    def __init__(self, session: EngineSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._client = session.client
        self._replies: dict[int, WindowReply] = {}  # GUI thread: open requests by engine id
        self._sending: list[Error] | None = None  # failures reported while one is sent
        self._closed = False
        self.crashed: str | None = None  # why the window's engine died, in plain words
        self._call.connect(self._run, Qt.ConnectionType.QueuedConnection)
        client = self._client
        client.generationStarted.connect(self._on_started)
        client.prefillProgressed.connect(self._on_prefill)
        client.deltaReceived.connect(self._on_delta)
        client.generationPreempted.connect(self._on_preempted)
        client.generationFinished.connect(self._on_finished)
        client.requestFailed.connect(self._on_failed)
        session.switching.connect(self._on_model_switch)
        session.loadStarted.connect(self._on_model_switch)
        session.loaded.connect(self._on_loaded)
        session.crashed.connect(self._on_crashed)

    @property
    def info(self) -> ModelInfo | None:
        """The window's model, or None while none is loaded (or the front is closed)."""
        return None if self._closed else self._session.info

    @property
    def open_requests(self) -> int:
        """API requests sent to the engine whose stream has not ended (GUI thread)."""
        return len(self._replies)

    # ---- the server's loop thread -------------------------------------------------------------

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        sampling: Sampling,
        stop: Sequence[str] = (),
        priority: Priority = Priority.API,
    ) -> WindowReply:
        messages, stop = tuple(messages), tuple(stop)
        return self._submit(
            lambda: self._client.generate(
                messages, max_tokens=max_tokens, sampling=sampling, stop=stop, priority=priority
            ),
            messages,
        )

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int,
        sampling: Sampling,
        stop: Sequence[str] = (),
        priority: Priority = Priority.API,
    ) -> WindowReply:
        stop = tuple(stop)
        return self._submit(
            lambda: self._client.complete(
                prompt, max_tokens=max_tokens, sampling=sampling, stop=stop, priority=priority
            )
        )

    def marshal(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the GUI thread, after everything marshalled before it."""
        self._call.emit(fn)

    def _submit(
        self, send: Callable[[], int], messages: tuple[ChatMessage, ...] = ()
    ) -> WindowReply:
        reply = WindowReply(self, asyncio.get_running_loop())
        reply.messages = messages  # before the GUI thread can see the reply
        if self._closed:
            reply.deliver(Error(0, FRONT_CLOSED, "Hearth's API server is stopping."))
        else:
            self.marshal(lambda: self._send_now(reply, send))
        return reply

    # ---- GUI thread ---------------------------------------------------------------------------

    def _run(self, fn: Callable[[], None]) -> None:
        fn()

    def _send_now(self, reply: WindowReply, send: Callable[[], int]) -> None:
        if reply.abandoned:
            return
        if self._closed:
            reply.deliver(Error(0, FRONT_CLOSED, "Hearth's API server is stopping."))
            return
        if self._session.info is None:
            why = self.crashed or "No model is loaded in the window."
            reply.deliver(Error(0, ErrorKind.NOT_LOADED, why))
            return
        # The client reports a refused request (engine closed or dead) at once, by a direct
        # signal, before its id is known here: catch it rather than lose it.
        self._sending = failures = []
        try:
            reply.id = send()
        finally:
            self._sending = None
        if failures:
            reply.deliver(failures[0])
        else:
            self._replies[reply.id] = reply

    def cancel_now(self, reply: WindowReply) -> None:
        if self._replies.get(reply.id) is reply:
            self._client.cancel(reply.id)

    def drop_now(self, reply: WindowReply) -> None:
        if self._replies.pop(reply.id, None) is reply:
            self._client.cancel(reply.id)

    def end_all(self, kind: str, message: str, *, cancel: bool = True) -> None:
        """End every open stream with Error(kind, message); `cancel`: stop their generations
        in the engine too (not after a crash: there is no engine to tell)."""
        replies, self._replies = self._replies, {}
        for request_id, reply in replies.items():
            if cancel:
                self._client.cancel(request_id)
            reply.deliver(Error(request_id, kind, message))

    def close(self, message: str) -> None:
        """No more requests; the open ones end with `message` (their generations stop)."""
        self._closed = True
        self.end_all(FRONT_CLOSED, message)

    def _on_started(self, request_id: int, prompt_tokens: int, n_ctx: int) -> None:
        reply = self._replies.get(request_id)
        if reply is not None:
            reply.deliver(Started(request_id, prompt_tokens, n_ctx))

    def _on_prefill(self, request_id: int, done: int, total: int) -> None:
        reply = self._replies.get(request_id)
        if reply is not None:
            reply.deliver(PrefillProgress(request_id, done, total))

    def _on_delta(self, request_id: int, text: str, n_tokens: int) -> None:
        reply = self._replies.get(request_id)
        if reply is not None:
            reply.tokens += n_tokens
            reply.deliver(Delta(request_id, text, n_tokens))

    def _on_preempted(self, request_id: int, by: int) -> None:
        reply = self._replies.get(request_id)
        if reply is not None:
            reply.deliver(Preempted(request_id, by, reply.tokens))

    def _on_finished(self, request_id: int, done: object) -> None:
        reply = self._replies.pop(request_id, None)
        if reply is not None and isinstance(done, Done):
            reply.deliver(done)
            if reply.messages:
                self.exchanged.emit(reply.messages, done)

    def _on_failed(self, request_id: int, kind: str, message: str) -> None:
        reply = self._replies.pop(request_id, None)
        if reply is not None:
            reply.deliver(Error(request_id, kind, message))
        elif self._sending is not None:
            self._sending.append(Error(request_id, kind, message))

    def _on_model_switch(self, _path: str) -> None:
        self.end_all(ErrorKind.MODEL_CHANGED, MODEL_SWITCHED)

    def _on_loaded(self, _info: object) -> None:
        self.crashed = None

    def _on_crashed(self, reason: str) -> None:
        self.crashed = reason
        self.end_all(ENGINE_CRASHED, reason, cancel=False)
