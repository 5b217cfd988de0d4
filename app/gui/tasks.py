"""The one way Hearth runs work off the GUI thread: a typed task with progress, a result or an
error, cooperative cancel, serial lanes, and one shutdown.

Threads: a `TaskRunner` lives in the GUI thread; `start`, `Task.cancel`, `busy` and `shutdown`
are called there. The work runs on a plain `threading.Thread` (its own, or its lane's) and gets
a `TaskContext`; everything it reports reaches the callbacks queued to the GUI thread, in
order: progress, then one of result / error / cancelled, then finished. After `shutdown` late
deliveries are dropped. An exception the work did not expect is logged and handed to
`on_error` as an `UnexpectedError` worded for the user, so it never vanishes with the thread.

Hand-written rather than superqt's thread workers because superqt runs every worker in the
global QThreadPool (no serial lanes, which the documents reader needs: pdfium wants one
thread), its `await_workers` blocks without turning the event loop (our jobs' engine requests
travel through the GUI thread, app/gui/engine_bridge.py, so that would deadlock until its
timeout), and it would add qtpy and superqt for about 200 lines.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal

log = logging.getLogger(__name__)

R = TypeVar("R")
STUCK_GRACE_S = 1.0  # after `on_stuck` woke the work up, how long shutdown still waits


class TaskCancelled(Exception):
    """The task was cancelled; raised inside the work by `TaskContext.report` / `check`."""


class UnexpectedError(Exception):
    """An error the work did not expect, in plain words; the original is its __cause__."""


class TaskContext:
    """What the work gets (worker thread): its cancel flag and a way to report progress."""

    def __init__(self, cancelled: threading.Event, report: Callable[[Any], None]) -> None:
        self.cancelled = cancelled
        self._report = report

    def check(self) -> None:
        """Raise TaskCancelled once the task was cancelled (call it between steps)."""
        if self.cancelled.is_set():
            raise TaskCancelled

    def report(self, value: Any) -> None:
        """Deliver `value` to `on_progress` in the GUI thread; raises after a cancel, so the
        work stops at its next step and never half-way through one."""
        self.check()
        self._report(value)


class Task(Generic[R]):
    """A started task, seen from the GUI thread."""

    def __init__(self, name: str, on_cancel: Callable[[], None] | None) -> None:
        self.name = name
        self.cancelled = threading.Event()
        self.done = False  # set in the GUI thread when its last delivery ran
        self.thread: threading.Thread | None = None  # its own thread; None in a lane
        self._on_cancel = on_cancel

    def cancel(self) -> None:
        """Ask the work to stop at its next step (and wake it through `on_cancel`)."""
        self.cancelled.set()
        if self._on_cancel is not None:
            self._on_cancel()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the task's own thread (a moment once it delivered its end)."""
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)


Job = Callable[[], None]


def _ignore(*_args: object) -> None:
    """The default callback: nothing to do with this outcome."""


class _Lane:
    """Tasks run one after another in submit order on one thread, started when work arrives
    and ended when the lane runs empty."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = threading.Lock()
        self.pending: deque[Job] = deque()
        self.running = False  # guarded by lock
        self.threads: list[threading.Thread] = []  # the current one, and any still ending

    def submit(self, job: Job) -> None:
        with self.lock:
            self.pending.append(job)
            if not self.running:
                self.running = True
                self.threads = [t for t in self.threads if t.is_alive()]
                thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self.threads.append(thread)
                thread.start()

    def drop_pending(self) -> list[threading.Thread]:
        """Forget the tasks not started yet; the threads that may still run."""
        with self.lock:
            self.pending.clear()
            return list(self.threads)

    def _loop(self) -> None:
        while True:
            with self.lock:
                if not self.pending:
                    self.running = False
                    return
                job = self.pending.popleft()
            job()


class TaskRunner(QObject):
    """Starts tasks for one presenter and shuts them all down together."""

    _deliver = Signal(object)  # a callable to run in the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: list[Task[Any]] = []  # GUI thread only
        self._lanes: dict[str, _Lane] = {}
        self._closed = False
        self._deliver.connect(self._run_delivery, Qt.ConnectionType.QueuedConnection)

    def start(
        self,
        work: Callable[[TaskContext], R],
        *,
        name: str,
        lane: str | None = None,
        expected: tuple[type[Exception], ...] = (),
        on_result: Callable[[R], None] = _ignore,
        on_error: Callable[[Exception], None] = _ignore,
        on_progress: Callable[[Any], None] | None = None,
        on_cancelled: Job = _ignore,
        on_finished: Job = _ignore,
        on_cancel: Job | None = None,
    ) -> Task[R]:
        """Run `work` on its own thread, or after the earlier tasks of `lane`. `expected`:
        errors whose message is already written for the user; `on_cancel` wakes the work
        when the task is cancelled (e.g. cancels an engine request)."""
        task: Task[R] = Task(name, on_cancel)
        if self._closed:
            task.cancelled.set()
            return task

        def report(value: Any) -> None:
            if on_progress is not None:
                self._deliver.emit(partial(on_progress, value))

        def job() -> None:  # worker thread
            ending: Job
            try:
                context = TaskContext(task.cancelled, report)
                context.check()  # cancelled while waiting in its lane
                result = work(context)
            except TaskCancelled:
                ending = on_cancelled
            except expected as exc:
                ending = partial(on_error, exc)
            except Exception as exc:  # a bug must reach the user, not vanish with the thread
                log.exception("%s failed", name)
                error = UnexpectedError(f"Something went wrong: {exc}")
                error.__cause__ = exc
                ending = partial(on_error, error)
            else:
                ending = partial(on_result, result)
            self._deliver.emit(partial(self._finish, task, ending, on_finished))

        self._tasks.append(task)
        if lane is None:
            task.thread = threading.Thread(target=job, name=name, daemon=True)
            task.thread.start()
        else:
            self._lanes.setdefault(lane, _Lane(lane)).submit(job)
        return task

    def _run_delivery(self, deliver: Callable[[], None]) -> None:
        if not self._closed:
            deliver()

    def _finish(self, task: Task[Any], ending: Job | None, on_finished: Job | None) -> None:
        task.join()  # its own thread has only to return now
        task.done = True
        if task in self._tasks:
            self._tasks.remove(task)
        ending()
        on_finished()

    def busy(self) -> bool:
        """Whether a started task has not delivered its end yet."""
        return bool(self._tasks)

    def shutdown(self, deadline: float, on_stuck: Job | None = None) -> bool:
        """See `shutdown_all`."""
        return shutdown_all([self], deadline, on_stuck)

    def _close(self) -> list[threading.Thread]:
        """Cancel every task, drop queued ones and late deliveries; the threads to wait for."""
        self._closed = True
        threads = [t for lane in self._lanes.values() for t in lane.drop_pending()]
        for task in list(self._tasks):
            task.cancel()
        return threads + [task.thread for task in self._tasks if task.thread is not None]


def shutdown_all(
    runners: Iterable[TaskRunner], deadline: float, on_stuck: Job | None = None
) -> bool:
    """Cancel every task of `runners` and wait for their threads until `deadline`
    (time.monotonic()), turning the GUI event loop meanwhile: the tasks' engine requests and
    answers travel through it. If some still run then, `on_stuck` wakes them (e.g. fails the
    engine requests they wait on) and they get STUCK_GRACE_S more. True when all ended."""
    threads = [thread for runner in runners for thread in runner._close()]
    if _pump_until_ended(threads, deadline) or on_stuck is None:
        return not any(t.is_alive() for t in threads)
    on_stuck()
    return _pump_until_ended(threads, time.monotonic() + STUCK_GRACE_S)


def _pump_until_ended(threads: list[threading.Thread], deadline: float) -> bool:
    app = QCoreApplication.instance()
    while True:
        alive = [thread for thread in threads if thread.is_alive()]
        if not alive or time.monotonic() >= deadline:
            return not alive
        if app is not None:
            app.processEvents()
        alive[0].join(0.02)
