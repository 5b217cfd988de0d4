"""OpenAI-compatible servers on 127.0.0.1 for the remote backend's tests (issue 14).

- `llama_cpp_server(model)`: llama-cpp-python's own server (`python -m llama_cpp.server`) in a
  child process, the real remote: started, waited for (/v1/models answers), killed after.
- `ScriptedServer`: a small misbehaving server in a thread (http.server). Each route is a
  function that writes the answer with the helpers below (`json_answer`, `sse_head`,
  `sse_event`, ...), so a test can send malformed events, stall, die mid-stream, or answer
  429 with Retry-After. `requests` records (method, path, headers, JSON body) of each call.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx2

Route = Callable[["Handler"], None]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def llama_cpp_server(model: Path, *, n_ctx: int = 512) -> Iterator[str]:
    """llama-cpp-python's server on `model`; yields its base URL (http://127.0.0.1:PORT)."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx)]
    command += ["--n_threads", "1", "--n_threads_batch", "1", "--verbose", "False"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited: {process.stderr.read()[-2000:]!r}")  # type: ignore[union-attr]
            try:
                if httpx2.get(f"{url}/v1/models", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("llama_cpp.server did not answer within 60 s")
            time.sleep(0.1)
        yield url
    finally:
        process.kill()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


class _Server(ThreadingHTTPServer):
    # Not daemons: server_close() then waits for every handler thread (the suite fails a test
    # that leaves a thread running).
    daemon_threads = False

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up mid-answer (cancel tests) are expected


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    scripted: ScriptedServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.scripted.lock:
            self.scripted.connections.add(self.connection)

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def _route(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        self.scripted.requests.append((self.command, self.path, dict(self.headers), body))
        route = self.scripted.routes.get((self.command, self.path))
        if route is None:
            json_answer(self, 404, {"error": {"message": f"no route {self.path}"}})
            return
        route(self)


class ScriptedServer:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.release = threading.Event()  # set at stop: stalled routes end
        self.lock = threading.Lock()
        self.connections: set[socket.socket] = set()
        handler = type("ScriptedHandler", (Handler,), {"scripted": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="scripted-server"
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, method: str, path: str, answer: Route) -> None:
        self.routes[(method, path)] = answer

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release.set()
        self._server.shutdown()
        # Keep-alive connections hold their handler threads waiting for another request.
        with self.lock:
            for conn in self.connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._server.server_close()
        self._thread.join(timeout=5)


# ---- answers -------------------------------------------------------------------------------


def json_answer(
    handler: BaseHTTPRequestHandler,
    status: int,
    payload: Any,
    headers: dict[str, str] | None = None,
) -> None:
    body = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def models_answer(*ids: str) -> Route:
    def answer(handler: Handler) -> None:
        json_answer(handler, 200, {"object": "list", "data": [{"id": i} for i in ids]})

    return answer


def sse_head(handler: BaseHTTPRequestHandler) -> None:
    """Headers of a chunked event stream (the way servers stream)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()


def sse_raw(handler: BaseHTTPRequestHandler, text: str) -> None:
    data = text.encode()
    handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    handler.wfile.flush()


def sse_event(handler: BaseHTTPRequestHandler, payload: Any) -> None:
    sse_raw(handler, f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n")


def sse_end(handler: BaseHTTPRequestHandler) -> None:
    handler.wfile.write(b"0\r\n\r\n")
    handler.wfile.flush()


def chat_chunk(content: str | None = None, finish: str | None = None) -> dict[str, Any]:
    delta = {} if content is None else {"content": content}
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def die(handler: BaseHTTPRequestHandler) -> None:
    """The server process dying: the connection drops mid-body."""
    handler.wfile.flush()
    handler.connection.shutdown(socket.SHUT_RDWR)
    handler.close_connection = True
