""" "Why is this slow?" for one stored reply (issue 12): the facts app.chat.slowness words,
gathered from what Hearth has (the stored trace, the model loaded now, this machine, the
model file's layout, the model's earlier replies). Both the timing view (app/gui/chat) and
the Performance page (app/gui/performance) call it; feature presenters may not import each
other, so it lives beside them.

Qt-free I/O code, run in a task (worker thread): `detect_machine` runs nvidia-smi, the VRAM
estimate reads the model file's header, the depth slope queries every reply of the model.
It sits in app.gui and not in app.chat because it joins two domain packages, app.chat (the
sentences) and app.models (machine, layout, VRAM), which may not import each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app.chat import trace_marks as marks
from app.chat.slowness import SlownessFacts, slowness_sentences
from app.models.fit import extra_vram_for_all_layers
from app.models.gguf_layout import read_layout
from app.models.machine import MachineMemory, detect_machine, physical_cores
from inference.gguf import ModelFileError
from inference.protocol import ModelInfo, Trace
from storage.performance import PerformanceRepository
from storage.records import PhaseValue, TraceRecord
from storage.traces import TraceRepository


def read_trace(record: TraceRecord | None) -> Trace | None:
    """The engine trace a stored record holds; None when there is none or it is damaged."""
    if record is None:
        return None
    try:
        return Trace.from_phases(record.phases, record.token_ms)
    except ValueError:
        return None


@dataclass(frozen=True)
class FactsRequest:
    """What the GUI thread knows when it asks; the task adds the rest."""

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


def find_sentences(
    request: FactsRequest, performance: PerformanceRepository
) -> tuple[MachineMemory, list[str]]:
    """Worker thread: this machine (detected here unless the request brings it, so the
    caller can keep it for next time) and the sentences that apply to the reply."""
    machine = request.machine or detect_machine()
    return machine, slowness_sentences(gather_facts(request, performance, machine))


@dataclass(frozen=True)
class StoredReplySentences:
    """The answer for a reply picked by its id: `recorded` False when it has no readable
    trace (the caller says "no timing recorded"), else the sentences (none may apply)."""

    recorded: bool
    sentences: list[str]
    machine: MachineMemory | None


def sentences_for_stored_reply(
    message_id: int,
    traces: TraceRepository,
    performance: PerformanceRepository,
    info: ModelInfo | None,
    machine: MachineMemory | None,
) -> StoredReplySentences:
    """Worker thread: read the reply's stored trace (a missing or damaged one is no error)
    and, when there is one, find its sentences."""
    record = traces.get(message_id)
    trace = read_trace(record)
    if record is None or trace is None:
        return StoredReplySentences(False, [], machine)
    request = FactsRequest(message_id, trace, record.phases, info, machine)
    found, sentences = find_sentences(request, performance)
    return StoredReplySentences(True, sentences, found)
