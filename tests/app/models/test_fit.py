from __future__ import annotations

from pathlib import Path

import pytest

from app.models import machine
from app.models.fit import (
    GPU_RUNTIME_OVERHEAD,
    FitKind,
    auto_gpu_layers,
    estimate_memory,
    evaluate_fit,
    extra_vram_for_all_layers,
    kv_bytes_per_layer,
)
from app.models.gguf_layout import ModelLayout, read_layout
from app.models.machine import GpuMemory, MachineMemory, parse_nvidia_smi
from tests.support.tiny_gguf import build_tiny_model

GIB = 1 << 30
MIB = 1 << 20


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> ModelLayout:
    # 4 layers, 8 heads sharing 2 KV heads (GQA), head_dim 16.
    path = build_tiny_model(
        tmp_path_factory.mktemp("fit") / "gqa.gguf", n_layer=4, n_embd=128, n_head=8, n_head_kv=2
    )
    return read_layout(Path(path))


def test_layout_splits_weights_by_layer(layout: ModelLayout) -> None:
    assert layout.n_layers == 4
    assert len(set(layout.layer_bytes)) == 1  # identical f32 blocks
    n_embd, n_ff, kv_dim = 128, 128, 2 * 16
    per_block = 4 * (2 * n_embd + 2 * n_embd * n_embd + 2 * n_embd * kv_dim + 3 * n_embd * n_ff)
    assert layout.layer_bytes[0] == per_block
    assert layout.embedding_bytes == layout.n_vocab * n_embd * 4
    assert not layout.tied_output
    assert layout.total_bytes + 1024 < layout.info.file_size  # plus header and vocabulary


def test_kv_cache_arithmetic(layout: ModelLayout) -> None:
    # 2 (K and V) · n_kv_head 2 · head_dim 16 · n_ctx · 2 bytes (f16), per layer.
    assert kv_bytes_per_layer(layout, 1024) == [2 * 2 * 16 * 1024 * 2] * 4
    # n_ctx is padded to 256 cells, as llama.cpp does.
    assert kv_bytes_per_layer(layout, 1000) == kv_bytes_per_layer(layout, 1024)
    q8 = kv_bytes_per_layer(layout, 1024, bytes_per_element=1.0625)
    assert q8[0] == int(2 * 2 * 16 * 1024 * 1.0625)


def test_partial_offload_puts_the_last_blocks_on_the_gpu(layout: ModelLayout) -> None:
    cpu = estimate_memory(layout, 2048, 0)
    assert cpu.vram_bytes == 0 and cpu.gpu_layers == 0 and cpu.total_layers == 5
    two = estimate_memory(layout, 2048, 2)
    block, kv = layout.layer_bytes[0], kv_bytes_per_layer(layout, 2048)[0]
    assert two.weights_gpu == 2 * block
    assert two.kv_gpu == 2 * kv and two.kv_cpu == 2 * kv
    assert two.gpu_overhead == GPU_RUNTIME_OVERHEAD
    full = estimate_memory(layout, 2048, -1)
    assert full.gpu_layers == 5
    assert full.weights_gpu == sum(layout.layer_bytes) + layout.output_bytes
    assert full.weights_cpu == layout.embedding_bytes + layout.other_bytes  # embedding stays
    # Offloading moves bytes; it never makes the total smaller than the weights.
    assert estimate_memory(layout, 2048, 3).vram_bytes > two.vram_bytes


def test_bigger_context_needs_more_memory(layout: ModelLayout) -> None:
    small = estimate_memory(layout, 2048, 0)
    big = estimate_memory(layout, 8192, 0)
    assert big.kv_bytes == 4 * small.kv_bytes
    assert big.ram_bytes > small.ram_bytes


def _machine(ram: int, vram_free: int | None) -> MachineMemory:
    gpus = () if vram_free is None else (GpuMemory("Test GPU", vram_free, vram_free),)
    return MachineMemory(ram, gpus)


def test_verdicts(layout: ModelLayout) -> None:
    no_gpu = evaluate_fit(layout, 2048, -1, _machine(16 * GIB, None))
    assert no_gpu.kind is FitKind.CPU and "no usable GPU" in no_gpu.text
    cpu_build = evaluate_fit(layout, 2048, -1, _machine(16 * GIB, 8 * GIB), gpu_available=False)
    assert cpu_build.kind is FitKind.CPU and "no GPU" in cpu_build.text
    gpu = evaluate_fit(layout, 2048, -1, _machine(16 * GIB, 8 * GIB))
    assert gpu.kind is FitKind.GPU and "VRAM" in gpu.text and gpu.auto_gpu_layers == 5
    partial = evaluate_fit(layout, 2048, 2, _machine(16 * GIB, 8 * GIB))
    assert partial.kind is FitKind.PARTIAL and "(2 of 5 layers)" in partial.text
    tiny_gpu = evaluate_fit(layout, 2048, -1, _machine(16 * GIB, 400 * MIB))
    assert tiny_gpu.kind is FitKind.WONT_FIT and "Auto would offload" in tiny_gpu.text
    # Without flash attention the attention scores take more than the 28 MiB left.
    no_ram = evaluate_fit(layout, 2048, 0, _machine(540 * MIB, None), flash_attn="off")
    assert no_ram.kind is FitKind.WONT_FIT and "RAM" in no_ram.text


def test_auto_gpu_layers_picks_the_largest_offload_that_fits(layout: ModelLayout) -> None:
    # Free VRAM for exactly 3 layers' estimate (plus the 256 MiB headroom).
    three = estimate_memory(layout, 2048, 3).vram_bytes
    machine = _machine(16 * GIB, three + 256 * MIB)
    assert auto_gpu_layers(layout, 2048, machine) == 3
    assert auto_gpu_layers(layout, 2048, _machine(16 * GIB, None)) == 0
    assert auto_gpu_layers(layout, 2048, machine, gpu_available=False) == 0
    assert auto_gpu_layers(layout, 2048, _machine(16 * GIB, 64 * GIB)) == 5


def test_flash_attention_auto_is_priced_as_on_and_off_adds_the_attention_scores(
    layout: ModelLayout,
) -> None:
    on = estimate_memory(layout, 2048, 0, flash_attn="on")
    assert estimate_memory(layout, 2048, 0, flash_attn="auto") == on
    assert estimate_memory(layout, 2048, 0, flash_attn=True) == on  # an old bool setting
    off = estimate_memory(layout, 2048, 0, flash_attn="off")
    assert off.compute_cpu > on.compute_cpu and off.kv_bytes == on.kv_bytes


def test_parse_nvidia_smi() -> None:
    gpus = parse_nvidia_smi("NVIDIA GeForce RTX 4090, 24564, 23000\ngarbage\n")
    assert gpus == (GpuMemory("NVIDIA GeForce RTX 4090", 24564 * MIB, 23000 * MIB),)


def test_extra_vram_for_all_layers_is_what_the_missing_layers_take(layout: ModelLayout) -> None:
    every = estimate_memory(layout, 2048, -1).vram_bytes
    assert extra_vram_for_all_layers(layout, 2048, 0) == every  # runtime overhead included
    two = estimate_memory(layout, 2048, 2).vram_bytes
    assert extra_vram_for_all_layers(layout, 2048, 2) == every - two > 0
    assert extra_vram_for_all_layers(layout, 2048, layout.n_layers + 1) == 0


def test_the_swap_counter_counts_from_its_start(monkeypatch: pytest.MonkeyPatch) -> None:
    readings = iter([1000, 5000])
    monkeypatch.setattr(machine, "swapped_in_bytes", lambda: next(readings))
    assert machine.SwapCounter.start().since_start() == 4000
    monkeypatch.setattr(machine, "swapped_in_bytes", lambda: None)
    assert machine.SwapCounter.start().since_start() is None  # a platform without the counter
    assert machine.SwapCounter(None).since_start() is None
    assert isinstance(machine.physical_cores(), int | None)
