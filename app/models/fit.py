"""Will this model fit? An estimate of RAM and VRAM for (model, n_ctx, GPU layers), following
how llama.cpp places buffers:

- weights: blocks are offloaded from the last one down (`-ngl N` puts blocks n_layer-N.. on
  the GPU); the output head goes to the GPU only when N > n_layer (llama.cpp counts it as
  layer n_layer+1, so "all" is n_layer+1 layers); the input embedding always stays on the CPU.
  A head tied to the embedding is duplicated onto the GPU.
- KV cache: per layer n_kv_head · (key_length · bytes per K element + value_length · bytes
  per V element) · cells, on the device of its layer; the bytes per element are those of
  the cache type chosen for K and for V (KV_BYTES_PER_ELEMENT). Sliding-window layers hold
  min(n_ctx, window + ubatch) cells unless the full-size SWA cache is used (llama-cpp-python's
  default, kept here).
- compute buffer: the worst-case graph llama.cpp reserves, dominated by the logits of one
  micro-batch (n_vocab · n_ubatch · 4) or, without flash attention, the attention scores
  (n_head · n_ctx · n_ubatch · 4), plus activations. Flash attention "auto" is priced as on:
  llama.cpp turns it on wherever the device runs it (every CPU; the Models page passes what a
  loaded model's auto really became, ModelInfo.flash_attn).

Checked against llama.cpp's reported buffers for Gemma 3 270M (tests/app/models/test_fit_gemma.py).
Pure arithmetic: any thread may call it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from app.models.gguf_layout import ModelLayout
from app.models.machine import MachineMemory
from inference.kv_cache_rules import FLASH_OFF, flash_attn_mode, kv_cache_refusal

MIB = 1 << 20
# CUDA context, cuBLAS workspace and allocator slack: VRAM used before any model buffer.
GPU_RUNTIME_OVERHEAD = 300 * MIB
# Left free on each device so other programs (and the desktop) keep working.
VRAM_HEADROOM = 256 * MIB
RAM_HEADROOM = 512 * MIB
F32 = 4
# Layer patterns of sliding-window models whose GGUF has no per-layer pattern array:
# layer i uses the full context when i % period == period - 1 (llama.cpp's set_swa_pattern).
_SWA_PERIODS = {"gemma3": 6, "gemma2": 2, "cohere2": 4, "gemma3n": 5}
# Bytes per cached element of each KV cache type: ggml's block bytes / block size (a q8_0
# block holds 32 values in 32 bytes plus an f16 scale).
KV_BYTES_PER_ELEMENT = {
    "f32": 4.0,
    "f16": 2.0,
    "bf16": 2.0,
    "q8_0": 34 / 32,
    "q5_1": 24 / 32,
    "q5_0": 22 / 32,
    "q4_1": 20 / 32,
    "q4_0": 18 / 32,
    "iq4_nl": 18 / 32,
}


def kv_element_bytes(cache_type: str) -> float:
    """Bytes per element of a KV cache type name; f16's for a name it does not know (the
    engine refuses such a name at load, with its own message)."""
    return KV_BYTES_PER_ELEMENT.get(cache_type.lower(), 2.0)


class FitKind(StrEnum):
    GPU = "fits on GPU"
    PARTIAL = "partly on GPU"
    CPU = "CPU only"
    WONT_FIT = "won't fit"


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes llama.cpp will allocate, by kind and device."""

    n_ctx: int
    gpu_layers: int  # layers offloaded, 0..total_layers
    total_layers: int  # n_layer + 1 (the output head), as llama.cpp counts
    weights_cpu: int
    weights_gpu: int
    kv_cpu: int
    kv_gpu: int
    compute_cpu: int
    compute_gpu: int
    gpu_overhead: int
    kv_f16: int = 0  # the KV cache's bytes had both K and V been f16
    type_k: str = "f16"
    type_v: str = "f16"
    # Issue 13: the draft model loaded beside it (weights, KV cache, compute), counted in
    # ram_bytes/vram_bytes and so in the verdict; the other fields are the main model's.
    draft: MemoryEstimate | None = None

    @property
    def ram_bytes(self) -> int:
        own = self.weights_cpu + self.kv_cpu + self.compute_cpu
        return own + (self.draft.ram_bytes if self.draft else 0)

    @property
    def vram_bytes(self) -> int:
        own = self.weights_gpu + self.kv_gpu + self.compute_gpu + self.gpu_overhead
        return own + (self.draft.vram_bytes if self.draft else 0)

    @property
    def kv_bytes(self) -> int:
        return self.kv_cpu + self.kv_gpu

    @property
    def kv_saved(self) -> int:
        """Bytes of KV cache the chosen cache types save against an f16 cache."""
        return max(0, self.kv_f16 - self.kv_bytes)


@dataclass(frozen=True)
class FitVerdict:
    kind: FitKind
    text: str  # one line for the user, with the numbers
    estimate: MemoryEstimate
    auto_gpu_layers: int


def _per_layer(layout: ModelLayout, key: str, default: int) -> list[int]:
    value = layout.hparam(key)
    n = layout.n_layers
    if isinstance(value, tuple):
        return [int(v) for v in value][:n] + [default] * max(0, n - len(value))
    if isinstance(value, int):
        return [value] * n
    return [default] * n


def _swa_layers(layout: ModelLayout) -> list[bool]:
    n = layout.n_layers
    window = layout.hparam("attention.sliding_window")
    if not isinstance(window, int) or window <= 0:
        return [False] * n
    pattern = layout.arrays.get(f"{layout.info.architecture}.attention.sliding_window_pattern")
    if pattern is not None and len(pattern) == n:
        return [bool(v) for v in pattern]
    period = _SWA_PERIODS.get(layout.info.architecture)
    if period is None:
        return [True] * n  # e.g. Mistral-style: every layer windowed
    return [i % period != period - 1 for i in range(n)]


def _pad(value: int, to: int) -> int:
    return -(-value // to) * to


def kv_bytes_per_layer(
    layout: ModelLayout,
    n_ctx: int,
    *,
    n_ubatch: int = 512,
    bytes_per_element: float | None = None,
    swa_full: bool = True,
    n_seq: int = 1,
    type_k: str = "f16",
    type_v: str = "f16",
) -> list[int]:
    """KV cache bytes of each block at `n_ctx` with K and V cached as `type_k`/`type_v`
    (`bytes_per_element`, when given, for both instead)."""
    k_bytes = kv_element_bytes(type_k) if bytes_per_element is None else bytes_per_element
    v_bytes = kv_element_bytes(type_v) if bytes_per_element is None else bytes_per_element
    n_embd = layout.hparam("embedding_length")
    heads = _per_layer(layout, "attention.head_count", 0)
    kv_heads = _per_layer(layout, "attention.head_count_kv", 0)
    kv_heads = [kv if kv else h for kv, h in zip(kv_heads, heads, strict=True)]
    max_heads = max(heads, default=0)
    default_head_dim = n_embd // max_heads if isinstance(n_embd, int) and max_heads else 0
    key_length = layout.hparam("attention.key_length")
    value_length = layout.hparam("attention.value_length")
    k_dim = key_length if isinstance(key_length, int) else default_head_dim
    v_dim = value_length if isinstance(value_length, int) else k_dim
    window = layout.hparam("attention.sliding_window")
    swa = _swa_layers(layout)
    cells_full = _pad(n_ctx, 256)
    cells_swa = cells_full
    if not swa_full and isinstance(window, int) and window > 0:
        cells_swa = min(cells_full, _pad(window * n_seq + n_ubatch, 256))
    result = []
    for il in range(layout.n_layers):
        cells = cells_swa if swa[il] else cells_full
        if heads[il] == 0:  # recurrent layer of a hybrid model: no KV cache
            result.append(0)
            continue
        result.append(int(kv_heads[il] * (k_dim * k_bytes + v_dim * v_bytes) * cells))
    return result


def estimate_memory(
    layout: ModelLayout,
    n_ctx: int,
    n_gpu_layers: int,
    *,
    n_batch: int = 512,
    flash_attn: str | bool = "auto",
    swa_full: bool = True,
    type_k: str = "f16",
    type_v: str = "f16",
    draft: ModelLayout | None = None,
) -> MemoryEstimate:
    """Estimate llama.cpp's buffers. `n_gpu_layers` < 0 means all layers; `type_k`/`type_v`
    are the KV cache types (EngineSettings.type_k/type_v); `draft`: a draft model loaded as
    the engine loads it (inference/process/draft_model.py): the same n_ctx, batch and cache
    settings, wholly on the GPU when the main model uses the GPU at all, else on the CPU; one
    process, so no second GPU runtime overhead."""
    n_layer = layout.n_layers
    total_layers = n_layer + 1
    gpu_layers = total_layers if n_gpu_layers < 0 else min(n_gpu_layers, total_layers)
    n_ubatch = min(n_batch, 512)  # as inference/process/llama_adapter.py sets it
    first_gpu_block = max(n_layer - gpu_layers, 0)
    output_on_gpu = gpu_layers > n_layer

    block_gpu = sum(layout.layer_bytes[first_gpu_block:]) if gpu_layers else 0
    block_cpu = sum(layout.layer_bytes) - block_gpu
    head = layout.output_bytes + (layout.embedding_bytes if layout.tied_output else 0)
    weights_gpu = block_gpu + (head if output_on_gpu else 0)
    weights_cpu = layout.embedding_bytes + layout.other_bytes + block_cpu
    if not output_on_gpu:
        weights_cpu += layout.output_bytes

    kv = kv_bytes_per_layer(
        layout, n_ctx, n_ubatch=n_ubatch, swa_full=swa_full, type_k=type_k, type_v=type_v
    )
    kv_f16 = sum(kv_bytes_per_layer(layout, n_ctx, n_ubatch=n_ubatch, swa_full=swa_full))
    kv_gpu = sum(kv[first_gpu_block:]) if gpu_layers else 0
    kv_cpu = sum(kv) - kv_gpu

    n_embd = layout.hparam("embedding_length")
    n_ff = max(_per_layer(layout, "feed_forward_length", 0), default=0)
    n_head = max(_per_layer(layout, "attention.head_count", 0), default=0)
    width = max(n_embd if isinstance(n_embd, int) else 0, n_ff)
    activations = n_ubatch * width * F32 * 2
    logits = (layout.n_vocab or 0) * n_ubatch * F32
    scores = n_head * _pad(n_ctx, 256) * n_ubatch * F32
    attention = scores if flash_attn_mode(flash_attn) == FLASH_OFF else 0
    output_buffer = (layout.n_vocab or 0) * F32  # logits of the last token, always on the CPU
    if gpu_layers == 0:
        compute_cpu, compute_gpu = max(logits, attention) + activations, 0
    elif output_on_gpu:
        compute_gpu = max(logits, attention) + activations
        compute_cpu = activations  # host staging buffer
    else:
        compute_gpu = attention + activations
        compute_cpu = logits + activations
    drafted = None
    if draft is not None:
        drafted = estimate_memory(
            draft, n_ctx, -1 if gpu_layers else 0, n_batch=n_batch, flash_attn=flash_attn,
            swa_full=swa_full, type_k=type_k, type_v=type_v,
        )  # fmt: skip
        drafted = replace(drafted, gpu_overhead=0)
    return MemoryEstimate(
        n_ctx=n_ctx,
        gpu_layers=gpu_layers,
        total_layers=total_layers,
        weights_cpu=weights_cpu,
        weights_gpu=weights_gpu,
        kv_cpu=kv_cpu,
        kv_gpu=kv_gpu,
        compute_cpu=compute_cpu + output_buffer,
        compute_gpu=compute_gpu,
        gpu_overhead=GPU_RUNTIME_OVERHEAD if gpu_layers else 0,
        kv_f16=kv_f16,
        type_k=type_k,
        type_v=type_v,
        draft=drafted,
    )


def _fits(estimate: MemoryEstimate, machine: MachineMemory) -> tuple[bool, bool]:
    """(RAM fits, VRAM fits) for this estimate on this machine."""
    ram_ok = estimate.ram_bytes <= machine.ram_available_bytes - RAM_HEADROOM
    if estimate.gpu_layers == 0:
        return ram_ok, True
    gpu = machine.best_gpu
    vram_ok = gpu is not None and estimate.vram_bytes <= gpu.free_bytes - VRAM_HEADROOM
    return ram_ok, vram_ok


def auto_gpu_layers(
    layout: ModelLayout,
    n_ctx: int,
    machine: MachineMemory,
    *,
    gpu_available: bool = True,
    n_batch: int = 512,
    flash_attn: str | bool = "auto",
    type_k: str = "f16",
    type_v: str = "f16",
    draft: ModelLayout | None = None,
) -> int:
    """The largest number of layers to offload that fits in free VRAM (0 without a GPU), a
    `draft` model counted (on the GPU with any layer there, estimate_memory).
    VRAM grows with each layer, so a scan from the top finds the answer in a few steps."""
    if not gpu_available or machine.best_gpu is None:
        return 0
    for layers in range(layout.n_layers + 1, 0, -1):
        estimate = estimate_memory(
            layout, n_ctx, layers, n_batch=n_batch, flash_attn=flash_attn,
            type_k=type_k, type_v=type_v, draft=draft,
        )  # fmt: skip
        if _fits(estimate, machine)[1]:
            return layers
    return 0


def human_bytes(n: int) -> str:
    """Binary units, as memory is sold and as llama.cpp reports it."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def evaluate_fit(
    layout: ModelLayout,
    n_ctx: int,
    n_gpu_layers: int,
    machine: MachineMemory,
    *,
    gpu_available: bool = True,
    n_batch: int = 512,
    flash_attn: str | bool = "auto",
    type_k: str = "f16",
    type_v: str = "f16",
    draft: ModelLayout | None = None,
) -> FitVerdict:
    """The verdict for these settings on this machine, with the numbers behind it.
    `gpu_available` is False when the installed llama.cpp cannot offload (CPU build);
    `draft`: the draft model loaded beside it, counted too (estimate_memory)."""
    has_gpu = gpu_available and machine.best_gpu is not None
    requested = n_gpu_layers if has_gpu else 0
    estimate = estimate_memory(
        layout, n_ctx, requested, n_batch=n_batch, flash_attn=flash_attn,
        type_k=type_k, type_v=type_v, draft=draft,
    )  # fmt: skip
    auto = auto_gpu_layers(
        layout, n_ctx, machine, gpu_available=gpu_available, n_batch=n_batch,
        flash_attn=flash_attn, type_k=type_k, type_v=type_v, draft=draft,
    )  # fmt: skip
    ram_ok, vram_ok = _fits(estimate, machine)
    ram = (
        f"{human_bytes(estimate.ram_bytes)} RAM of "
        f"{human_bytes(machine.ram_available_bytes)} available"
    )
    gpu = machine.best_gpu
    vram = (
        f"{human_bytes(estimate.vram_bytes)} VRAM of {human_bytes(gpu.free_bytes)} free"
        if gpu is not None
        else ""
    )
    m = estimate.total_layers
    if not ram_ok:
        kind, text = FitKind.WONT_FIT, f"won't fit: needs {ram}"
    elif not vram_ok:
        kind = FitKind.WONT_FIT
        text = f"won't fit: needs {vram}; Auto would offload {auto} of {m} layers"
    elif estimate.gpu_layers == 0:
        kind, text = FitKind.CPU, f"CPU only: needs {ram}"
        if not has_gpu:
            text += " (no usable GPU found)" if gpu_available else " (this llama.cpp has no GPU)"
    elif estimate.gpu_layers == m:
        kind, text = FitKind.GPU, f"fits on GPU: needs {vram} and {ram}"
    else:
        kind = FitKind.PARTIAL
        text = f"partly on GPU ({estimate.gpu_layers} of {m} layers): needs {vram} and {ram}"
    return FitVerdict(kind, text, estimate, auto)


def head_widths(layout: ModelLayout) -> tuple[int | None, int | None]:
    """(key, value) head widths as llama.cpp derives them; None where the header is silent."""
    n_embd = layout.hparam("embedding_length")
    heads = max(_per_layer(layout, "attention.head_count", 0), default=0)
    key, value = layout.hparam("attention.key_length"), layout.hparam("attention.value_length")
    derived = n_embd // heads if isinstance(n_embd, int) and heads else None
    k = key if isinstance(key, int) else derived
    v = value if isinstance(value, int) else k
    return k, v


def cache_problem(layout: ModelLayout, type_k: str, type_v: str, flash_attn: str | bool) -> str:
    """Why llama.cpp would refuse these KV cache settings for this model, for the user
    ("" when it would not): inference.kv_cache_rules.kv_cache_refusal with the model's heads."""
    k, v = head_widths(layout)
    refusal = kv_cache_refusal(type_k, type_v, flash_attn, head_dim_k=k, head_dim_v=v)
    return f"{refusal}." if refusal else ""


def extra_vram_for_all_layers(
    layout: ModelLayout,
    n_ctx: int,
    gpu_layers: int,
    *,
    n_batch: int = 512,
    flash_attn: str | bool = "auto",
) -> int:
    """How much more VRAM putting every layer on the GPU takes than `gpu_layers` on it now
    (weights, KV cache and compute buffers, estimated as estimate_memory does); 0 when all
    are on it already. What "more VRAM would buy" in app.chat.slowness."""
    now = estimate_memory(layout, n_ctx, gpu_layers, n_batch=n_batch, flash_attn=flash_attn)
    every = estimate_memory(layout, n_ctx, -1, n_batch=n_batch, flash_attn=flash_attn)
    return max(0, every.vram_bytes - now.vram_bytes)
