"""A background thread that runs submitted tasks one after another.

Plain threading, no Qt: a task reports back through whatever it was given (Qt signals in the
app). Stopping never kills a thread; a task checks `stopping` and returns.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from collections.abc import Callable, Sequence


class WorkQueue:
    """One thread running submitted tasks in order; started on first use."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stopping = threading.Event()
        self._tasks: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self.thread: threading.Thread | None = None

    def submit(self, task: Callable[[], None]) -> None:
        if self.stopping.is_set():
            return
        if self.thread is None:
            self.thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self.thread.start()
        self._tasks.put(task)

    def _loop(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            try:
                task()
            except Exception:  # a task reports its own errors; this is a bug, keep serving
                traceback.print_exc()

    def stop(self) -> None:
        """Let the running task see `stopping`, drop the rest; the thread ends after it."""
        self.stopping.set()
        self._tasks.put(None)

    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


def wait_until_done(
    queues: Sequence[WorkQueue], seconds: float, keep_going: Callable[[], None]
) -> bool:
    """Wait up to `seconds` for every queue's thread to end, calling `keep_going` in between
    (the GUI's event loop: the tasks' engine requests travel through it). True if all ended."""
    deadline = time.monotonic() + seconds
    while any(work.alive() for work in queues) and time.monotonic() < deadline:
        keep_going()
        for work in queues:
            if work.thread is not None:
                work.thread.join(0.01)
    return not any(work.alive() for work in queues)
