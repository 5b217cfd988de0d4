"""AsyncEngine: the engine process for asyncio code (Hearth's API server, issue 14).

Many requests in flight at once, each with its own asyncio queue of events. Threads: the
event loop that started the engine calls every method; one reader thread receives events
from the pipe and hands each to the loop (loop.call_soon_threadsafe), where it is routed by
request id. The engine's own queue decides what runs (protocol.Priority): this front only
sends, routes and cancels.

    engine = await AsyncEngine.start(EngineSettings(model_path=...))
    reply = engine.chat([ChatMessage("user", "Hi")], max_tokens=64)
    async for event in reply:      # Started, PrefillProgress, Delta, Preempted ... Done | Error
        ...
    await engine.close()

A reply's stream ends with its Done or its Error. When the engine dies, every open stream
ends with Error(kind=ENGINE_CRASHED) and `crashed` says why; new requests fail the same way.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence

from inference.engine_process import EngineCrashedError, EngineProcess
from inference.protocol import (
    CancelRequest,
    ChatMessage,
    CompletionRequest,
    Done,
    EngineSettings,
    Error,
    ErrorKind,
    Event,
    GenerateRequest,
    Loaded,
    LoadRequest,
    ModelInfo,
    Priority,
    Request,
    RequestLogReport,
    RequestLogRequest,
    RequestRecord,
    Sampling,
)

# Error.kind of the events that end open streams when the engine process dies.
ENGINE_CRASHED = "crashed"

_ENDS = (Done, Error, Loaded, RequestLogReport)


class AsyncEngineError(RuntimeError):
    """A request failed; `kind` is an inference.protocol.ErrorKind value or ENGINE_CRASHED."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class AsyncReply:
    """One request's events, in order, ending with its Done or Error (event loop only)."""

    def __init__(self, engine: AsyncEngine, request_id: int) -> None:
        self.id = request_id
        self._engine = engine
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self.ended = False

    def _put(self, event: Event) -> None:
        self._queue.put_nowait(event)

    async def next_event(self) -> Event:
        """The next event; after the last one (Done or Error) the reply is `ended`."""
        event = await self._queue.get()
        if isinstance(event, _ENDS):
            self.ended = True
            self._engine._forget(self.id)
        return event

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        while not self.ended:
            yield await self.next_event()

    def cancel(self) -> None:
        """Ask the engine to stop this request (between two prefill batches or two tokens,
        or before it starts). Its stream still ends with a Done (stop_reason "cancelled") or
        an Error; a caller that leaves early need not read it: the events are dropped."""
        if not self.ended:
            self._engine._cancel(self.id)

    def abandon(self) -> None:
        """Cancel and stop routing this request's events (the caller has gone away); a
        pending or later `next_event` returns Error(kind=ErrorKind.ABANDONED)."""
        if self.ended:
            return
        self.cancel()
        self._engine._forget(self.id)
        self._queue.put_nowait(Error(self.id, ErrorKind.ABANDONED, "Abandoned by its caller."))


class AsyncEngine:
    def __init__(self) -> None:
        self._process = EngineProcess()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._replies: dict[int, AsyncReply] = {}
        self._reader: threading.Thread | None = None
        self.info: ModelInfo | None = None
        self.crashed: str | None = None  # why the engine died, in plain words

    @classmethod
    async def start(cls, settings: EngineSettings) -> AsyncEngine:
        """A running engine with `settings`' model loaded; raises AsyncEngineError."""
        engine = cls()
        try:
            engine.open()
            await engine.load(settings)
        except BaseException:
            await engine.close()
            raise
        return engine

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def in_flight(self) -> int:
        """Requests sent whose stream has not ended."""
        return len(self._replies)

    def open(self) -> None:
        """Start the engine process (no model yet) and bind this front to the running loop."""
        if not self._process.running:
            self._start_process()

    async def load(self, settings: EngineSettings) -> ModelInfo:
        self.open()
        reply = self._send(LoadRequest(self._process.next_id(), settings))
        last = await _last(reply)
        assert isinstance(last, Loaded)
        self.info = last.info
        return last.info

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        sampling: Sampling,
        stop: Sequence[str] = (),
        priority: Priority = Priority.API,
    ) -> AsyncReply:
        """A reply with the model's chat template (the engine applies it)."""
        request = GenerateRequest(
            self._process.next_id(),
            tuple(messages),
            max_tokens=max_tokens,
            sampling=sampling,
            stop=tuple(stop),
            priority=priority,
        )
        return self._send(request)

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int,
        sampling: Sampling,
        stop: Sequence[str] = (),
        priority: Priority = Priority.API,
    ) -> AsyncReply:
        """A raw continuation of `prompt` (no chat template)."""
        request = CompletionRequest(
            self._process.next_id(),
            prompt,
            max_tokens=max_tokens,
            sampling=sampling,
            stop=tuple(stop),
            priority=priority,
        )
        return self._send(request)

    async def request_log(self) -> tuple[RequestRecord, ...]:
        """The engine's own record of its last requests (inference/process/request_log.py)."""
        last = await _last(self._send(RequestLogRequest(self._process.next_id())))
        assert isinstance(last, RequestLogReport)
        return last.records

    async def close(self) -> None:
        """Stop the engine process and the reader thread (waits for both, off the loop)."""
        await asyncio.to_thread(self._stop)

    def _stop(self) -> None:
        self._process.stop()
        if self._reader is not None:
            self._reader.join(5)
            self._reader = None
        self._process.close()

    # ---- internals (event loop) -----------------------------------------------------------

    def _start_process(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.crashed = None
        self._process.start()
        self._reader = threading.Thread(
            target=self._read_events, name="engine-events-async", daemon=True
        )
        self._reader.start()

    def _send(self, request: Request) -> AsyncReply:
        reply = AsyncReply(self, request.id)
        if self.crashed is not None or not self._process.running:
            reply._put(Error(request.id, ENGINE_CRASHED, self.crashed or "The engine is stopped."))
            return reply
        self._replies[request.id] = reply
        try:
            self._process.send(request)
        except EngineCrashedError as exc:
            self._replies.pop(request.id, None)
            reply._put(Error(request.id, ENGINE_CRASHED, str(exc)))
        return reply

    def _cancel(self, request_id: int) -> None:
        try:
            self._process.send(CancelRequest(self._process.next_id(), request_id))
        except EngineCrashedError:
            pass  # the reader thread ends the open streams

    def _forget(self, request_id: int) -> None:
        self._replies.pop(request_id, None)

    def _route(self, event: Event) -> None:
        reply = self._replies.get(getattr(event, "id", -1))
        if reply is not None:
            reply._put(event)

    def _engine_died(self, why: str) -> None:
        self.crashed = why
        self.info = None
        replies, self._replies = self._replies, {}
        for request_id, reply in replies.items():
            reply._put(Error(request_id, ENGINE_CRASHED, why))

    # ---- reader thread --------------------------------------------------------------------

    def _read_events(self) -> None:
        process, loop = self._process, self._loop
        assert loop is not None
        while True:
            try:
                event = process.recv()
            except EngineCrashedError as exc:
                why = "The engine was stopped." if process.stopping else str(exc)
                _call(loop, self._engine_died, why)
                return
            if event is not None:
                _call(loop, self._route, event)


def _call(loop: asyncio.AbstractEventLoop, fn: object, *args: object) -> None:
    try:
        loop.call_soon_threadsafe(fn, *args)  # type: ignore[arg-type]
    except RuntimeError:
        pass  # the loop is closed: nobody is left to tell


async def _last(reply: AsyncReply) -> Event:
    """The reply's last event; raises AsyncEngineError for an Error."""
    async for event in reply:
        if isinstance(event, Error):
            raise AsyncEngineError(event.kind, event.message.split("\n", 1)[0])
        if isinstance(event, _ENDS):
            return event
    raise AsyncEngineError(ENGINE_CRASHED, "The reply ended without an answer.")
