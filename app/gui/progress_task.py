"""One blocking file job (an export, an import, history recovery) as a task with progress and
Cancel, for presenters that follow it through signals (app/gui/tasks.py runs it).

The work is a plain function that gets a ``report(done, total)`` callback. Once the user has
cancelled, the next report raises TaskCancelled, so the work stops between steps and never
half-way through writing. Slots in the GUI thread get, in order: ``progressed`` (emitted on
the worker thread, as the step happens), then one of ``succeeded``, ``failed`` (a plain
message) or ``cancelled``, then ``finished``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from app.gui.tasks import Task, TaskContext, TaskRunner

Report = Callable[[int, int], None]


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
        self._name = name
        self._runner = TaskRunner(self)
        self._task: Task[object] | None = None

    def start(self) -> None:
        def work(context: TaskContext) -> object:
            def report(done: int, total: int) -> None:
                context.check()
                self.progressed.emit(done, total)  # queued to the GUI thread's slots

            return self._work(report)

        self._task = self._runner.start(
            work,
            name=self._name,
            expected=self._expected,
            on_result=self.succeeded.emit,
            on_error=lambda exc: self.failed.emit(str(exc)),
            on_cancelled=self.cancelled.emit,
            on_finished=self.finished.emit,
        )

    def cancel(self) -> None:
        """Ask the work to stop at its next step."""
        if self._task is not None:
            self._task.cancel()

    def join(self) -> None:
        if self._task is not None:
            self._task.join()
