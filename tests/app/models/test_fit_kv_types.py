"""The fit estimate with KV cache types (issue 13): K and V priced by their own type, the
saving against f16 shown, and the estimate equal to what llama.cpp allocates for each type."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.models.fit import (
    KV_BYTES_PER_ELEMENT,
    estimate_memory,
    evaluate_fit,
    kv_bytes_per_layer,
)
from app.models.fit_breakdown import kv_cache_text
from app.models.gguf_layout import ModelLayout, read_layout
from app.models.machine import MachineMemory
from inference.engine_process import EngineProcess
from inference.kv_cache_rules import KV_CACHE_BLOCK
from inference.protocol import ModelInfo
from tests.support.engine_helpers import load
from tests.support.tiny_gguf import build_tiny_model

GIB = 1 << 30
MIB = 1 << 20


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 32-wide heads (n_embd 64 / 2 heads), so every quantized type fits with flash attention.
    return build_tiny_model(
        tmp_path_factory.mktemp("fitkv") / "wide.gguf", n_layer=3, n_head=2, n_head_kv=2
    )


@pytest.fixture(scope="module")
def layout(model: Path) -> ModelLayout:
    return read_layout(model)


def test_every_type_the_engine_takes_has_a_price() -> None:
    assert set(KV_BYTES_PER_ELEMENT) == set(KV_CACHE_BLOCK)
    assert KV_BYTES_PER_ELEMENT["q8_0"] == 34 / 32 and KV_BYTES_PER_ELEMENT["q4_0"] == 18 / 32


def test_k_and_v_are_priced_by_their_own_type(layout: ModelLayout) -> None:
    cells, width, heads = 1024, 32, 2
    mixed = kv_bytes_per_layer(layout, cells, type_k="q8_0", type_v="f16")
    assert mixed == [int(heads * width * cells * (34 / 32 + 2))] * 3
    q4 = kv_bytes_per_layer(layout, cells, type_k="q4_0", type_v="q4_0")
    assert q4 == [int(heads * width * cells * 2 * 18 / 32)] * 3


def test_estimate_reports_the_saving_against_f16(layout: ModelLayout) -> None:
    f16 = estimate_memory(layout, 4096, 0)
    q8 = estimate_memory(layout, 4096, 0, type_k="q8_0", type_v="q8_0", flash_attn=True)
    assert f16.kv_saved == 0 and q8.kv_f16 == f16.kv_bytes
    assert q8.kv_saved == f16.kv_bytes - q8.kv_bytes > 0
    assert q8.ram_bytes < f16.ram_bytes
    assert kv_cache_text(f16) == "KV cache 3.0 MiB"
    assert kv_cache_text(q8) == "KV cache 1.6 MiB (q8_0/q8_0: saves 1.4 MiB against f16)"
    f32 = estimate_memory(layout, 4096, 0, type_k="f32", type_v="f16")
    assert "1.5 MiB more than f16" in kv_cache_text(f32)


def test_verdict_counts_the_cache_types(layout: ModelLayout) -> None:
    machine = MachineMemory(ram_available_bytes=4 * GIB)
    plain = evaluate_fit(layout, 32768, 0, machine)
    small = evaluate_fit(layout, 32768, 0, machine, type_k="q4_0", type_v="q4_0", flash_attn=True)
    assert small.estimate.kv_bytes < plain.estimate.kv_bytes
    assert small.estimate.type_v == "q4_0"


def test_estimate_equals_llama_cpp_kv_buffer_for_each_type(
    engine: EngineProcess, model: Path, layout: ModelLayout
) -> None:
    for k, v in (("f16", "f16"), ("q8_0", "f16"), ("q8_0", "q8_0"), ("q4_0", "q4_0")):
        info = load(engine, model, n_ctx=2048, type_k=k, type_v=v, flash_attn=True)
        assert isinstance(info, ModelInfo), info
        estimate = estimate_memory(layout, 2048, 0, flash_attn=True, type_k=k, type_v=v)
        # llama.cpp logs the buffer in MiB with two decimals.
        assert estimate.kv_bytes == pytest.approx(info.memory.kv_ram, abs=0.01 * MIB), (k, v)
