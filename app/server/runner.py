"""Running the API server with uvicorn: in the caller's event loop (`serve`, what `hearth serve`
does) or on a thread of its own (`BackgroundServer`: tests now, the window later, which owns
its engine and hands the server a front over it).

The listening socket is bound before uvicorn starts, so port 0 (any free port) works and the
address is known at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

import uvicorn
from starlette.applications import Starlette

from app.server.app import ServerConfig, build_app
from app.server.front import EngineFront

F = TypeVar("F", bound=EngineFront)
T = TypeVar("T")

# Open streams get this long to finish when the server stops; then they are cut (and their
# generations cancelled).
GRACEFUL_S = 2.0


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free one). Raises OSError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def uvicorn_server(app: Starlette) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        log_config=None,  # Hearth logs one line per request itself (request_log.py)
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=int(GRACEFUL_S),
    )
    server = uvicorn.Server(config)
    # uvicorn's own handlers re-raise the signal after shutting down, which would end the
    # event loop before the engine is stopped: `serve` handles the signals itself.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    return server


async def serve(app: Starlette, sock: socket.socket) -> None:
    """Serve until Ctrl+C or SIGTERM (main thread): open streams get GRACEFUL_S to end, a
    second Ctrl+C cuts them at once. Returns normally, so the caller stops its engine."""
    server = uvicorn_server(app)
    loop = asyncio.get_running_loop()

    def stop() -> None:
        if server.should_exit:
            server.force_exit = True
        server.should_exit = True

    # signal.signal rather than loop.add_signal_handler: the latter is missing on Windows.
    previous = {
        number: signal.signal(number, lambda *_: loop.call_soon_threadsafe(stop))
        for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        await server.serve(sockets=[sock])
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class BackgroundServer(Generic[F]):
    """The API server on its own thread and event loop. `open_front` runs on that loop
    (an AsyncEngine binds itself to the loop that starts it); `close_front` too, at stop."""

    def __init__(
        self,
        open_front: Callable[[], Awaitable[F]],
        close_front: Callable[[F], Awaitable[None]],
        config: ServerConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._open, self._close = open_front, close_front
        self._config = config or ServerConfig()
        self._sock = bind(host, port)
        self.url = address(self._sock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._ready: Future[F] = Future()
        self._thread = threading.Thread(target=self._run, name="hearth-api-server", daemon=True)
        self.front: F | None = None

    def start(self, timeout: float = 60.0) -> None:
        """Start the thread; returns once the front is open and the server listens."""
        self._thread.start()
        self.front = self._ready.result(timeout)

    def call(self, make: Callable[[], Coroutine[Any, Any, T]], timeout: float = 30.0) -> T:
        """Run a coroutine on the server's loop (e.g. a question to the front) and wait."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(make(), self._loop).result(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        if self._server is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(setattr, self._server, "should_exit", True)
        self._thread.join(timeout)
        self._sock.close()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            front = await self._open()
        except BaseException as exc:
            self._ready.set_exception(exc)
            return
        try:
            self._server = uvicorn_server(build_app(front, self._config))
            serving = asyncio.create_task(self._server.serve(sockets=[self._sock]))
            while not self._server.started and not serving.done():
                await asyncio.sleep(0.01)
            if not self._ready.done():
                self._ready.set_result(front)
            await serving
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            raise
        finally:
            await self._close(front)
