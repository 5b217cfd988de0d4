"""Short blocking calls of the Models page (listing, scans, header reads, Hub calls) on their
own threads.

Threads: `PageTasks.run` is called in the GUI thread; `work` runs on a new thread and its result
(or exception) is handed to its callback back in the GUI thread (queued signal). After
`close` (GUI thread), late results are dropped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal


class PageTasks(QObject):
    _done = Signal(object, object)  # callback, value

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def run(
        self,
        name: str,
        work: Callable[[], Any],
        on_result: Callable[[Any], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        def body() -> None:
            try:
                result = work()
            except Exception as exc:  # every failure reaches the page in plain words
                self._done.emit(on_error, exc)
            else:
                self._done.emit(on_result, result)
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=body, name=f"models-{name}", daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def _deliver(self, callback: Callable[[Any], None], value: Any) -> None:
        if not self._closed:
            callback(value)

    def close(self, deadline: float) -> None:
        self._closed = True
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
