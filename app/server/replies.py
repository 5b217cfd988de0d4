"""Running one completion request against the engine front: whole or streamed (SSE).

From admission to the end a task watches the connection: when the client goes away (while
the request waits in line, while it prefills or mid-stream) the reply is abandoned, which
sends the engine a CancelRequest, and the request's place in the line is given back. Every
request ends in exactly one `RequestRun.end`, which frees the place and logs one line.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from app.server.admission import Admission
from app.server.errors import SERVER, UNAVAILABLE, ApiError
from app.server.front import ReplyStream
from app.server.params import ReplyParams
from app.server.payloads import ReplyShape, finish_reason, sse
from app.server.request_log import OnRequest, ServedRequest
from app.server.timings import ReplyClock, timings
from inference.protocol import Delta, Done, Error, ErrorKind, Started

CLIENT_GONE = 499  # logged only: nobody is left to receive a status


class ClientGoneError(Exception):
    """The client closed the connection before its answer was ready."""


def engine_error(event: Error) -> ApiError:
    """An engine Error as the HTTP answer a client can act on."""
    message = event.message.split("\n", 1)[0]
    if event.kind == ErrorKind.PROMPT_TOO_LONG:
        return ApiError(400, message, param="messages", code="context_length_exceeded")
    if event.kind == ErrorKind.BAD_REQUEST:
        return ApiError(400, message, code="invalid_value")
    if event.kind == ErrorKind.INTERNAL:
        return ApiError(500, f"The engine failed: {message}", type=SERVER, code="engine_error")
    # Not loaded, crashed, model changed, cancelled by the window: try again later.
    return ApiError(503, message, type=UNAVAILABLE, code=event.kind)


@dataclass
class RequestRun:
    """One admitted request, from its checked body to its one `end`."""

    request: Request
    params: ReplyParams
    reply: ReplyStream
    shape: ReplyShape
    admission: Admission
    on_request: OnRequest
    clock: ReplyClock = field(default_factory=ReplyClock)
    _watcher: asyncio.Task[None] | None = None
    _ended: bool = False

    def watch(self) -> None:
        self._watcher = asyncio.create_task(self._watch_disconnect())

    async def _watch_disconnect(self) -> None:
        # The body has been read: the next message is the disconnect (also sent by the
        # server once the answer is complete, when abandoning is a no-op).
        while True:
            message = await self.request.receive()
            if message["type"] == "http.disconnect":
                self.reply.abandon()
                return

    def end(self, status: int, done: Done | None = None, error: str | None = None) -> None:
        if self._ended:
            return
        self._ended = True
        if self._watcher is not None:
            self._watcher.cancel()
        if status == CLIENT_GONE:
            self.reply.abandon()
        self.clock.finish()
        self.admission.leave(self.clock.total_ms() / 1000.0)
        stats = done.stats if done is not None else None
        self.on_request(
            ServedRequest(
                method=self.request.method,
                path=self.request.url.path,
                status=status,
                stream=self.params.stream,
                prompt_tokens=stats.prompt_tokens if stats else None,
                completion_tokens=stats.completion_tokens if stats else None,
                ttft_ms=self.clock.ttft_ms(),
                decode_tps=stats.decode_tps if stats else None,
                total_ms=self.clock.total_ms(),
                finish=finish_reason(stats.stop_reason) if stats else None,
                error=error,
            )
        )

    async def next_event(self) -> Delta | Done | Started | object:
        event = await self.reply.next_event()
        if isinstance(event, Delta) and event.text:
            self.clock.token()
        elif isinstance(event, Error):
            if event.kind == ErrorKind.ABANDONED:
                raise ClientGoneError()
            raise engine_error(event)
        return event


async def answer(
    request: Request,
    params: ReplyParams,
    shape: ReplyShape,
    admission: Admission,
    on_request: OnRequest,
    open_reply: Callable[[], ReplyStream],
) -> Response:
    """Admit the request (429 when the line is full), send it to the engine and answer it."""
    admission.enter()
    clock = ReplyClock()  # before the request goes to the engine: timings.py's start
    run = RequestRun(request, params, open_reply(), shape, admission, on_request, clock)
    run.watch()
    try:
        if not params.stream:
            return await _whole(run)
        # Wait for the engine to take the request (Started) before the 200: a prompt that
        # does not fit still gets its 400.
        while not isinstance(await run.next_event(), Started):
            pass
    except ClientGoneError:
        run.end(CLIENT_GONE, error="the client closed the connection")
        return Response(status_code=204)
    except ApiError as exc:
        run.end(exc.status, error=exc.message)
        exc.logged = True
        raise
    except BaseException:
        run.end(500, error="server error")
        raise
    return StreamingResponse(
        _stream(run),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _whole(run: RequestRun) -> Response:
    while True:
        event = await run.next_event()
        if isinstance(event, Done):
            break
    run.clock.finish()
    body = run.shape.whole(event.text, event.stats, timings(event, run.clock))
    run.end(200, event)
    return JSONResponse(body)


async def _stream(run: RequestRun) -> AsyncIterator[bytes]:
    shape = run.shape
    try:
        if shape.chat:
            yield sse(shape.chunk("", role=True))
        while True:
            event = await run.next_event()
            if isinstance(event, Delta):
                if event.text:
                    yield sse(shape.chunk(event.text))
                # Neither a queued event nor uvicorn's write waits: without this a backlog of
                # tokens would hold the event loop, and a closed connection go unnoticed.
                await asyncio.sleep(0)
            elif isinstance(event, Done):
                run.clock.finish()
                yield sse(shape.last_chunk(event.stats, timings(event, run.clock)))
                if run.params.include_usage:
                    yield sse(shape.usage_chunk(event.stats))
                yield sse("[DONE]")
                run.end(200, event)
                return
    except ClientGoneError:
        run.end(CLIENT_GONE, error="the client closed the connection")
    except ApiError as exc:
        # The 200 is sent: the error goes in the stream, as OpenAI's servers do.
        run.end(exc.status, error=exc.message)
        with contextlib.suppress(Exception):
            yield sse(exc.body())
    finally:
        # Cancelled by the server (the client went away mid-stream) or ended above.
        run.end(CLIENT_GONE, error="the client closed the connection")
