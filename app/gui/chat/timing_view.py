"""Opens the timing view of a reply (issue 12) when its "Timing" link is clicked, for replies
of any day: it reads the stored trace (TraceRepository.get, which never raises) and shows it
at once; the "Why is this slow?" sentences follow from a task, because their facts cost I/O
(nvidia-smi for this machine's GPU, the model file's layout for the VRAM estimate, the
model's earlier replies for the depth slope: app/gui/slowness_facts.py). GUI thread only.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, SignalInstance
from PySide6.QtWidgets import QWidget

from app.gui.chat.timing_content import timing_content
from app.gui.slowness_facts import FactsRequest, find_sentences, read_trace
from app.gui.tasks import TaskRunner
from app.models.machine import MachineMemory
from inference.protocol import ModelInfo
from storage.chats import MessageRepository
from storage.errors import DatabaseError
from storage.performance import PerformanceRepository
from storage.traces import TraceRepository
from ui.chat.timing_view import TimingDialog

SHUTDOWN_WAIT_S = 2.0


class TimingView(QObject):
    """`requested`: the chat view's timingRequested(message_id). `messages`: for the reply's
    completion tokens (its end-to-end speed). `model_info`: the model
    loaded now (EngineSession.info). `machine`: this computer as app.models.machine sees it
    (None: detected by the first task that needs it)."""

    def __init__(
        self,
        requested: SignalInstance,
        traces: TraceRepository,
        performance: PerformanceRepository,
        messages: MessageRepository,
        model_info: Callable[[], ModelInfo | None],
        parent: QWidget,
        *,
        machine: MachineMemory | None = None,
        dialog: TimingDialog | None = None,
    ) -> None:
        super().__init__(parent)
        self.dialog = dialog or TimingDialog(parent)
        self._traces = traces
        self._performance = performance
        self._messages = messages
        self._model_info = model_info
        self._machine = machine
        self._tasks = TaskRunner(self)
        self._shown: int | None = None
        requested.connect(self.open)

    def open(self, message_id: int) -> None:
        record = self._traces.get(message_id)
        self._shown = message_id
        self.dialog.show_content(timing_content(record, self._completion_tokens(message_id)))
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        trace = read_trace(record)
        if record is None or trace is None:
            return
        request = FactsRequest(message_id, trace, record.phases, self._model_info(), self._machine)
        performance = self._performance
        self._tasks.start(
            lambda _context: find_sentences(request, performance),
            name="timing-why-slow",
            lane="timing",  # one detection of the machine at a time
            expected=(Exception,),
            on_result=lambda result: self._show_sentences(message_id, result),
            on_error=lambda _error: self._show_sentences(message_id, (self._machine, [])),
        )

    def _completion_tokens(self, message_id: int) -> int | None:
        """The reply's stored count, for its end-to-end speed; None when it cannot be read
        (the view then leaves that figure out rather than failing)."""
        try:
            message = self._messages.get(message_id)
        except DatabaseError:
            return None
        stats = message.stats if message is not None else None
        return stats.completion_tokens if stats is not None else None

    def _show_sentences(
        self, message_id: int, result: tuple[MachineMemory | None, list[str]]
    ) -> None:
        machine, sentences = result
        if self._machine is None and machine is not None:
            self._machine = machine
        if message_id == self._shown:
            self.dialog.set_sentences(sentences)

    def shutdown(self) -> None:
        self._tasks.shutdown(time.monotonic() + SHUTDOWN_WAIT_S)
