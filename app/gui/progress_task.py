"""One blocking file job (an export, an import) on a worker thread, with progress and Cancel.

The work is a plain function that gets a ``report(done, total)`` callback. Once the user has
cancelled, the next report raises TaskCancelled, so the work stops between steps and never
half-way through writing. Signals are emitted on the worker thread and reach slots on the
GUI thread queued, in order: one of ``succeeded``, ``failed`` or ``cancelled``, then
``finished``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

Report = Callable[[int, int], None]


class TaskCancelled(Exception):
    """The user cancelled; raised from the report callback inside the work."""


class ProgressTask(QObject):
    progressed = Signal(int, int)  # done, total
    succeeded = Signal(object)  # what the work returned
    failed = Signal(str)  # a plain message for the user
    cancelled = Signal()
    finished = Signal()

    def __init__(
        self,
        work: Callable[[Report], object],
        expected: tuple[type[Exception], ...],
        *,
        name: str,
        parent: QObject | None = None,
    ) -> None:
        """`expected`: errors whose message is already written for the user."""
        super().__init__(parent)
        self._work = work
        self._expected = expected
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        """Ask the work to stop at its next step (any thread)."""
        self._cancel.set()

    def join(self) -> None:
        if self._thread.is_alive():
            self._thread.join()

    def _report(self, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise TaskCancelled
        self.progressed.emit(done, total)

    def _run(self) -> None:
        try:
            result = self._work(self._report)
        except TaskCancelled:
            self.cancelled.emit()
        except self._expected as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug must reach the user, not vanish with the thread
            log.exception("%s failed", self._thread.name)
            self.failed.emit(f"Something went wrong: {exc}")
        else:
            self.succeeded.emit(result)
        finally:
            self.finished.emit()
