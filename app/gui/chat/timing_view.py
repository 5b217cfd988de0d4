"""Opens the timing view of a reply (issue 12) when its "Timing" link is clicked, for replies
of any day: it reads the stored trace (TraceRepository.get, which never raises) and shows it
at once; the "Why is this slow?" sentences follow from a task, because their facts cost I/O
(nvidia-smi for this machine's GPU, the model file's layout for the VRAM estimate, the
model's earlier replies for the depth slope). GUI thread only, but for `gather_facts`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, SignalInstance
from PySide6.QtWidgets import QWidget

from app.chat import trace_marks as marks
from app.chat.slowness import SlownessFacts, slowness_sentences
from app.gui.chat.timing_content import read_trace, timing_content
from app.gui.tasks import TaskRunner
from app.models.fit import extra_vram_for_all_layers
from app.models.gguf_layout import read_layout
from app.models.machine import MachineMemory, detect_machine, physical_cores
from inference.gguf import ModelFileError
from inference.protocol import ModelInfo, Trace
from storage.performance import PerformanceRepository
from storage.records import PhaseValue
from storage.traces import TraceRepository
from ui.chat.timing_view import TimingDialog

SHUTDOWN_WAIT_S = 2.0


@dataclass(frozen=True)
class FactsRequest:
    """What the GUI thread knows when the view opens; the task adds the rest."""

    message_id: int
    trace: Trace
    phases: Mapping[str, PhaseValue]
    info: ModelInfo | None  # the model loaded now (its llama.cpp is the one that ran)
    machine: MachineMemory | None  # this computer, when detected before


def _int(phases: Mapping[str, PhaseValue], name: str) -> int | None:
    value = phases.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _extra_vram(path: str, n_ctx: int, gpu_layers: int) -> int | None:
    try:
        layout = read_layout(Path(path))
    except (OSError, ValueError, ModelFileError):  # moved, replaced or unreadable: no number
        return None
    return extra_vram_for_all_layers(layout, n_ctx, gpu_layers)


def _depth_points(performance: PerformanceRepository, message_id: int) -> list[tuple[int, float]]:
    """(context depth at the start, decode tokens/s) of every reply by this reply's model."""
    points = performance.speed_points()
    try:
        model = points.model[points.message_id.index(message_id)]
    except ValueError:
        return []
    rows = zip(points.model, points.prompt_tokens, points.decode_tps, strict=True)
    return [(depth, tps) for name, depth, tps in rows if name == model]


def gather_facts(
    request: FactsRequest, performance: PerformanceRepository, machine: MachineMemory
) -> SlownessFacts:
    """The facts for app.chat.slowness (worker thread). The model loaded now tells whether
    this llama.cpp can use a GPU, and, when it is the reply's model, its context size and
    thread count where the stored trace does not hold them."""
    phases, info = request.phases, request.info
    path = phases.get(marks.MODEL_PATH)
    same_model = info is not None and isinstance(path, str) and path == info.path
    gpu = machine.best_gpu
    gpu_layers = _int(phases, marks.GPU_LAYERS_ACTUAL)
    n_layers = _int(phases, marks.N_LAYERS)
    threads = _int(phases, marks.N_THREADS)
    if same_model and info is not None:
        threads = threads if threads is not None else info.n_threads
    extra = None
    partial = gpu_layers is not None and n_layers is not None and gpu_layers <= n_layers
    if same_model and info is not None and info.gpu_offload_supported and gpu and partial:
        extra = _extra_vram(info.path, info.n_ctx, gpu_layers or 0)
    return SlownessFacts(
        trace=request.trace,
        gpu_name=gpu.name if gpu else None,
        gpu_vram_bytes=gpu.total_bytes if gpu else None,
        gpu_offload_supported=info.gpu_offload_supported if info is not None else None,
        gpu_layers=gpu_layers,
        n_layers=n_layers,
        vram_for_all_bytes=extra,
        n_threads=threads,
        physical_cores=physical_cores(),
        swap_in_bytes=_int(phases, marks.SWAP_IN),
        depth_points=_depth_points(performance, request.message_id),
    )


class TimingView(QObject):
    """`requested`: the chat view's timingRequested(message_id). `model_info`: the model
    loaded now (EngineSession.info). `machine`: this computer as app.models.machine sees it
    (None: detected by the first task that needs it)."""

    def __init__(
        self,
        requested: SignalInstance,
        traces: TraceRepository,
        performance: PerformanceRepository,
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
        self._model_info = model_info
        self._machine = machine
        self._tasks = TaskRunner(self)
        self._shown: int | None = None
        requested.connect(self.open)

    def open(self, message_id: int) -> None:
        record = self._traces.get(message_id)
        self._shown = message_id
        self.dialog.show_content(timing_content(record))
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        trace = read_trace(record)
        if record is None or trace is None:
            return
        request = FactsRequest(message_id, trace, record.phases, self._model_info(), self._machine)
        self._tasks.start(
            lambda _context: self._sentences(request),
            name="timing-why-slow",
            lane="timing",  # one detection of the machine at a time
            expected=(Exception,),
            on_result=lambda result: self._show_sentences(message_id, result),
            on_error=lambda _error: self._show_sentences(message_id, (self._machine, [])),
        )

    def _sentences(self, request: FactsRequest) -> tuple[MachineMemory, list[str]]:
        """Worker thread: the machine (detected once) and the sentences."""
        machine = request.machine or detect_machine()
        facts = gather_facts(request, self._performance, machine)
        return machine, slowness_sentences(facts)

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
