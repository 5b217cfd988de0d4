"""Turns model-management data (catalogue entries, hub listings, fit verdicts, what the engine
reports after a load) into the plain rows and texts the Models page shows. Pure functions:
no Qt, no I/O; any thread may call them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app.models.catalog import (
    SOURCE_BUILTIN,
    SOURCE_FOLDER,
    SOURCE_IMPORTED,
    ModelEntry,
    source_text,
)
from app.models.fit import (
    FitKind,
    FitVerdict,
    auto_gpu_layers,
    evaluate_fit,
    human_bytes,
)
from app.models.fit_breakdown import draft_memory_text, kv_cache_text
from app.models.gguf_layout import ModelLayout
from app.models.hub import RemoteModel, RepoSummary
from app.models.machine import MachineMemory
from app.models.names import display_name
from inference.gguf import human_size
from inference.process.cpu_threads import ENV_VAR as THREADS_ENV_VAR
from inference.process.cpu_threads import env_thread_counts
from inference.protocol import ModelInfo
from ui.models.rows import (
    FitView,
    FoundRow,
    InstalledRow,
    LoadedView,
    RemoteFileRow,
    RepoRow,
)

MIB = 1 << 20
NO_GPU_BUILD = (
    "This llama.cpp build has no GPU support, so the model runs on the CPU. To use an NVIDIA "
    'GPU, rebuild it: make clean-venv && make CMAKE_ARGS="-DGGML_CUDA=on" setup (without the '
    'source tree: CMAKE_ARGS="-DGGML_CUDA=on" pip install --force-reinstall --no-cache-dir '
    "llama-cpp-python). Apple Silicon uses -DGGML_METAL=on, AMD and Intel -DGGML_VULKAN=on; "
    'see "GPU builds" in README.md.'
)
# A download's memory need before its header is known: weights plus ~10 % and a small
# context's KV cache and compute buffers.
_REMOTE_OVERHEAD = 1.10
_REMOTE_EXTRA = 384 * MIB
_RAM_HEADROOM = 512 * MIB
_VRAM_RESERVE = 556 * MIB  # runtime overhead + headroom, as app.models.fit keeps


def _short_folder(path: Path) -> str:
    home = str(Path.home())
    folder = str(path.parent)
    return "~" + folder[len(home) :] if folder.startswith(home) else folder


def installed_row(entry: ModelEntry, in_use: bool) -> InstalledRow:
    where = "" if entry.packaged else f": {_short_folder(entry.path)}"
    return InstalledRow(
        path=str(entry.path),
        name=entry.display_name,
        architecture=entry.architecture or "",
        parameters=entry.parameters_label or "",
        quantization=entry.quantization or "",
        size=human_size(entry.file_size) if entry.file_size else "",
        context=f"{entry.context_length:,}" if entry.context_length else "",
        has_template=entry.has_chat_template,
        location=f"{source_text(entry)}{where}",
        source=entry.source,
        in_use=in_use,
        error=entry.error or "",
        removable=entry.source == SOURCE_IMPORTED,
        deletable=entry.source in (SOURCE_FOLDER, SOURCE_BUILTIN) and not entry.packaged,
    )


def found_row(entry: ModelEntry) -> FoundRow:
    return FoundRow(
        path=str(entry.path),
        name=entry.name,
        quantization=entry.quantization or "",
        size=human_size(entry.file_size),
        found_in=entry.source,
    )


def repo_row(repo: RepoSummary) -> RepoRow:
    downloads = f"{repo.downloads:,}" if repo.downloads is not None else "?"
    return RepoRow(repo.repo_id, downloads, repo.gated)


def remote_fit(
    size: int | None, machine: MachineMemory | None, gpu_available: bool
) -> tuple[str, str]:
    """(short, full) verdict for a file not downloaded yet, from its size alone."""
    if size is None:
        return "size unknown", "size unknown"
    if machine is None:
        return "checking this computer…", "checking this computer…"
    need = int(size * _REMOTE_OVERHEAD) + _REMOTE_EXTRA
    ram = machine.ram_available_bytes - _RAM_HEADROOM
    gpu = machine.best_gpu if gpu_available else None
    vram = gpu.free_bytes - _VRAM_RESERVE if gpu is not None else 0
    about = f"~{human_bytes(need)}"
    free_ram = human_bytes(machine.ram_available_bytes)
    if gpu is not None and need <= vram:
        kind, full = FitKind.GPU, f"{about} of {human_bytes(gpu.free_bytes)} free VRAM"
    elif gpu is not None and vram > 0 and need - vram <= ram:
        kind, full = FitKind.PARTIAL, f"{about}, more than {human_bytes(gpu.free_bytes)} free VRAM"
    elif need <= ram:
        kind, full = FitKind.CPU, f"{about} of {free_ram} free RAM"
    else:
        kind, full = FitKind.WONT_FIT, f"{about}, only {free_ram} free RAM"
    return f"{kind}: {about}", f"{kind}: {full}"


@dataclass(frozen=True)
class RemoteFitInput:
    """What a hub file's fit is computed from: its header's layout once read, else the file
    size with `note` saying why (empty: not asked for yet; READING_HEADER; or the error)."""

    n_ctx: int
    n_batch: int = 512
    flash_attn: str | bool = "auto"
    layout: ModelLayout | None = None
    note: str = ""


READING_HEADER = "reading its header…"
HEADER_NOT_READ = "(estimated from file size; header not read)"


def short_fit(verdict: FitVerdict) -> str:
    """The verdict and the memory it needs, short enough for a table cell."""
    est = verdict.estimate
    ram, vram = f"{human_bytes(est.ram_bytes)} RAM", f"{human_bytes(est.vram_bytes)} VRAM"
    if verdict.kind is FitKind.GPU:
        return f"{FitKind.GPU}: {vram} + {ram}"
    if verdict.kind is FitKind.PARTIAL:
        return f"{FitKind.PARTIAL} ({est.gpu_layers} of {est.total_layers} layers): {vram} + {ram}"
    if verdict.kind is FitKind.CPU:
        return f"{FitKind.CPU}: {ram}"
    return f"{FitKind.WONT_FIT}: needs {ram}" + (f" + {vram}" if est.gpu_layers else "")


def remote_fit_texts(
    model: RemoteModel, machine: MachineMemory | None, gpu_available: bool, fit: RemoteFitInput
) -> tuple[str, str]:
    """(table cell, details line) for a hub file. With its header read, the same estimate as
    before a load: weights plus the KV cache at `fit.n_ctx`, GPU layers on Auto."""
    name = PurePosixPath(model.filename).name
    if fit.layout is None or machine is None:
        cell, full = remote_fit(model.size, machine, gpu_available)
        if fit.note == READING_HEADER:
            return cell, f"{name}: {full} (estimated from file size; {READING_HEADER})"
        if fit.note:
            return f"{cell} {HEADER_NOT_READ}", f"{name}: {full} {HEADER_NOT_READ}: {fit.note}"
        return cell, f"{name}: {full} (estimated from file size; select it to read its header)"
    layers = auto_gpu_layers(
        fit.layout, fit.n_ctx, machine, gpu_available=gpu_available, n_batch=fit.n_batch,
        flash_attn=fit.flash_attn,
    )  # fmt: skip
    verdict = evaluate_fit(
        fit.layout, fit.n_ctx, layers, machine, gpu_available=gpu_available,
        n_batch=fit.n_batch, flash_attn=fit.flash_attn,
    )  # fmt: skip
    view = fit_view(verdict, gpu_available and machine.best_gpu is not None)
    details = f"{name} at {fit.n_ctx:,} tokens of context: {verdict.text}. {view.breakdown}"
    return short_fit(verdict), details


def remote_row(
    model: RemoteModel,
    machine: MachineMemory | None,
    gpu_available: bool,
    installed: bool,
    fit: RemoteFitInput,
    resumable: int = 0,
) -> RemoteFileRow:
    cell, details = remote_fit_texts(model, machine, gpu_available, fit)
    return RemoteFileRow(
        key=model.filename,
        quantization=model.quantization or "",
        size=human_size(model.size) if model.size else "?",
        parts=model.total_parts,
        fit=cell,
        installed=installed,
        fit_details=details,
        partial=partial_text(resumable, model.size),
    )


def partial_text(resumable: int, size: int | None) -> str:
    """What an unfinished earlier download (paused, dropped, or the app was killed) left."""
    if resumable <= 0 or (size is not None and resumable >= size):
        return ""
    of = f" of {human_size(size)}" if size else ""
    return f"{human_size(resumable)}{of} kept; Download resumes"


def fit_view(verdict: FitVerdict, gpu_found: bool) -> FitView:
    est = verdict.estimate
    weights = est.weights_cpu + est.weights_gpu
    compute = est.compute_cpu + est.compute_gpu
    breakdown = (
        f"Weights {human_bytes(weights)}, {kv_cache_text(est)}, compute {human_bytes(compute)}."
    )
    if est.draft is not None:  # issue 13: counted in the verdict above
        breakdown += f" {draft_memory_text(est)}"
    if gpu_found:
        breakdown += (
            f" Auto puts {verdict.auto_gpu_layers} of {est.total_layers} layers on the GPU."
        )
    else:
        breakdown += " No usable GPU: every layer runs on the CPU."
    return FitView(
        kind=verdict.kind.value,
        text=verdict.text,
        breakdown=breakdown,
        auto_layers=verdict.auto_gpu_layers,
        total_layers=est.total_layers,
    )


def _requested_text(requested: int, auto: bool, total: int) -> str:
    count = "all" if requested < 0 or requested >= total else str(requested)
    return f"Auto ({count})" if auto else count


def threads_text(info: ModelInfo) -> str:
    """The CPU threads the loaded context uses (read back from llama.cpp) and who chose them."""
    if not info.n_threads:
        return "not reported by this engine"
    decode, prefill = "automatic: one per physical core", "automatic: every CPU"
    if env_thread_counts() is not None:
        decode = prefill = f"automatic: from {THREADS_ENV_VAR}"
    if info.n_threads_user_set:
        decode = "your setting"
    if info.n_threads_batch_user_set:
        prefill = "your setting"
    return (
        f"{info.n_threads} writing replies ({decode}), "
        f"{info.n_threads_batch} reading prompts ({prefill})"
    )


def loaded_view(info: ModelInfo, requested: int, *, auto: bool = False) -> LoadedView:
    """The truth after a load, with the reason in plain words when the GPU is not used."""
    total = info.n_layers + 1  # llama.cpp counts the output layer too
    layers = (
        f"requested {_requested_text(requested, auto, total)}, "
        f"offloaded {info.n_gpu_layers} of {total}"
    )
    memory = "not reported by this engine"
    if info.memory is not None:
        m = info.memory
        memory = (
            f"{human_bytes(m.ram_bytes)} RAM (weights {human_bytes(m.weights_ram)}, KV cache "
            f"{human_bytes(m.kv_ram)}, compute {human_bytes(m.compute_ram)})"
        )
        if m.vram_bytes:
            memory += (
                f"; {human_bytes(m.vram_bytes)} VRAM (weights {human_bytes(m.weights_vram)}, "
                f"KV cache {human_bytes(m.kv_vram)}, compute {human_bytes(m.compute_vram)})"
            )
        if m.rss_bytes:
            memory += f"; engine process: {human_bytes(m.rss_bytes)} resident"
    if info.draft_memory is not None:  # issue 13: the draft model loaded beside it
        d = info.draft_memory
        memory += (
            f"; draft model {info.draft_name}: {human_bytes(d.ram_bytes + d.vram_bytes)} "
            f"(weights {human_bytes(d.weights_ram + d.weights_vram)}, KV cache "
            f"{human_bytes(d.kv_ram + d.kv_vram)})"
        )
    details = (
        f"context {info.n_ctx:,} tokens (trained for {info.n_ctx_train:,}) · chat format: "
        f"{info.chat_format_label} · loaded in {info.load_ms / 1000:.1f} s · "
        f"llama.cpp {info.llama_cpp_version}"
    )
    if info.flash_attn:  # as llama.cpp resolved it ("auto" decided at load; issue 13)
        details += f" · flash attention {info.flash_attn}"
    if info.amx_off:
        details += (
            " · AMX kernels off: llama.cpp's AMX path crashes on some CPUs like this one "
            "(set HEARTH_AMX=1 to use it anyway)"
        )
    note = ""
    if not info.gpu_offload_supported:
        note = NO_GPU_BUILD
    elif info.n_gpu_layers == 0:
        note = (
            "GPU layers is 0 for this model, so it runs on the CPU. Set GPU layers (or Auto) "
            "in its settings below, save, and reload."
        )
    elif info.n_gpu_layers < total:
        note = (
            f"Only {info.n_gpu_layers} of {total} layers are on the GPU; the rest run on the "
            "CPU, which is slower. More layers need more free VRAM (a smaller context helps)."
        )
    if info.draft_note:  # the draft model asked for was left out: say why, beside the GPU's
        note = f"{note} {info.draft_note}".strip()
    backend = info.backend if info.n_gpu_layers else f"{info.backend} (no GPU offload)"
    return LoadedView(
        name=display_name(info.name, info.quantization, info.path),
        path=info.path,
        backend=backend,
        layers=layers,
        memory=memory,
        details=details,
        gpu_note=note,
        threads=threads_text(info),
    )
