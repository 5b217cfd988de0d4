""" "Why is this slow?" on the Performance page (issue 12): the sentences of the reply
selected in the table, found in a task (they read the stored trace, this machine and the
model's earlier replies: app/gui/slowness_facts.py, shared with the timing view), and the
double-click that opens the reply's timing view through a callable the composition root
passes (presenters do not import each other).

Threads: GUI thread only; the work runs in a TaskRunner lane. A newer selection cancels the
older task (still waiting in the lane, it never runs), and an answer for a reply no longer
selected is dropped by the page.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject

from app.gui.slowness_facts import StoredReplySentences, sentences_for_stored_reply
from app.gui.tasks import Task, TaskContext, TaskRunner
from app.models.machine import MachineMemory
from inference.protocol import ModelInfo
from storage.performance import PerformanceRepository
from storage.traces import TraceRepository
from ui.performance.page import PerformancePage

SHUTDOWN_WAIT_S = 2.0
LANE = "performance-why-slow"


class WhySlow(QObject):
    """`model_info`: the model loaded now (EngineSession.info: whether its llama.cpp can use
    a GPU). `open_timing(message_id)`: opens a reply's timing view (None: double-click does
    nothing). `machine`: this computer (None: detected by the first task that needs it)."""

    def __init__(
        self,
        page: PerformancePage,
        traces: TraceRepository,
        performance: PerformanceRepository,
        model_info: Callable[[], ModelInfo | None],
        *,
        open_timing: Callable[[int], None] | None = None,
        machine: MachineMemory | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._page = page
        self._traces = traces
        self._performance = performance
        self._model_info = model_info
        self._machine = machine
        self._runner = TaskRunner(self)
        self._task: Task[StoredReplySentences] | None = None
        page.replySelected.connect(self.explain)
        if open_timing is not None:
            page.replyActivated.connect(open_timing)

    def explain(self, message_id: int) -> None:
        """Find the sentences of `message_id` and show them when it is still selected."""
        if self._task is not None:
            self._task.cancel()
        traces, performance = self._traces, self._performance
        info, machine = self._model_info(), self._machine

        def work(_context: TaskContext) -> StoredReplySentences:
            return sentences_for_stored_reply(message_id, traces, performance, info, machine)

        self._task = self._runner.start(
            work,
            name="performance-why-slow",
            lane=LANE,
            on_result=lambda answer: self._show(message_id, answer),
            on_error=lambda error: self._page.explain_failed(message_id, str(error)),
        )

    def _show(self, message_id: int, answer: StoredReplySentences) -> None:
        if self._machine is None and answer.machine is not None:
            self._machine = answer.machine  # detected once: nvidia-smi takes a while
        self._page.explain(message_id, answer.sentences if answer.recorded else None)

    def busy(self) -> bool:
        return self._runner.busy()

    def shutdown(self) -> None:
        self._runner.shutdown(time.monotonic() + SHUTDOWN_WAIT_S)
