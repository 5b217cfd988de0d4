"""The engine's inbox: a reader thread takes requests off the pipe, so a cancel arrives while
a reply is being generated, and queues the rest by priority; cancels are kept as a set the
main thread asks between two steps. When the caller goes away (EOF on the pipe) everything
counts as cancelled and the main thread is woken to stop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection
from typing import Generic, TypeVar

from inference.process.request_queue import RequestQueue
from inference.protocol import CancelRequest, Priority, ShutdownRequest

T = TypeVar("T")
_EVERYTHING = -1  # in the cancel set: the caller went away


class Cancels:
    """Request ids asked to stop. Thread-safe: the reader adds, the main thread asks."""

    def __init__(self) -> None:
        self._ids: set[int] = set()
        self._lock = threading.Lock()

    def add(self, request_id: int) -> None:
        with self._lock:
            self._ids.add(request_id)

    def take(self, request_id: int) -> bool:
        """Whether `request_id` is cancelled; forgets it when it is."""
        with self._lock:
            if request_id in self._ids or _EVERYTHING in self._ids:
                self._ids.discard(request_id)
                return True
            return False

    def asked(self, request_id: int) -> bool:
        with self._lock:
            return request_id in self._ids or _EVERYTHING in self._ids

    def among(self, request_ids: Iterable[int]) -> list[int]:
        """Which of `request_ids` are cancelled (kept until `forget`)."""
        with self._lock:
            return [i for i in request_ids if i in self._ids or _EVERYTHING in self._ids]

    def forget(self, request_id: int) -> None:
        """A request ended: a late cancel for it must not linger."""
        with self._lock:
            self._ids.discard(request_id)


class RequestInbox(Generic[T]):
    """Owns the reader thread; `queue` holds what the main thread serves (None: stop)."""

    def __init__(self, conn: Connection, on_received: Callable[[int], None]) -> None:
        self.queue: RequestQueue[T | None] = RequestQueue()
        self.cancels = Cancels()
        self._conn = conn
        self._on_received = on_received  # a request's id, as it comes off the pipe

    def start(self) -> None:
        threading.Thread(target=self._read, name="engine-reader", daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                request = self._conn.recv()
            except (EOFError, OSError):
                # The GUI went away: stop, whatever we were doing.
                self.cancels.add(_EVERYTHING)
                self.queue.put(_EVERYTHING, None)
                return
            if isinstance(request, CancelRequest):
                self.cancels.add(request.target)
                continue
            self._on_received(request.id)
            if isinstance(request, ShutdownRequest):
                self.queue.put(_EVERYTHING, request)  # ahead of everything waiting
                return
            self.queue.put(int(getattr(request, "priority", Priority.INTERACTIVE)), request)
