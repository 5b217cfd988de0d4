"""Stopping a streamed reply from another thread (issue 14). The reading thread blocks in a
socket read; closing the response object from another thread is not safe, but shutting the
socket down is: the blocked read returns at once and the reading thread then closes the
response itself. The socket is learnt from httpcore2's trace hook when the request opens a
new connection (before the response headers arrive) and from the response once they have."""

from __future__ import annotations

import socket
import threading
from typing import Any

# httpcore2's trace events whose return value is the request's network stream (TLS last).
_STREAM_EVENTS = ("connection.connect_tcp.complete", "connection.start_tls.complete")


class StreamHandle:
    """One request's connection, to be cut by `abort()` from any thread. An abort before the
    socket is known takes effect the moment it is."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._aborted = False

    def trace(self, name: str, info: dict[str, Any]) -> None:
        """httpcore2's `trace` request extension (called on the requesting thread)."""
        if name in _STREAM_EVENTS:
            self._learn(info.get("return_value"))

    def take_response(self, response: Any) -> None:
        """The response's own network stream, for a request on a reused connection."""
        self._learn(response.extensions.get("network_stream"))

    def abort(self) -> None:
        with self._lock:
            self._aborted = True
            sock = self._socket
        if sock is not None:
            _shutdown(sock)

    @property
    def aborted(self) -> bool:
        return self._aborted

    def _learn(self, stream: Any) -> None:
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._socket = sock
            aborted = self._aborted
        if aborted:
            _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: nothing left to stop
