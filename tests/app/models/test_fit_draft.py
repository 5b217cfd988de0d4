"""The fit verdict counts a draft model (issue 13): its weights, its KV cache at the main
model's context and cache types and its compute buffers, placed as the engine loads it (all on
the GPU when the main model uses the GPU at all, else on the CPU), so a draft that does not fit
beside the model changes the verdict and Auto's GPU layers, not only the breakdown text."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.models import machine as machine_module
from app.models.fit import (
    GPU_RUNTIME_OVERHEAD,
    RAM_HEADROOM,
    VRAM_HEADROOM,
    FitKind,
    auto_gpu_layers,
    estimate_memory,
    evaluate_fit,
)
from app.models.fit_breakdown import draft_memory_text
from app.models.gguf_layout import ModelLayout, read_layout
from app.models.machine import GpuMemory, MachineMemory
from app.models.settings import estimate_auto_gpu_layers
from inference.kv_cache_rules import FLASH_OFF as OFF
from inference.protocol import EngineSettings
from tests.support.tiny_gguf import build_tiny_model

GIB = 1 << 30


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("fit_draft")
    return {
        "main": build_tiny_model(
            folder / "main.gguf", n_layer=4, n_embd=128, n_head=8, n_head_kv=2
        ),
        "draft": build_tiny_model(folder / "draft.gguf", n_layer=1, n_embd=32, seed=5),
        "wider": build_tiny_model(folder / "wider.gguf", n_layer=1, n_embd=32, extra_vocab=7),
    }


@pytest.fixture(scope="module")
def layouts(files: dict[str, Path]) -> tuple[ModelLayout, ModelLayout]:
    return read_layout(files["main"]), read_layout(files["draft"])


def _machine(ram: int, vram_free: int | None = None) -> MachineMemory:
    gpus = () if vram_free is None else (GpuMemory("Test GPU", vram_free, vram_free),)
    return MachineMemory(ram, gpus)


def test_the_draft_is_counted_where_the_engine_puts_it(
    layouts: tuple[ModelLayout, ModelLayout],
) -> None:
    main, draft = layouts
    for layers, draft_layers in ((0, 0), (2, -1), (-1, -1)):
        alone = estimate_memory(main, 4096, layers, type_k="q8_0", type_v="q8_0")
        both = estimate_memory(main, 4096, layers, type_k="q8_0", type_v="q8_0", draft=draft)
        own = estimate_memory(draft, 4096, draft_layers, type_k="q8_0", type_v="q8_0")
        assert both.draft is not None and both.draft.kv_bytes == own.kv_bytes > 0
        assert both.draft.type_k == "q8_0" and both.draft.n_ctx == 4096
        # One engine process: the GPU runtime is paid once.
        overhead = GPU_RUNTIME_OVERHEAD if layers else 0
        assert both.ram_bytes == alone.ram_bytes + own.ram_bytes
        assert both.vram_bytes == alone.vram_bytes + own.vram_bytes - overhead
        # The main model's own fields (the breakdown's weights, KV cache) stay its own.
        assert (both.weights_cpu, both.kv_bytes) == (alone.weights_cpu, alone.kv_bytes)
        assert draft_memory_text(both).startswith("The draft model adds ")
        assert draft_memory_text(alone) == ""
    cpu = estimate_memory(main, 4096, 0, draft=draft)
    assert cpu.draft is not None and cpu.draft.vram_bytes == 0  # no layer on the GPU: none


def test_a_draft_that_does_not_fit_beside_the_model_changes_the_verdict(
    layouts: tuple[ModelLayout, ModelLayout],
) -> None:
    main, draft = layouts
    alone = estimate_memory(main, 4096, 0)
    both = estimate_memory(main, 4096, 0, draft=draft)
    machine = _machine(alone.ram_bytes + RAM_HEADROOM + (both.ram_bytes - alone.ram_bytes) // 2)
    assert evaluate_fit(main, 4096, 0, machine).kind is FitKind.CPU
    verdict = evaluate_fit(main, 4096, 0, machine, draft=draft)
    assert verdict.kind is FitKind.WONT_FIT
    assert verdict.estimate.ram_bytes == both.ram_bytes


def test_auto_gpu_layers_leave_room_for_the_draft(
    layouts: tuple[ModelLayout, ModelLayout],
) -> None:
    # Written with flash attention off (its attention scores make each layer dearer); the
    # draft is counted the same way with it on.
    main, draft = layouts
    # Free VRAM for 3 layers with the draft beside them: all 5 fit without it.
    three = estimate_memory(main, 4096, 3, draft=draft, flash_attn=OFF)
    machine = _machine(16 * GIB, three.vram_bytes + VRAM_HEADROOM)
    assert auto_gpu_layers(main, 4096, machine, flash_attn=OFF) == 5
    with_draft = auto_gpu_layers(main, 4096, machine, draft=draft, flash_attn=OFF)
    assert with_draft == 3
    assert evaluate_fit(main, 4096, -1, machine, flash_attn=OFF).kind is FitKind.GPU
    verdict = evaluate_fit(main, 4096, -1, machine, draft=draft, flash_attn=OFF)
    assert verdict.kind is FitKind.WONT_FIT and verdict.auto_gpu_layers == with_draft
    # Too little VRAM for the draft beside even one layer: Auto runs all on the CPU.
    one = estimate_memory(main, 4096, 1, draft=draft, flash_attn=OFF)
    small = _machine(16 * GIB, one.vram_bytes + VRAM_HEADROOM - 1)
    assert auto_gpu_layers(main, 4096, small, draft=draft, flash_attn=OFF) == 0


def test_the_engines_auto_layers_count_a_draft_model_it_would_load(
    files: dict[str, Path],
    layouts: tuple[ModelLayout, ModelLayout],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    main, draft = layouts
    three = estimate_memory(main, 4096, 3, draft=draft, flash_attn=OFF)
    machine = _machine(16 * GIB, three.vram_bytes + VRAM_HEADROOM)
    monkeypatch.setattr(machine_module, "detect_machine", lambda: machine)
    base = EngineSettings(model_path=str(files["main"]), n_ctx=4096, flash_attn=OFF)
    assert estimate_auto_gpu_layers(base) == 5
    drafted = EngineSettings(
        model_path=str(files["main"]),
        n_ctx=4096,
        draft_model_path=str(files["draft"]),
        flash_attn=OFF,
    )
    assert estimate_auto_gpu_layers(drafted) == 3
    # One the engine would refuse (another vocabulary, no file) takes no memory.
    for refused in (files["wider"], files["main"].parent / "gone.gguf"):
        other = EngineSettings(
            model_path=str(files["main"]), n_ctx=4096, draft_model_path=str(refused), flash_attn=OFF
        )
        assert estimate_auto_gpu_layers(other) == 5
